// Power off and reboot.
#pragma once

#include <stdint.h>

namespace keel::arch {

// Under QEMU, `isa-debug-exit` (port 0xf4) ends the emulator with status
// (code << 1) | 1, which scripts/run decodes back to `code`; elsewhere the
// ACPI S5 sleep state powers the machine off.
[[noreturn]] void poweroff(int code);
[[noreturn]] void reboot();

// Give the ACPI layer's findings to the power code (FADT PM1 control ports,
// S5 sleep type, reset register).
struct AcpiPowerInfo {
    uint16_t pm1a_control;
    uint16_t pm1b_control;
    uint16_t slp_typ_a;
    uint16_t slp_typ_b;
    bool s5_valid;
    bool reset_valid;
    uint8_t reset_space; // 1 = system I/O
    uint64_t reset_address;
    uint8_t reset_value;
};
void set_acpi_power_info(const AcpiPowerInfo& info);

} // namespace keel::arch
