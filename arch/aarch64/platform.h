// What the device tree said about this machine, kept by the architecture:
// the RAM the direct map covers and the devices it brings up itself (the
// console UART, the interrupt controller, the timer, PSCI). Filled by
// read_device_tree at entry, before anything else runs.
#pragma once

#include <stdint.h>

#include "lib/fdt/machine.h"

namespace keel {
struct BootInfo;
}

namespace keel::arch {

// The device tree at `fdt_phys` into `info` (the core's part) and
// platform() (the architecture's). When the tree is unusable, info.problem
// says why.
void read_device_tree(uint64_t fdt_phys, BootInfo& info);
const fdt::Machine& platform();

// Map a device page before vmalloc exists (the console UART): a slot of
// the fixmap, which paging_init carries into the kernel's page tables.
volatile void* early_map_device(uint64_t phys);

} // namespace keel::arch
