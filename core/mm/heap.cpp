#include "mm/heap.h"

#include "arch/memory_layout.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "mm/pmm.h"
#include "mm/reclaim.h"
#include "mm/slab.h"
#include "sync/spinlock.h"

namespace keel {

namespace {

// Slabs and large allocations come straight from the buddy allocator
// through the direct map.
Result<void*> heap_alloc_pages(void*, unsigned order)
{
    uint64_t phys = TRY(alloc_pages(order));
    return arch::phys_to_virt(phys);
}

Result<void> heap_free_pages(void*, void* pages)
{
    free_pages(arch::virt_to_phys_direct(pages));
    return {};
}

Result<unsigned> heap_block_order(void*, void* pages) { return allocated_order(arch::virt_to_phys_direct(pages)); }

constexpr LockClass kHeapLockClass { "heap", LockRank::Heap, false };
Spinlock g_lock { kHeapLockClass };
Heap g_heap GUARDED_BY(g_lock) { PageSource { heap_alloc_pages, heap_free_pages, heap_block_order, nullptr } };

} // namespace

void heap_init() { }

void* kmalloc(size_t size)
{
    for (bool retried = false;; retried = true) {
        {
            SpinlockGuard guard(g_lock);
            auto result = g_heap.alloc(size);
            if (result.is_ok())
                return result.value();
        }
        // Out of memory: caches give back what they can (the block
        // cache's clean blocks), once.
        if (retried || reclaim_memory(size < 4096 ? 4096 : size) == 0)
            return nullptr;
    }
}

void* kzalloc(size_t size)
{
    void* pointer = kmalloc(size);
    if (pointer)
        memset(pointer, 0, size);
    return pointer;
}

void kfree(void* pointer)
{
    if (!pointer)
        return;
    SpinlockGuard guard(g_lock);
    if (g_heap.free(pointer).is_error())
        log_err("kfree: %p is not a live heap allocation (double free?)", pointer);
}

HeapStats heap_stats()
{
    SpinlockGuard guard(g_lock);
    Heap::Stats stats = g_heap.stats();
    size_t allocations = stats.large_allocations;
    for (size_t objects : stats.class_objects)
        allocations += objects;
    return { stats.bytes_in_use, allocations };
}

} // namespace keel

// The kernel has no exceptions: plain `new` is not used (make<T>() is the
// fallible form), but the compiler still wants the deallocation functions
// for classes with virtual destructors.
void operator delete(void* pointer) noexcept { keel::kfree(pointer); }
void operator delete(void* pointer, size_t) noexcept { keel::kfree(pointer); }
