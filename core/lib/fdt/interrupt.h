// Interrupt specifiers of the device tree as an Arm GIC reads them, and
// the nodes other nodes name as their interrupt parent (by phandle).
#pragma once

#include <stdint.h>

namespace keel::fdt {

// A GIC interrupt specifier (#interrupt-cells = 3).
struct GicInterrupt {
    static constexpr uint32_t kSpi = 0;
    static constexpr uint32_t kPpi = 1;
    uint32_t type;   // kSpi or kPpi
    uint32_t number; // SPI n is INTID 32 + n, PPI n is INTID 16 + n
    uint32_t flags;  // trigger: 1 edge rising, 2 edge falling, 4 level high, 8 level low

    uint32_t intid() const { return type == kPpi ? 16 + number : 32 + number; }
    bool level_triggered() const { return (flags & 0xc) != 0; }
    bool active_low() const { return (flags & 0xf) == 2 || (flags & 0xf) == 8; }
};

// The three cells as a GIC specifier: false unless the type is SPI or PPI
// and the number within what the GIC architecture allows (988 SPIs, 16 PPIs).
bool read_gic_interrupt(uint32_t type, uint32_t number, uint32_t flags, GicInterrupt& out);

struct Property;
// `compatible` names a GIC whose specifiers this reads: arm,gic-v3,
// arm,cortex-a15-gic or arm,gic-400.
bool is_gic_compatible(const Property& compatible);

// A node that others name by phandle as interrupt parent or MSI controller.
struct InterruptParent {
    uint32_t phandle;
    uint32_t address_cells;   // its own #address-cells; 0 when absent
    uint32_t interrupt_cells; // its #interrupt-cells; 0 when absent
    bool is_gic;              // arm,gic-v3, arm,cortex-a15-gic or arm,gic-400
};

} // namespace keel::fdt
