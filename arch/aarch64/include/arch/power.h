// Power off and reboot through PSCI (the conduit the device tree names).
#pragma once

namespace keel::arch {

// Under QEMU with semihosting (scripts/run enables it), the semihosting
// SYS_EXIT_EXTENDED call ends the emulator with `code` as its exit status;
// elsewhere PSCI SYSTEM_OFF powers the machine off.
[[noreturn]] void poweroff(int code);
[[noreturn]] void reboot();

} // namespace keel::arch
