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

constexpr size_t kMaxReserved = 24;
// Low memory holds the real-mode IVT, BIOS data and option ROMs.
constexpr uint64_t kLowMemoryEnd = 1 << 20;

struct Reservations {
    PhysicalRange ranges[kMaxReserved];
    size_t count = 0;

    void add(uint64_t base, uint64_t size)
    {
        if (size == 0 || count == kMaxReserved)
            return;
        ranges[count++]
            = { align_down(base, kPageSize), align_up(base + size, kPageSize) - align_down(base, kPageSize) };
    }

    bool overlaps(uint64_t base, uint64_t size) const
    {
        for (size_t i = 0; i < count; i++) {
            if (base < ranges[i].base + ranges[i].size && ranges[i].base < base + size)
                return true;
        }
        return false;
    }
};

constexpr LockClass kPmmLockClass { "pmm", LockRank::Pmm, false };
Spinlock g_lock { kPmmLockClass };
BuddyAllocator g_buddy GUARDED_BY(g_lock);
const BootInfo* g_boot = nullptr;
Reservations g_reserved GUARDED_BY(g_lock);
uint64_t g_limit = 0;
size_t g_usable_pages = 0;

// Free [base, end) minus the reserved ranges, restricted to [low, high).
void free_usable(uint64_t base, uint64_t end, uint64_t low, uint64_t high) REQUIRES(g_lock)
{
    base = max(align_up(base, kPageSize), low);
    end = min(align_down(end, kPageSize), high);
    while (base < end) {
        // Find the first reservation that cuts into [base, end).
        uint64_t cut_start = end;
        uint64_t cut_end = end;
        for (size_t i = 0; i < g_reserved.count; i++) {
            const PhysicalRange& range = g_reserved.ranges[i];
            if (range.base < end && range.base + range.size > base && range.base < cut_start) {
                cut_start = max(range.base, base);
                cut_end = min(range.base + range.size, end);
            }
        }
        if (cut_start > base)
            g_buddy.free_range(base >> arch::kPageShift, (cut_start - base) >> arch::kPageShift);
        base = cut_end;
    }
}

void free_regions(uint64_t low, uint64_t high) REQUIRES(g_lock)
{
    for (size_t i = 0; i < g_boot->region_count; i++) {
        const MemoryRegion& region = g_boot->regions[i];
        if (region.type == MemoryType::Usable)
            free_usable(region.base, region.base + region.size, max(low, kLowMemoryEnd), high);
    }
}

} // namespace

Result<void> pmm_init(const BootInfo& boot, uint64_t limit)
{
    SpinlockGuard guard(g_lock);
    g_boot = &boot;
    g_limit = limit;

    uint64_t lowest = ~0ull;
    uint64_t highest = 0;
    for (size_t i = 0; i < boot.region_count; i++) {
        const MemoryRegion& region = boot.regions[i];
        if (region.type != MemoryType::Usable)
            continue;
        uint64_t base = align_up(region.base, kPageSize);
        uint64_t end = align_down(region.base + region.size, kPageSize);
        if (end <= base)
            continue;
        lowest = min(lowest, base);
        highest = max(highest, end);
        g_usable_pages += (end - base) / kPageSize;
    }
    if (highest == 0)
        return Err(Error::ENOMEM);

    uint64_t kernel_start = arch::kernel_image_phys_start();
    uint64_t kernel_end = arch::kernel_image_virt_to_phys(reinterpret_cast<uint64_t>(__kernel_end));
    g_reserved.add(kernel_start, kernel_end - kernel_start);
    if (boot.has_initrd)
        g_reserved.add(boot.initrd_phys, boot.initrd_size);
    for (size_t i = 0; i < boot.boot_data_count; i++)
        g_reserved.add(boot.boot_data[i].base, boot.boot_data[i].size);

    // The page metadata array goes in the first usable gap below `limit`
    // that is big enough.
    uint64_t page_count = (highest - lowest) / kPageSize;
    uint64_t metadata_bytes = align_up(page_count * sizeof(BuddyAllocator::PageInfo), kPageSize);
    uint64_t metadata = 0;
    for (size_t i = 0; i < boot.region_count && metadata == 0; i++) {
        const MemoryRegion& region = boot.regions[i];
        if (region.type != MemoryType::Usable)
            continue;
        uint64_t candidate = max(align_up(region.base, kPageSize), kLowMemoryEnd);
        uint64_t end = min(region.base + region.size, limit);
        while (candidate + metadata_bytes <= end) {
            if (!g_reserved.overlaps(candidate, metadata_bytes)) {
                metadata = candidate;
                break;
            }
            candidate += kPageSize;
        }
    }
    if (metadata == 0)
        return Err(Error::ENOMEM);
    g_reserved.add(metadata, metadata_bytes);

    auto* pages = static_cast<BuddyAllocator::PageInfo*>(arch::phys_to_virt(metadata));
    g_buddy.init(lowest >> arch::kPageShift, page_count, pages);
    free_regions(0, limit);
    log_info("pmm: %zu MiB usable, page metadata %zu KiB at %#llx", size_t(g_usable_pages * kPageSize >> 20),
        size_t(metadata_bytes >> 10), (unsigned long long)metadata);
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

void free_pages(uint64_t phys)
{
    SpinlockGuard guard(g_lock);
    auto result = g_buddy.free(phys >> arch::kPageShift);
    if (result.is_error())
        log_err("pmm: bad free of %#llx (%s)", (unsigned long long)phys, error_name(result.error()));
}

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
