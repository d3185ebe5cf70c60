// The vmalloc region: virtually contiguous kernel mappings built from
// individual pages, each with an unmapped guard page below it. Kernel
// stacks live here (an overflow hits the guard and faults instead of
// silently corrupting a neighbour), and so do module images and device
// registers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel {

// Fresh zeroed pages mapped with `flags` (arch::PageFlags).
Result<void*> vmalloc(size_t size, unsigned flags);
// The same without zeroing, for a caller that writes every byte before
// anything reads it (the module loader): one pass over the memory, not two.
Result<void*> vmalloc_uninitialized(size_t size, unsigned flags);
void vfree(void* address);
// Change the permissions of a whole vmalloc area (module W^X after relocation).
Result<void> vprotect(void* address, size_t size, unsigned flags);
// Map device registers uncached.
Result<void*> map_mmio(uint64_t phys, size_t size);

size_t vmalloc_area_count();

} // namespace keel
