// TSC calibration: count TSC cycles across a known interval of the HPET's
// main counter (its period is in its capabilities register), or of PIT
// channel 2 where there is no HPET.
#include "arch/acpi.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "mm/vmalloc.h"

namespace keel::arch {

namespace {

// Short, because the boot waits out what other work did not fill: each
// end of the window is a pair (counter, TSC) taken with the TSC read on
// both sides of the counter's, the tightest of a few tries, so what a
// slow read or an interrupt of the host adds to one end does not count. Under QEMU the ends are within a
// microsecond: 0.5 ms gives the rate to about 0.1%.
constexpr uint64_t kCalibrationWindowUs = 500;
constexpr int kSampleTries = 4;

struct Sample {
    uint64_t counter;
    uint64_t tsc;
};

Sample sample_hpet(volatile uint64_t* hpet)
{
    Sample best {};
    uint64_t best_span = ~0ull;
    for (int i = 0; i < kSampleTries; i++) {
        uint64_t before = rdtsc();
        uint64_t counter = hpet[30];
        uint64_t after = rdtsc();
        if (after - before < best_span) {
            best_span = after - before;
            best = { counter, before + (after - before) / 2 };
        }
    }
    return best;
}

// The HPET window opens as soon as the ACPI tables have named the HPET
// (platform_init) and closes in calibrate_cycle_counter: the interrupt
// controllers are set up inside it, and the clock waits only for what is
// left of the window.
struct HpetWindow {
    volatile uint64_t* hpet = nullptr;
    uint64_t period_fs = 0;
    Sample start {};
};
HpetWindow g_hpet_window;

void open_hpet_window(uint64_t hpet_phys)
{
    auto mapping = map_mmio(hpet_phys, 1024);
    if (mapping.is_error())
        return;
    auto* hpet = static_cast<volatile uint64_t*>(mapping.value());
    uint64_t capabilities = hpet[0];
    uint64_t period_fs = capabilities >> 32;     // femtoseconds per tick
    if (period_fs == 0 || period_fs > 100000000) // the spec caps it at 100 ns
        return;
    hpet[2] = hpet[2] | 1; // general configuration: enable
    g_hpet_window = { hpet, period_fs, sample_hpet(hpet) };
}

uint64_t calibrate_with_hpet()
{
    volatile uint64_t* hpet = g_hpet_window.hpet;
    if (!hpet)
        return 0;
    uint64_t period_fs = g_hpet_window.period_fs;
    Sample start = g_hpet_window.start;
    uint64_t ticks = kCalibrationWindowUs * 1000000000ull / period_fs;
    while (hpet[30] - start.counter < ticks) { }
    Sample end = sample_hpet(hpet);
    uint64_t elapsed_fs = (end.counter - start.counter) * period_fs;
    if (elapsed_fs < 1000000000ull) // under 1 us: a 32-bit counter wrapped; the caller falls back to the PIT
        return 0;
    // cycles per second = cycles / (elapsed_ns / 1e9); nanoseconds keep
    // the rate to a few parts per million over the window.
    return (end.tsc - start.tsc) * 1000000000ull / (elapsed_fs / 1000000);
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
    return (tsc_end - tsc_start) * kPitHz / count;
}

} // namespace

namespace {

uint64_t calibrate(const char*& source)
{
    if (uint64_t hz = calibrate_with_hpet()) {
        source = "HPET";
        return hz;
    }
    source = "PIT";
    return calibrate_with_pit();
}

} // namespace

void cycle_counter_calibration_begin()
{
    if (uint64_t hpet = acpi_info().hpet_phys)
        open_hpet_window(hpet);
}

uint64_t calibrate_cycle_counter(const char*& source)
{
    // The LAPIC timer counts across the same window, from when its
    // controller was set up (timer_start then needs no window of its own:
    // 1 ms less of boot). Without an HPET the PIT's window starts now.
    if (!g_hpet_window.hpet)
        lapic_timer_calibration_begin();
    uint64_t hz = calibrate(source);
    lapic_timer_calibration_end();
    return hz;
}

} // namespace keel::arch
