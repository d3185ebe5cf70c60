// Physical memory: a buddy allocator over every usable page the boot
// memory map reports, minus the kernel image, the initramfs, the boot
// protocol's data and the allocator's own metadata.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "lib/base/result.h"
#include "mm/pmm_layout.h"

namespace keel {

// Where the kernel image sits in physical memory.
PhysicalRange kernel_image_range();

// Hands memory below `limit` to the allocator (the boot page tables map
// only that much); the rest follows in pmm_add_high_memory() once the
// direct map covers everything.
Result<void> pmm_init(const BootInfo& boot, uint64_t limit);
void pmm_add_high_memory();

Result<uint64_t> alloc_pages(unsigned order); // physical address
// The same, wholly below physical address `limit` (a device's DMA reach).
Result<uint64_t> alloc_pages_below(unsigned order, uint64_t limit);
void free_pages(uint64_t phys);
// The same, for pages that held code: handed out again after every other
// free page (BuddyAllocator's cold blocks; vmalloc frees module code so).
void free_pages_cold(uint64_t phys);
// The order of the allocated block starting at `phys` (EINVAL otherwise).
Result<unsigned> allocated_order(uint64_t phys);
// A zeroed page, returned through the direct map.
Result<void*> alloc_zeroed_page();
void free_page_virt(void* page);

// Give a reserved range (the initramfs after unpacking) to the allocator.
void pmm_release(uint64_t phys, uint64_t size);

struct MemoryStats {
    size_t total_pages; // pages the allocator manages
    size_t free_pages;
    size_t reserved_pages; // usable RAM kept back (kernel, initramfs, metadata)
};
MemoryStats pmm_stats();

} // namespace keel
