// for_each_free_range, a template shared by the planner and the allocator.
#pragma once

#include "lib/base/utility.h"
#include "mm/pmm_layout.h"

namespace keel {

namespace pmm_detail {

inline constexpr uint64_t kPageSize = 4096;

template<typename Visit>
void free_parts(const PhysicalReservations& reserved, uint64_t base, uint64_t end, Visit& visit)
{
    while (base < end) {
        // The first reservation that cuts into [base, end).
        uint64_t cut_start = end;
        uint64_t cut_end = end;
        for (size_t i = 0; i < reserved.count; i++) {
            const PhysicalRange& range = reserved.ranges[i];
            if (range.base < end && range.base + range.size > base && range.base < cut_start) {
                cut_start = max(range.base, base);
                cut_end = min(range.base + range.size, end);
            }
        }
        if (cut_start > base)
            visit(base, cut_start);
        base = cut_end;
    }
}

} // namespace pmm_detail

template<typename Visit>
void for_each_free_range(
    const BootInfo& boot, const PhysicalReservations& reserved, uint64_t low, uint64_t high, Visit&& visit)
{
    using pmm_detail::kPageSize;
    low = max(low, kLowMemoryEnd);
    for (size_t i = 0; i < boot.region_count; i++) {
        const MemoryRegion& region = boot.regions[i];
        if (region.type != MemoryType::Usable)
            continue;
        uint64_t base = max(align_up(region.base, kPageSize), low);
        uint64_t end = min(align_down(region.base + region.size, kPageSize), high);
        if (base < end)
            pmm_detail::free_parts(reserved, base, end, visit);
    }
}

} // namespace keel
