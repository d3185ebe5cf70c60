#include "time/clock.h"

#include "arch/cpu.h"
#include "arch/irq.h"
#include "log/log.h"

namespace keel::time {

namespace {

// Captured on the first call, which the architecture's entry makes first.
uint64_t g_boot_tsc = 0;
uint64_t g_tsc_hz = 0;
// ns = (cycles * g_mult) >> 32: a multiplication on the hot path, no division.
uint64_t g_mult = 0;

} // namespace

uint64_t boot_cycles() { return g_boot_tsc; }

uint64_t cycles() { return arch::read_cycle_counter(); }

uint64_t cycles_per_second() { return g_tsc_hz; }

uint64_t monotonic_ns()
{
    if (g_mult == 0)
        return 0;
    uint64_t elapsed = arch::read_cycle_counter() - g_boot_tsc;
    return uint64_t((unsigned __int128)elapsed * g_mult >> 32);
}

void record_boot_cycles() { g_boot_tsc = arch::read_cycle_counter(); }

void clock_init()
{
    const char* source = "?";
    uint64_t hz = arch::calibrate_cycle_counter(source);
    if (hz == 0) {
        // No reference worked: assume 1 GHz rather than stop the boot.
        log_err("clock: %s calibration failed; assuming 1 GHz", arch::kCycleCounterName);
        hz = 1000000000;
        source = "assumed";
    }
    g_tsc_hz = hz;
    g_mult = (1000000000ull << 32) / hz; // fits: 1e9 * 2^32 < 2^64
    log_info("clock: %s %llu.%03llu MHz (calibrated against the %s)", arch::kCycleCounterName,
        (unsigned long long)(hz / 1000000), (unsigned long long)(hz / 1000 % 1000), source);
}

} // namespace keel::time
