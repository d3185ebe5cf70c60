// TSC calibration: count TSC cycles across a known interval of the HPET's
// main counter (its period is in its capabilities register), or of PIT
// channel 2 where there is no HPET.
#include "arch/acpi.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "mm/vmalloc.h"

namespace keel::arch {

namespace {

constexpr uint64_t kCalibrationWindowUs = 2000;

uint64_t calibrate_with_hpet(uint64_t hpet_phys)
{
    auto mapping = map_mmio(hpet_phys, 1024);
    if (mapping.is_error())
        return 0;
    auto* hpet = static_cast<volatile uint64_t*>(mapping.value());
    uint64_t capabilities = hpet[0];
    uint64_t period_fs = capabilities >> 32;     // femtoseconds per tick
    if (period_fs == 0 || period_fs > 100000000) // the spec caps it at 100 ns
        return 0;
    hpet[2] = hpet[2] | 1; // general configuration: enable
    uint64_t ticks = kCalibrationWindowUs * 1000000000ull / period_fs;
    uint64_t counter_start = hpet[30];
    uint64_t tsc_start = rdtsc();
    uint64_t counter_now;
    do {
        counter_now = hpet[30];
    } while (counter_now - counter_start < ticks);
    uint64_t tsc_end = rdtsc();
    uint64_t elapsed_fs = (counter_now - counter_start) * period_fs;
    if (elapsed_fs < 1000000000ull) // under 1 us: a 32-bit counter wrapped; the caller falls back to the PIT
        return 0;
    // cycles per second = cycles / (elapsed_fs / 1e15)
    return (tsc_end - tsc_start) * 1000000ull / (elapsed_fs / 1000000000ull);
}

uint64_t calibrate_with_pit()
{
    constexpr uint64_t kPitHz = 1193182;
    uint16_t count = uint16_t(kPitHz * kCalibrationWindowUs / 1000000);
    // Channel 2, gate on, speaker off; mode 0 (interrupt on terminal count).
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);
    outb(0x43, 0xb0);
    outb(0x42, uint8_t(count));
    outb(0x42, uint8_t(count >> 8));
    uint64_t tsc_start = rdtsc();
    for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++) {
        if (spins > 100000000)
            return 0;
    }
    uint64_t tsc_end = rdtsc();
    return (tsc_end - tsc_start) * 1000000ull / kCalibrationWindowUs;
}

} // namespace

namespace {

uint64_t calibrate(const char*& source)
{
    if (uint64_t hpet = acpi_info().hpet_phys) {
        if (uint64_t hz = calibrate_with_hpet(hpet)) {
            source = "HPET";
            return hz;
        }
    }
    source = "PIT";
    return calibrate_with_pit();
}

} // namespace

uint64_t calibrate_cycle_counter(const char*& source)
{
    // The LAPIC timer counts across the same window (timer_start then
    // needs no window of its own: 1 ms less of boot).
    lapic_timer_calibration_begin();
    uint64_t hz = calibrate(source);
    lapic_timer_calibration_end();
    return hz;
}

} // namespace keel::arch
