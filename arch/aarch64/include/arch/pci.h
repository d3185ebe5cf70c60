// What the architecture tells the PCI core, from the device tree's generic
// PCIe host bridge ("pci-host-ecam-generic", core/lib/fdt/pci_host.h): the
// ECAM window, the windows the core places unassigned BARs in (QEMU's virt
// machine booted without firmware assigns none), and where each root-bus
// slot's INTx pin arrives (the bridge's interrupt-map, GIC SPIs). There is
// no legacy configuration mechanism.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/pci/window.h"

namespace keel::arch {

// Bus b, device d, function f at phys + (b << 20 | d << 15 | f << 12).
struct PciEcamWindow {
    uint64_t phys; // of bus 0 of the segment
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
};
size_t pci_ecam_windows(PciEcamWindow* out, size_t capacity);

inline bool pci_legacy_config_available() { return false; }
inline uint32_t pci_legacy_config_read(uint8_t, uint8_t, uint8_t, uint16_t, unsigned) { return 0xffffffff; }
inline void pci_legacy_config_write(uint8_t, uint8_t, uint8_t, uint16_t, unsigned, uint32_t) { }

// INTx `pin` (0 = INTA) of root-bus slot `slot`, after the core's swizzle:
// the interrupt-map's GIC SPI (route.gsi is its INTID).
struct IntxRoute {
    uint32_t gsi;
    bool level_triggered;
    bool active_low;
};
bool pci_intx_route(
    uint16_t host_vendor, uint16_t host_device, uint8_t slot, uint8_t pin, IntxRoute& route, const char*& why);

// Whether a child node of the bridge for this root-bus function has a
// status other than "okay": the core then leaves the function alone.
bool pci_function_disabled(uint16_t segment, uint8_t bus, uint8_t devfn);

// The host bridge's `ranges`: where BARs may be placed and how a bus
// address becomes a CPU address.
using PciBarWindow = pci::Window;
size_t pci_bar_windows(uint16_t segment, PciBarWindow* out, size_t capacity);

} // namespace keel::arch
