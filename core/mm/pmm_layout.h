// What the page allocator will make of a boot memory map, worked out
// without touching anything: where its metadata goes and how much memory
// it hands out. pmm_init builds the allocator from it, and the boot checks
// a memmap= reservation with it before applying one, so that nothing on
// the command line can leave the kernel without memory to boot.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "lib/base/result.h"

namespace keel {

struct PhysicalRange {
    uint64_t base;
    uint64_t size;
};

// Usable RAM the allocator must not hand out: the kernel image, the
// initramfs, the boot protocol's data, the allocator's own metadata.
// Whole pages; a full set drops further ranges (kMaxReserved is more than
// the boot ever adds).
struct PhysicalReservations {
    static constexpr size_t kMaxReserved = 24;
    PhysicalRange ranges[kMaxReserved];
    size_t count = 0;

    void add(uint64_t base, uint64_t size);
    // The first range that overlaps [base, base + size), or nullptr.
    const PhysicalRange* overlap(uint64_t base, uint64_t size) const;
};

struct PmmLayout {
    uint64_t lowest = 0;  // page-aligned span of usable RAM
    uint64_t highest = 0; // (end)
    size_t usable_pages = 0;
    uint64_t metadata = 0; // physical address of the page metadata array
    uint64_t metadata_bytes = 0;
    uint64_t free_below_limit = 0; // bytes the allocator gets before the direct map covers everything
};

// Below this, low memory holds the real-mode IVT, BIOS data and option ROMs.
inline constexpr uint64_t kLowMemoryEnd = 1 << 20;

// Plans the allocator for `boot` with metadata below `limit` (what the
// boot page tables map); `reserved` receives the kernel image, the
// initramfs, the boot data and the metadata. ENOMEM when there is no
// usable RAM or no room for the metadata.
Result<PmmLayout> plan_pmm_layout(
    const BootInfo& boot, uint64_t limit, PhysicalRange kernel_image, PhysicalReservations& reserved);

// Calls `visit(base, end)` for every page-aligned range of usable RAM in
// [low, high) (and above 1 MiB) that no reservation covers.
template<typename Visit>
void for_each_free_range(
    const BootInfo& boot, const PhysicalReservations& reserved, uint64_t low, uint64_t high, Visit&& visit);

} // namespace keel

#include "mm/pmm_layout_impl.h"
