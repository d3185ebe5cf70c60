// How the machine was booted, as the architecture's entry sees it.
#pragma once

#include <stdint.h>

namespace keel {
struct BootInfo;
}

namespace keel::arch {

// The architecture's name in the boot banner.
inline constexpr const char* kName = "x86_64";

// Fill `info` from the PVH start info at `start_info_phys`. When the
// structure itself is unusable, info.problem says why; individual bad
// entries are dropped and counted.
void parse_pvh_start_info(uint64_t start_info_phys, BootInfo& info);

// The CPU's own tables (on x86_64 the GDT, TSS and IDT): exceptions are
// handled from here on.
void cpu_init();
// Firmware tables and interrupt controllers (ACPI, the local and I/O APIC).
void platform_init(const BootInfo& boot);

} // namespace keel::arch
