// What an architecture (with its firmware) tells the PCI core: where the
// configuration space is, and where a function's INTx pin arrives. On
// x86_64 the windows come from ACPI's MCFG, the fallback is the 0xCF8/0xCFC
// mechanism, and INTx routing is the chipset's (the core never names
// either). An architecture without a legacy mechanism returns false from
// pci_legacy_config_available.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/pci/window.h"

namespace keel::arch {

// Memory-mapped configuration space (PCIe ECAM): bus b, device d, function
// f at phys + (b << 20 | d << 15 | f << 12), 4 KiB each.
struct PciEcamWindow {
    uint64_t phys; // of bus 0 of the segment
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
};
size_t pci_ecam_windows(PciEcamWindow* out, size_t capacity);

// The legacy mechanism: segment 0, the first 256 bytes of each function,
// naturally aligned accesses of 1, 2 or 4 bytes. The caller serialises (the
// index register is shared).
bool pci_legacy_config_available();
uint32_t pci_legacy_config_read(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width);
void pci_legacy_config_write(
    uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width, uint32_t value);

// Where INTx `pin` (0 = INTA) of the root-bus slot `slot` arrives (after
// the core swizzled it through any bridges), given the host bridge's ids.
// False when the platform's routing is not known (then only MSI and MSI-X
// work); `why` says so.
struct IntxRoute {
    uint32_t gsi; // interrupt controller input (global system interrupt)
    bool level_triggered;
    bool active_low;
};
bool pci_intx_route(
    uint16_t host_vendor, uint16_t host_device, uint8_t slot, uint8_t pin, IntxRoute& route, const char*& why);

// Windows through which the CPU reaches BARs, for the core to place BARs
// the firmware left unassigned and to turn a BAR's bus address into a CPU
// address. None on PCs: the firmware assigns every BAR and bus addresses
// are CPU addresses, so the core uses the BARs as they are.
using PciBarWindow = pci::Window;
inline size_t pci_bar_windows(uint16_t, PciBarWindow*, size_t) { return 0; }

// No firmware table here disables a function the bus enumerates.
inline bool pci_function_disabled(uint16_t, uint8_t, uint8_t) { return false; }

} // namespace keel::arch
