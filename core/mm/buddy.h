// Physical page allocator: a binary buddy system over a span of page frame
// numbers.
//
// The allocator keeps all of its state in caller-provided metadata (per
// page, like Linux's struct page: a flags byte, and a PageInfo that only a
// block's head page uses) and never reads or writes the pages it manages.
// That keeps it usable before anything is mapped (boot hands it the
// firmware memory map and metadata carved out of usable RAM), makes it
// independent of how physical memory is mapped, and lets host tests drive
// it with made-up frame numbers.
//
// Blocks are aligned to their size in *absolute* frame numbers, so an
// order-9 block is a 2 MiB-aligned physical range even when the span's base
// is not aligned. The buddy of block `pfn` of order `k` is `pfn ^ (1 << k)`.
// The head page of every block records the block's order and whether it is
// free or allocated; that is how free() finds the size and rejects frames
// that are not the head of an allocated block.
//
// A block can be freed "cold": it goes to the end of its free list, and
// alloc() hands out cold blocks only when no list it could split from has
// a block that is not cold. A cold block merges only with a cold buddy;
// when nothing is large enough, alloc() first thaws every cold block
// (merging it with its warm buddies) and looks again, so that cold never
// makes an allocation fail. The kernel frees pages that held module code
// cold: under QEMU's TCG every store to a page that still holds translated
// code takes a slow path, so a module loaded again should not land on them
// (docs/performance.md). Cold is a preference only: no page is held back.
//
// Single pages freed warm can be kept "hot" (set_hot_capacity; the kernel
// keeps up to 16, tests choose): on a small stack instead of the lists,
// unmerged, for the next alloc(0) to take back at once. A page freed and
// allocated again per network packet otherwise merged with its buddy all
// the way up and was split all the way down each time (docs/performance.md,
// "Issue 16, the send path"). Hot pages count as free; alloc() and
// alloc_below() merge them back (drain_hot) before they would fail, as
// they thaw cold blocks, so keeping them never makes an allocation fail.
//
// Thread safety is the caller's (the kernel wraps it in a spinlock).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel {

class BuddyAllocator {
public:
    static constexpr unsigned kMaxOrder = 10; // 2^10 pages = 4 MiB blocks
    static constexpr unsigned kOrderCount = kMaxOrder + 1;
    // Index-based links keep PageInfo at 12 bytes; this limits one allocator
    // to 2^32 - 1 pages (16 TiB), beyond which init() ignores the excess.
    static constexpr uint32_t kNoPage = 0xffffffff;
    static constexpr size_t kMaxPages = kNoPage;

    // A block's head page: its order, and its links while it is on a free
    // list. Nothing reads another page's entry, so init() leaves them all
    // as they are; only the flags (one byte a page, apart) start as zeros.
    struct PageInfo {
        uint32_t next;
        uint32_t prev;
        uint8_t order;
        uint8_t unused[3];
    };

    // The metadata init() needs for `page_count` pages: their flags, eight
    // byte aligned, then their PageInfo entries.
    static constexpr size_t metadata_bytes(size_t page_count)
    {
        return flags_bytes(page_count) + page_count * sizeof(PageInfo);
    }

    BuddyAllocator() = default;
    BuddyAllocator(const BuddyAllocator&) = delete;
    BuddyAllocator& operator=(const BuddyAllocator&) = delete;

    // Manages frames [base_pfn, base_pfn + page_count) with `metadata`
    // (metadata_bytes(page_count) bytes, 8-byte aligned, owned by the
    // caller). Every frame starts reserved: only free_range makes memory
    // allocatable.
    void init(uint64_t base_pfn, size_t page_count, void* metadata);

    // Hands usable RAM to the allocator, merging it into the largest aligned
    // blocks. Frames outside the span, or handed over before, are ignored;
    // returns how many frames were added.
    size_t free_range(uint64_t pfn, size_t count);

    // A free block of 2^order frames aligned to its size; ENOMEM when there
    // is none, EINVAL when order > kMaxOrder.
    Result<uint64_t> alloc(unsigned order);
    // The same, lying wholly below frame `limit_pfn` (for devices that
    // cannot reach every address); the lists are searched, so this costs
    // more than alloc().
    Result<uint64_t> alloc_below(unsigned order, uint64_t limit_pfn);

    // Returns a block from alloc(). EINVAL, with nothing changed, when `pfn`
    // is not the head of an allocated block (double free, interior frame,
    // frame outside the span). A cold block is handed out last (above).
    Result<void> free(uint64_t pfn, bool cold = false);

    // The order of the allocated block whose head is `pfn` (EINVAL if none).
    Result<unsigned> allocated_order(uint64_t pfn) const;

    size_t free_pages() const { return m_free_pages; }
    size_t total_pages() const { return m_total_pages; }
    size_t free_blocks(unsigned order) const;
    uint64_t base_pfn() const { return m_base_pfn; }
    size_t page_count() const { return m_page_count; }

    // Keeps up to `capacity` (at most kHotCapacity) single pages hot;
    // 0, the default, none. Lowering it merges the excess back.
    static constexpr size_t kHotCapacity = 16;
    void set_hot_capacity(size_t capacity);
    size_t hot_pages() const { return m_hot_count; }
    // Merges every hot page back into the lists; returns how many there were.
    size_t drain_hot();

    // Frees every cold block again warm, merging it with its buddies as far
    // as they go (alloc() does when nothing is large enough); returns how
    // many there were.
    size_t thaw();

    // Walks every free list and cross-checks it against the page metadata
    // and counters. O(pages); for tests and debug assertions.
    bool check_invariants() const;

private:
    enum Flags : uint8_t {
        kUsable = 1 << 0,    // handed over by free_range
        kFreeHead = 1 << 1,  // head of a block on a free list
        kAllocHead = 1 << 2, // head of an allocated block
        kCold = 1 << 3,      // a free head at the end of its list: hand out last
        kHot = 1 << 4,       // a free single page on the hot stack, not on a list
    };

    static constexpr size_t flags_bytes(size_t page_count) { return (page_count + 7) & ~size_t(7); }
    bool contains(uint64_t pfn) const { return pfn >= m_base_pfn && pfn - m_base_pfn < m_page_count; }
    PageInfo& info(uint64_t pfn) { return m_pages[pfn - m_base_pfn]; }
    const PageInfo& info(uint64_t pfn) const { return m_pages[pfn - m_base_pfn]; }
    uint8_t& flags(uint64_t pfn) { return m_flags[pfn - m_base_pfn]; }
    uint8_t flags(uint64_t pfn) const { return m_flags[pfn - m_base_pfn]; }
    void mark_usable(uint64_t& run_end, uint64_t end);

    void push_free(uint64_t pfn, unsigned order, bool cold = false);
    void remove_free(uint64_t pfn, unsigned order);
    void free_block(uint64_t pfn, unsigned order, bool cold = false);
    uint64_t take_block(uint64_t pfn, unsigned found, unsigned order);
    unsigned find_order(unsigned order) const;
    uint64_t take_hot(size_t slot);

    uint64_t m_base_pfn = 0;
    size_t m_page_count = 0;
    PageInfo* m_pages = nullptr;
    uint8_t* m_flags = nullptr;
    uint32_t m_free_heads[kOrderCount] = {};
    uint32_t m_free_tails[kOrderCount] = {};
    size_t m_free_counts[kOrderCount] = {};
    size_t m_free_pages = 0;
    size_t m_total_pages = 0;
    uint32_t m_hot[kHotCapacity] = {}; // page indexes, the last freed last
    size_t m_hot_count = 0;
    size_t m_hot_capacity = 0;
};

} // namespace keel
