// The interrupt controller (GICv2 or GICv3, as the device tree says) and
// the generic timer, whose counter is the core's clock.
#pragma once

#include <stdint.h>

#include "arch/interrupts.h"

namespace keel::arch {

void interrupt_controllers_init();
// Route interrupt `intid` to this CPU and deliver it to `handler`.
void irq_attach(unsigned intid, InterruptHandler handler);
void end_of_interrupt();

// The cycle counter's rate in Hz (the generic timer's CNTFRQ_EL0);
// `source` names where it came from.
uint64_t calibrate_cycle_counter(const char*& source);
// Periodic timer interrupts at `hz`.
void timer_start(unsigned hz, uint64_t cycles_hz, InterruptHandler handler);

// Device interrupts (core/device). An interrupt-controller input (a "GSI"
// to the core) is a GIC INTID, and its vector is that INTID: SPIs from 32
// to kDeviceVectorLast can be routed, level-triggered active high or
// rising edge (the GIC knows no other kinds).
inline unsigned irq_gsi_vector(uint32_t gsi) { return gsi; }
bool irq_route_gsi(uint32_t gsi, unsigned vector, bool level_triggered, bool active_low);
void irq_mask_gsi(uint32_t gsi, bool masked);

// Message-signalled interrupts, through GICv3's ITS (the message's data is
// an event the ITS turns into an LPI) or GICv2m (a frame whose MSI_SETSPI
// register raises the SPI written to it). Without either the range is
// empty and PCI functions fall back to INTx.
void msi_vector_range(unsigned& first, unsigned& last);
struct MsiMessage {
    uint64_t address; // 0: no message for this vector and requester
    uint32_t data;
};
// The message for `vector` from PCI requester `requester_id` (bus << 8 |
// devfn). Also configures the interrupt (the SPI, or the ITS's mapping of
// the requester's event to the LPI) and enables it: the function's MSI
// mask is what masks it.
MsiMessage msi_message(unsigned vector, uint32_t requester_id);
// The function no longer sends `vector`'s message (its MSI is off): undo
// what msi_message set up for it (the ITS's mapping of the event).
void msi_release(unsigned vector, uint32_t requester_id);

} // namespace keel::arch
