// The GIC's CPU interface, as exception entry uses it, and its shared
// interrupts as device interrupts and GICv2m use them.
#pragma once

#include "arch/irq.h"
#include "lib/fdt/machine.h"

namespace keel::arch {

// The interrupt being taken: its vector (the INTID, or for an LPI the MSI
// vector it stands for; kMaxInterrupts and above: spurious or unknown).
unsigned gic_acknowledge();
// Signal the end of the interrupt delivered as `vector` unless the handler
// already did (end_of_interrupt()).
void gic_end_if_pending(unsigned vector);

// SPI `intid`: masked, then level-triggered (or rising edge), routed to
// this CPU at the device priority. False when there is no GIC or `intid`
// is not an SPI.
bool gic_configure_spi(unsigned intid, bool edge);
void gic_enable_spi(unsigned intid, bool enabled);

// GICv2m's MSI frame (gic_v2m.cpp), when the tree has one and the GIC is v2.
void gic_v2m_init(const fdt::Machine& machine);
bool gic_v2m_ready();
void gic_v2m_vector_range(unsigned& first, unsigned& last);
MsiMessage gic_v2m_message(unsigned vector);

// GICv3's ITS (gic_its.cpp), when the tree has one and the GIC is v3;
// `redistributor` is this CPU's RD_base frame, mapped.
void gic_its_init(const fdt::Machine& machine, volatile uint8_t* redistributor);
bool gic_its_ready();
void gic_its_vector_range(unsigned& first, unsigned& last);
MsiMessage gic_its_message(unsigned vector, uint32_t requester_id);
void gic_its_release(unsigned vector, uint32_t requester_id);
// The LPI an MSI vector arrives as, and back (false: not an MSI vector's LPI).
unsigned gic_its_lpi(unsigned vector);
bool gic_its_vector_of(unsigned intid, unsigned& vector);

} // namespace keel::arch
