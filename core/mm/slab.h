// The kernel heap core: slab caches for small objects and whole pages for
// large ones, on top of an injected page source (the buddy allocator in the
// kernel, aligned_alloc in host tests).
//
// Slabs are single 4 KiB pages. A SlabHeader sits at the start of the page
// and the objects follow it, so no slab object is ever page-aligned. Large
// allocations (> 1024 bytes) are 2^order whole pages and always are. That
// is how Heap::free tells the two apart without any lookup: a page-aligned
// pointer is large, anything else belongs to the slab whose header is at
// the start of its page.
//
// A free object holds a magic word and the free-list link; free() checks
// the magic and, only if it matches, confirms against the slab's free list,
// so double frees are reported (EINVAL) instead of corrupting the list.
// A slab whose objects are all free goes back to the page source at once:
// freeing everything returns the heap to its baseline page count.
//
// Nothing here locks; the kernel wraps the Heap in a spinlock.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel {

static constexpr size_t kPageSize = 4096;

// Where the heap gets its memory. Blocks are 2^order pages, page-aligned;
// the source remembers each block's order.
struct PageSource {
    Result<void*> (*alloc_pages)(void* ctx, unsigned order);
    // Error (EINVAL) for a pointer that is not an allocated block.
    Result<void> (*free_pages)(void* ctx, void* pages);
    // The order of an allocated block (EINVAL for anything else).
    Result<unsigned> (*block_order)(void* ctx, void* pages);
    void* ctx;
};

class SlabCache {
public:
    static constexpr size_t kMinObjectSize = 16;
    static constexpr size_t kAlignment = 16;

    // Objects start this far into the slab page, after the SlabHeader.
    static constexpr size_t kFirstObjectOffset = 48;

    // `object_size` is rounded up to a multiple of 16 and must leave room
    // for at least one object in a page (<= 1024 in practice; alloc() fails
    // with EINVAL otherwise). constexpr so that a global heap is constant-
    // initialised and needs no constructor call at boot.
    constexpr SlabCache(size_t object_size, PageSource source)
        : m_source(source)
        , m_object_size(align_up(max(object_size, kMinObjectSize), kAlignment))
        , m_objects_per_slab(
              m_object_size <= kPageSize - kFirstObjectOffset ? (kPageSize - kFirstObjectOffset) / m_object_size : 0)
    {
    }
    SlabCache(const SlabCache&) = delete;
    SlabCache& operator=(const SlabCache&) = delete;

    Result<void*> alloc();
    // EINVAL for a pointer that is not a live object of this cache.
    Result<void> free(void* object);
    // Whether `object` lies in a slab of this cache (not whether it is live).
    bool owns(const void* object) const;

    size_t object_size() const { return m_object_size; }
    size_t objects_per_slab() const { return m_objects_per_slab; }
    size_t objects_in_use() const { return m_objects_in_use; }
    size_t slab_count() const { return m_slab_count; }

    // The cache that owns the slab `object` lies in, or null when the page
    // does not start with a valid slab header.
    static SlabCache* cache_of(const void* object);

private:
    struct FreeObject;
    struct SlabHeader;

    Result<SlabHeader*> grow();
    void unlink_partial(SlabHeader* slab);
    void push_partial(SlabHeader* slab);

    PageSource m_source;
    size_t m_object_size;
    size_t m_objects_per_slab;
    SlabHeader* m_partial = nullptr; // slabs with at least one free object
    size_t m_objects_in_use = 0;
    size_t m_slab_count = 0;
};

class Heap {
public:
    // No 2 KiB class: after the slab's header a page holds one 2 KiB
    // object, the same memory as a page of its own, and the slab's
    // bookkeeping (a page taken, threaded and given back for each object
    // that comes and goes, as a network packet's buffer does) on top.
    static constexpr size_t kClassCount = 7;
    static constexpr size_t kClassSizes[kClassCount] = { 16, 32, 64, 128, 256, 512, 1024 };
    static constexpr size_t kMaxSlabSize = 1024;
    static constexpr unsigned kMaxLargeOrder = 30;

    struct Stats {
        size_t bytes_in_use;      // sum of allocation_size() over live allocations
        size_t large_allocations; // live page-backed allocations
        size_t large_pages;       // pages they occupy
        size_t class_objects[kClassCount];
        size_t class_slabs[kClassCount];
    };

    constexpr explicit Heap(PageSource source)
        : m_source(source)
        , m_caches {
            { kClassSizes[0], source },
            { kClassSizes[1], source },
            { kClassSizes[2], source },
            { kClassSizes[3], source },
            { kClassSizes[4], source },
            { kClassSizes[5], source },
            { kClassSizes[6], source },
        }
    {
    }
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    // At least 16-byte aligned; sizes above 1024 get whole pages (page
    // aligned). Size 0 returns a unique minimal (16-byte) allocation, as
    // malloc(0) may, so callers need no special case. ENOMEM on exhaustion.
    Result<void*> alloc(size_t size);
    // nullptr is accepted. EINVAL for double frees and foreign pointers
    // (which must still be readable: the slab header at the start of their
    // page is inspected). A double free of the last live object of a slab is
    // not caught, because that slab's page has already gone back.
    Result<void> free(void* ptr);
    // Usable size of a live allocation (its size class or its pages);
    // 0 for nullptr or a pointer the heap does not recognise.
    size_t allocation_size(const void* ptr) const;

    size_t bytes_in_use() const { return m_bytes_in_use; }
    Stats stats() const;

private:
    static int class_index(size_t size);

    PageSource m_source;
    SlabCache m_caches[kClassCount];
    size_t m_bytes_in_use = 0;
    size_t m_large_allocations = 0;
    size_t m_large_pages = 0;
};

} // namespace keel
