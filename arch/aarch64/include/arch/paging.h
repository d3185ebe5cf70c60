// Kernel page tables (4 levels of 4 KiB translation tables). The core maps through these calls
// only; how an architecture encodes permissions stays here.
#pragma once

#include <stdint.h>

#include "lib/base/result.h"

namespace keel::arch {

enum PageFlags : unsigned {
    kPageRead = 0, // every mapping is readable
    kPageWrite = 1 << 0,
    kPageExecute = 1 << 1,
    kPageUncached = 1 << 2, // device memory
};

// Build the kernel address space: the direct map of [0, phys_end), the
// kernel image with per-section permissions (W^X), nothing at address 0;
// then switch to it.
Result<void> paging_init(uint64_t phys_end);

Result<void> map_page(uint64_t virt, uint64_t phys, unsigned flags);
// Returns the physical page that was mapped there.
Result<uint64_t> unmap_page(uint64_t virt);
Result<void> protect_page(uint64_t virt, unsigned flags);
bool translate(uint64_t virt, uint64_t& phys, unsigned& flags);

} // namespace keel::arch
