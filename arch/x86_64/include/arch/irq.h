// Interrupt controllers (legacy PIC masked, local APIC, I/O APIC) and the
// clock sources the core's timekeeping is calibrated from.
#pragma once

#include <stdint.h>

#include "arch/interrupts.h"

namespace keel::arch {

void interrupt_controllers_init();
// Deliver ISA IRQ `isa_irq` (after ACPI overrides) to `handler`.
void irq_attach_isa(unsigned isa_irq, InterruptHandler handler);
void end_of_interrupt();

// Interrupt controller inputs (GSIs) for devices: route `gsi` to `vector`
// on this CPU, masked until unmasked. False when no I/O APIC has that input.
bool irq_route_gsi(uint32_t gsi, unsigned vector, bool level_triggered, bool active_low);
void irq_mask_gsi(uint32_t gsi, bool masked);

// A message-signalled interrupt (PCI MSI and MSI-X): what the device
// writes, and where, to raise `vector` on this CPU. Without an IOMMU the
// requester (bus << 8 | devfn) makes no difference.
struct MsiMessage {
    uint64_t address; // 0: no message (never on x86)
    uint32_t data;
};
MsiMessage msi_message(unsigned vector, uint32_t requester_id);
// Nothing to undo on x86_64: the message names the vector itself.
inline void msi_release(unsigned, uint32_t) { }
// The vectors MSI and MSI-X may use: any device vector.
inline void msi_vector_range(unsigned& first, unsigned& last)
{
    first = kDeviceVectorFirst;
    last = kDeviceVectorLast;
}
// The vector input `gsi` must arrive on, or 0 when the core picks one: the
// I/O APIC routes any input to any vector.
inline unsigned irq_gsi_vector(uint32_t) { return 0; }

// The cycle counter's (the TSC's) rate in Hz, measured against the HPET
// (or the PIT when there is no HPET); `source` names which. The HPET's
// window opens in platform_init (cycle_counter_calibration_begin, once the
// ACPI tables name the HPET), so the boot waits only for what is left of it.
void cycle_counter_calibration_begin();
uint64_t calibrate_cycle_counter(const char*& source);
// The LAPIC timer's rate is measured in the TSC's calibration window (from
// platform_init, or within calibrate_cycle_counter without an HPET, to its
// end), so timer_start needs no window of its own.
void lapic_timer_calibration_begin();
void lapic_timer_calibration_end();
// Periodic local APIC timer interrupts at `hz`.
void timer_start(unsigned hz, uint64_t tsc_hz, InterruptHandler handler);

} // namespace keel::arch
