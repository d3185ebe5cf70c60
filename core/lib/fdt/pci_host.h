// A generic PCIe host bridge as the device tree describes it (the
// "pci-host-ecam-generic" binding of Linux's host-generic-pci.yaml and the
// PCI bus binding, IEEE 1275): the ECAM window and its buses, the windows
// through which the CPU reaches BARs (`ranges`), where each root-bus
// slot's INTx pin arrives (`interrupt-map` with `interrupt-map-mask`) and
// which MSI controller takes the functions' messages (`msi-parent` or
// `msi-map`).
//
// The properties are hostile input: every length is checked against the
// cell counts it must be made of, and a property that breaks a rule makes
// the whole bridge unusable with a message naming the property and the
// entry, rather than a part of it being misread.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/fdt/fdt.h"
#include "lib/fdt/interrupt.h"
#include "lib/pci/window.h"

namespace keel::fdt {

// The host bridge's node, as the walk found it.
struct PciHostNode {
    Property reg, bus_range, ranges, interrupt_map, interrupt_map_mask, msi_parent, msi_map;
    uint32_t address_cells;        // the bridge's own: 3 for PCI
    uint32_t size_cells;           // 2 for PCI on 64-bit machines
    uint32_t interrupt_cells;      // 1 for PCI
    uint32_t parent_address_cells; // of its parent: for `reg` and the CPU side of `ranges`
    uint32_t parent_size_cells;
    // `reg` of each child node whose status is not "okay", in tree order.
    static constexpr size_t kMaxDisabled = 16;
    Property disabled[kMaxDisabled];
    size_t disabled_count;
};

using PciWindow = pci::Window;

struct PciIntxRoute {
    uint32_t address[3]; // the child unit address (phys.hi, mid, lo), masked
    uint32_t pin;        // 1 = INTA .. 4 = INTD, masked
    GicInterrupt interrupt;
};

struct PciHost {
    static constexpr size_t kMaxWindows = 8;
    static constexpr size_t kMaxIntx = 64;

    bool present;
    bool usable; // false: `problem` says why
    char problem[160];
    struct {
        uint64_t base, size;
    } ecam;
    uint32_t bus_start, bus_end;
    PciWindow windows[kMaxWindows];
    size_t window_count;
    // interrupt-map-mask: the child unit address's three cells and the pin
    // (all ones when the property is absent).
    uint32_t intx_mask[3], intx_mask_pin;
    PciIntxRoute intx[kMaxIntx];
    size_t intx_count;
    uint32_t msi_controller; // phandle of msi-parent or msi-map's single target; 0 none
    // msi-map: requester IDs rid_base..rid_base+length-1 are the controller's
    // device IDs msi_base... (none: msi-parent, where the ID is the
    // requester ID itself).
    struct MsiMap {
        uint32_t rid_base, msi_base, length;
    };
    static constexpr size_t kMaxMsiMap = 8;
    MsiMap msi_map[kMaxMsiMap];
    size_t msi_map_count;
    // Root-bus functions a child node of the bridge marks with a status
    // other than "okay" (its `reg` names device and function, as the PCI
    // bus binding has it): the core leaves them alone, as Linux does.
    // devfn (device << 3 | function); children past kMaxDisabled are
    // counted in Machine::dropped, those with a `reg` that is not whole
    // entries in disabled_ignored (and read_machine adds them to dropped).
    static constexpr size_t kMaxDisabled = PciHostNode::kMaxDisabled;
    uint8_t disabled[kMaxDisabled];
    size_t disabled_ignored;
    size_t disabled_count;
};

// The device ID the MSI controller knows requester `rid` (bus << 8 | devfn)
// by: through msi-map when the bridge has one, else `rid` itself. False
// when msi-map covers no such requester.
bool pci_host_msi_device_id(const PciHost& host, uint32_t rid, uint32_t& device_id);

// Decodes `node` into `host` (cleared first). A malformed property fails
// with EINVAL and a message naming it; `host.present` is set either way.
Result<void> read_pci_host(const PciHostNode& node, const InterruptParent* parents, size_t parent_count, PciHost& host,
    Diagnostic& diagnostic);

// Whether the tree disabled function `devfn` of bus `bus` (only the root
// bus's can be).
bool pci_host_function_disabled(const PciHost& host, uint8_t bus, uint8_t devfn);

// The GIC interrupt the bridge's interrupt-map gives INTx `pin` (0 = INTA)
// of root-bus slot `slot`; false when no entry matches.
bool pci_host_intx(const PciHost& host, uint8_t slot, uint8_t pin, GicInterrupt& interrupt);

} // namespace keel::fdt
