// The ACPI tables the core needs: interrupt controllers (MADT), the HPET,
// PCI configuration windows (MCFG) and power control (FADT, the \_S5 sleep
// type in the DSDT). Every table is
// checksummed and bounds-checked before use; a broken table is logged and
// ignored, never fatal.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::arch {

struct IsaOverride {
    uint8_t isa_irq;
    uint32_t gsi;
    bool active_low;
    bool level_triggered;
};

struct AcpiInfo {
    bool valid;
    uint64_t lapic_phys;
    struct {
        uint8_t id;
        uint64_t phys;
        uint32_t gsi_base;
    } ioapics[4];
    size_t ioapic_count;
    IsaOverride overrides[16];
    size_t override_count;
    uint64_t hpet_phys; // 0: none
    size_t cpu_count;
    // MCFG: memory-mapped PCI configuration space (ECAM), 1 MiB per bus.
    struct {
        uint64_t phys; // of bus 0 of the segment, as MCFG gives it
        uint16_t segment;
        uint8_t bus_start;
        uint8_t bus_end;
    } ecam[4];
    size_t ecam_count;
};

// `rsdp_phys` from the boot protocol (0: search the BIOS areas).
void acpi_init(uint64_t rsdp_phys);
const AcpiInfo& acpi_info();

} // namespace keel::arch
