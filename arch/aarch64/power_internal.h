// Between the power code and exception entry: semihosting is probed by
// calling it, and the undefined-instruction exception that follows where
// QEMU has it off is stepped over.
#pragma once

#include <stdint.h>

namespace keel::arch {

// True (once) when `pc` is the semihosting call a probe is making.
bool semihosting_probe_faulted(uint64_t pc);

} // namespace keel::arch
