// PCI configuration access and interrupt routing for core/device: not on
// this architecture yet (QEMU virt's ECAM window is described by the device
// tree, which nothing reads for PCI), so no windows, no legacy mechanism,
// no INTx routes; the pci bus finds no functions.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::arch {

struct PciEcamWindow {
    uint64_t phys; // of bus 0 of the segment
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
};
inline size_t pci_ecam_windows(PciEcamWindow*, size_t) { return 0; }

inline bool pci_legacy_config_available() { return false; }
inline uint32_t pci_legacy_config_read(uint8_t, uint8_t, uint8_t, uint16_t, unsigned) { return 0xffffffff; }
inline void pci_legacy_config_write(uint8_t, uint8_t, uint8_t, uint16_t, unsigned, uint32_t) { }

struct IntxRoute {
    uint32_t gsi;
    bool level_triggered;
    bool active_low;
};
inline bool pci_intx_route(uint16_t, uint16_t, uint8_t, uint8_t, IntxRoute&, const char*& why)
{
    why = "no INTx routing on this architecture yet";
    return false;
}

} // namespace keel::arch
