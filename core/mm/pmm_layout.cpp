#include "mm/pmm_layout.h"

#include "lib/base/utility.h"
#include "mm/buddy.h"

namespace keel {

namespace {

constexpr uint64_t kPageSize = pmm_detail::kPageSize;

} // namespace

void PhysicalReservations::add(uint64_t base, uint64_t size)
{
    if (size == 0 || count == kMaxReserved)
        return;
    uint64_t start = align_down(base, kPageSize);
    ranges[count++] = { start, align_up(base + size, kPageSize) - start };
}

const PhysicalRange* PhysicalReservations::overlap(uint64_t base, uint64_t size) const
{
    for (size_t i = 0; i < count; i++) {
        if (base < ranges[i].base + ranges[i].size && ranges[i].base < base + size)
            return &ranges[i];
    }
    return nullptr;
}

Result<PmmLayout> plan_pmm_layout(
    const BootInfo& boot, uint64_t limit, PhysicalRange kernel_image, PhysicalReservations& reserved)
{
    PmmLayout layout;
    uint64_t lowest = ~0ull;
    for (size_t i = 0; i < boot.region_count; i++) {
        const MemoryRegion& region = boot.regions[i];
        if (region.type != MemoryType::Usable)
            continue;
        uint64_t base = align_up(region.base, kPageSize);
        uint64_t end = align_down(region.base + region.size, kPageSize);
        if (end <= base)
            continue;
        lowest = min(lowest, base);
        layout.highest = max(layout.highest, end);
        layout.usable_pages += (end - base) / kPageSize;
    }
    if (layout.highest == 0)
        return Err(Error::ENOMEM);
    layout.lowest = lowest;

    reserved.add(kernel_image.base, kernel_image.size);
    if (boot.has_initrd)
        reserved.add(boot.initrd_phys, boot.initrd_size);
    for (size_t i = 0; i < boot.boot_data_count; i++)
        reserved.add(boot.boot_data[i].base, boot.boot_data[i].size);

    // The page metadata array goes in the first usable gap below `limit`
    // that is big enough.
    uint64_t page_count = (layout.highest - layout.lowest) / kPageSize;
    layout.metadata_bytes = align_up(BuddyAllocator::metadata_bytes(page_count), kPageSize);
    for (size_t i = 0; i < boot.region_count && layout.metadata == 0; i++) {
        const MemoryRegion& region = boot.regions[i];
        if (region.type != MemoryType::Usable)
            continue;
        uint64_t candidate = max(align_up(region.base, kPageSize), kLowMemoryEnd);
        uint64_t end = min(region.base + region.size, limit);
        while (candidate + layout.metadata_bytes <= end) {
            const PhysicalRange* in_the_way = reserved.overlap(candidate, layout.metadata_bytes);
            if (!in_the_way) {
                layout.metadata = candidate;
                break;
            }
            candidate = in_the_way->base + in_the_way->size; // page-aligned
        }
    }
    if (layout.metadata == 0)
        return Err(Error::ENOMEM);
    reserved.add(layout.metadata, layout.metadata_bytes);
    for_each_free_range(
        boot, reserved, 0, limit, [&](uint64_t base, uint64_t end) { layout.free_below_limit += end - base; });
    return layout;
}

} // namespace keel
