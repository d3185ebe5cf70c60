// The physical memory map the boot loader reported, as the core uses it.
#pragma once

#include <stdint.h>

namespace keel {

struct BootInfo;

// Apply `memmap=` from the command line to the memory map.
void apply_memmap_parameter(BootInfo& boot);
// Log the map, one line per region, and the entries the arch dropped.
void log_memory_map(const BootInfo& boot);
// One past the highest byte of RAM (usable or ACPI), for the direct map.
uint64_t physical_end(const BootInfo& boot);

} // namespace keel
