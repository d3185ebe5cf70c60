// The physical memory map the boot loader reported, as the core uses it.
#pragma once

#include <stdint.h>

namespace keel {

struct BootInfo;

// Apply every `memmap=` of the command line to the memory map.
void apply_memmap_parameter(BootInfo& boot);
// Apply one `memmap=` value, nn[KMG]$ss[KMG]: false (and logged) when it
// is malformed, outside physical memory, or would leave the kernel less
// than 16 MiB (or less than the machine had) to boot with; `boot` is then
// unchanged.
bool apply_memmap(BootInfo& boot, const char* text);
// Log the map, one line per region, and the entries the arch dropped.
void log_memory_map(const BootInfo& boot);
// One past the highest byte of RAM (usable or ACPI), for the direct map.
uint64_t physical_end(const BootInfo& boot);

} // namespace keel
