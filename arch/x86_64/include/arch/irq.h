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

// The cycle counter's (the TSC's) rate in Hz, measured against the HPET
// (or the PIT when there is no HPET); `source` names which.
uint64_t calibrate_cycle_counter(const char*& source);
// Periodic local APIC timer interrupts at `hz`.
void timer_start(unsigned hz, uint64_t tsc_hz, InterruptHandler handler);

} // namespace keel::arch
