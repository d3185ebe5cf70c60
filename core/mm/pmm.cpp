#include "mm/pmm.h"

#include "arch/memory_layout.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "log/log.h"
#include "mm/buddy.h"
#include "sync/spinlock.h"

extern "C" char __kernel_end[];

namespace keel {

namespace {

using arch::kPageSize;

constexpr LockClass kPmmLockClass { "pmm", LockRank::Pmm, false };
Spinlock g_lock { kPmmLockClass };
BuddyAllocator g_buddy GUARDED_BY(g_lock);
const BootInfo* g_boot = nullptr;
PhysicalReservations g_reserved GUARDED_BY(g_lock);
uint64_t g_limit = 0;
size_t g_usable_pages = 0;

void free_regions(uint64_t low, uint64_t high) REQUIRES(g_lock)
{
    for_each_free_range(*g_boot, g_reserved, low, high, [](uint64_t base, uint64_t end) NO_THREAD_SAFETY_ANALYSIS {
        g_buddy.free_range(base >> arch::kPageShift, (end - base) >> arch::kPageShift);
    });
}

} // namespace

PhysicalRange kernel_image_range()
{
    uint64_t start = arch::kernel_image_phys_start();
    uint64_t end = arch::kernel_image_virt_to_phys(reinterpret_cast<uint64_t>(__kernel_end));
    return { start, end - start };
}

Result<void> pmm_init(const BootInfo& boot, uint64_t limit)
{
    SpinlockGuard guard(g_lock);
    PmmLayout layout = TRY(plan_pmm_layout(boot, limit, kernel_image_range(), g_reserved));
    g_boot = &boot;
    g_limit = limit;
    g_usable_pages = layout.usable_pages;
    g_buddy.init(layout.lowest >> arch::kPageShift, (layout.highest - layout.lowest) / kPageSize,
        arch::phys_to_virt(layout.metadata));
    g_buddy.set_hot_capacity(BuddyAllocator::kHotCapacity);
    free_regions(0, limit);
    log_info("pmm: %zu MiB usable, page metadata %zu KiB at %#llx", size_t(g_usable_pages * kPageSize >> 20),
        size_t(layout.metadata_bytes >> 10), (unsigned long long)layout.metadata);
    return {};
}

void pmm_add_high_memory()
{
    SpinlockGuard guard(g_lock);
    free_regions(g_limit, ~0ull);
}

Result<uint64_t> alloc_pages(unsigned order)
{
    SpinlockGuard guard(g_lock);
    uint64_t pfn = TRY(g_buddy.alloc(order));
    return pfn << arch::kPageShift;
}

Result<uint64_t> alloc_pages_below(unsigned order, uint64_t limit)
{
    SpinlockGuard guard(g_lock);
    uint64_t pfn = TRY(g_buddy.alloc_below(order, limit >> arch::kPageShift));
    return pfn << arch::kPageShift;
}

namespace {

void free_pages_as(uint64_t phys, bool cold)
{
    SpinlockGuard guard(g_lock);
    auto result = g_buddy.free(phys >> arch::kPageShift, cold);
    if (result.is_error())
        log_err("pmm: bad free of %#llx (%s)", (unsigned long long)phys, error_name(result.error()));
}

} // namespace

void free_pages(uint64_t phys) { free_pages_as(phys, false); }

void free_pages_cold(uint64_t phys) { free_pages_as(phys, true); }

Result<unsigned> allocated_order(uint64_t phys)
{
    SpinlockGuard guard(g_lock);
    return g_buddy.allocated_order(phys >> arch::kPageShift);
}

Result<void*> alloc_zeroed_page()
{
    uint64_t phys = TRY(alloc_pages(0));
    void* page = arch::phys_to_virt(phys);
    memset(page, 0, kPageSize);
    return page;
}

void free_page_virt(void* page) { free_pages(arch::virt_to_phys_direct(page)); }

void pmm_release(uint64_t phys, uint64_t size)
{
    SpinlockGuard guard(g_lock);
    // Drop the reservation (it covered whole pages, partial ones at the
    // edges included), then free the usable RAM under it, minus whatever
    // else is still reserved there (boot data sharing an edge page).
    uint64_t base = align_down(phys, kPageSize);
    uint64_t end = align_up(phys + size, kPageSize);
    for (size_t i = 0; i < g_reserved.count; i++) {
        if (g_reserved.ranges[i].base == base && g_reserved.ranges[i].size == end - base) {
            g_reserved.ranges[i] = g_reserved.ranges[--g_reserved.count];
            break;
        }
    }
    free_regions(base, end);
}

MemoryStats pmm_stats()
{
    SpinlockGuard guard(g_lock);
    MemoryStats stats;
    stats.total_pages = g_buddy.total_pages();
    stats.free_pages = g_buddy.free_pages();
    stats.reserved_pages = g_usable_pages > stats.total_pages ? g_usable_pages - stats.total_pages : 0;
    return stats;
}

} // namespace keel
