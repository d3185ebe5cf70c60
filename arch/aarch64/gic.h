// The GIC's CPU interface, as exception entry uses it, and its shared
// interrupts as device interrupts and GICv2m use them.
#pragma once

#include "lib/fdt/machine.h"

namespace keel::arch {

// The interrupt being taken (its ID; 1020 and above: spurious).
unsigned gic_acknowledge();
// Signal the end of `intid` unless the handler already did
// (end_of_interrupt()).
void gic_end_if_pending(unsigned intid);

// SPI `intid`: masked, then level-triggered (or rising edge), routed to
// this CPU at the device priority. False when there is no GIC or `intid`
// is not an SPI.
bool gic_configure_spi(unsigned intid, bool edge);
void gic_enable_spi(unsigned intid, bool enabled);

// GICv2m's MSI frame (gic_v2m.cpp), when the tree has one and the GIC is v2.
void gic_v2m_init(const fdt::Machine& machine);

} // namespace keel::arch
