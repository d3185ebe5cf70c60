// How the machine was booted, as the architecture's entry sees it.
#pragma once

#include <stdint.h>

namespace keel {
struct BootInfo;
}

namespace keel::arch {

// The architecture's name in the boot banner.
inline constexpr const char* kName = "aarch64";

// The CPU's own state: exception vectors (exceptions are handled from here on).
void cpu_init();
// The interrupt controller and the PSCI conduit the device tree named.
void platform_init(const BootInfo& boot);

} // namespace keel::arch
