// Kernel page tables (4-level paging). The core maps through these calls
// only; how an architecture encodes permissions stays here.
#pragma once

#include <stddef.h>
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
// The same for `count` consecutive pages (on AArch64 batched, with one TLB
// maintenance pass per range). map_pages maps nothing when it fails;
// unmap_pages stores each page's physical address in phys[] (0 where
// nothing was mapped).
Result<void> map_pages(uint64_t virt, const uint64_t* phys, size_t count, unsigned flags);
void unmap_pages(uint64_t virt, size_t count, uint64_t* phys);
Result<void> protect_pages(uint64_t virt, size_t count, unsigned flags);
bool translate(uint64_t virt, uint64_t& phys, unsigned& flags);

} // namespace keel::arch
