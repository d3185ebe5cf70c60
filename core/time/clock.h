// The monotonic clock: nanoseconds since boot, from the TSC once it has
// been calibrated (against the HPET, or the PIT where there is none).
#pragma once

#include <stdint.h>

namespace keel::time {

// 0 until the clock is calibrated (as Linux's early printk timestamps).
uint64_t monotonic_ns();
inline uint64_t monotonic_us() { return monotonic_ns() / 1000; }
// Raw cycle count and its rate, for the finest measurements.
uint64_t cycles();
uint64_t cycles_per_second();
// The TSC value at kernel entry, for boot-time measurement.
uint64_t boot_cycles();

// Called first thing at kernel entry.
void record_boot_cycles();
void clock_init();

} // namespace keel::time
