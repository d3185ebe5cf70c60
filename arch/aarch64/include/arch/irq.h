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

} // namespace keel::arch
