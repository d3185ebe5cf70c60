// modtest cycles N NAME [params]: load and unload a module N times inside
// the kernel (no console round trip per cycle), then compare free pages
// and heap use with the baseline taken after one warm-up cycle. The boot
// tests use it for "1,000 load/unload cycles leave free pages exactly at
// the baseline"; scripts/bench for load latency.
#include "console/console.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "loader/internal.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr size_t kMaxSamples = 1000;
constexpr size_t kStages = 8;
// Stage timings of each measured load, and its unload's, for medians.
uint64_t g_samples[kStages][kMaxSamples];
size_t g_sample_count = 0;

void record(const ModuleTimings& t, uint64_t unload_us)
{
    if (g_sample_count == kMaxSamples)
        return;
    const uint64_t values[kStages]
        = { t.read_us, t.verify_us, t.parse_us, t.map_us, t.relocate_us, t.init_us, t.total_us, unload_us };
    for (size_t stage = 0; stage < kStages; stage++)
        g_samples[stage][g_sample_count] = values[stage];
    g_sample_count++;
}

uint64_t median(uint64_t* values, size_t count)
{
    // Insertion sort: at most a thousand samples, once per run.
    for (size_t i = 1; i < count; i++) {
        uint64_t value = values[i];
        size_t j = i;
        for (; j > 0 && values[j - 1] > value; j--)
            values[j] = values[j - 1];
        values[j] = value;
    }
    return count ? values[count / 2] : 0;
}

Result<void> cycle_once(const char* name, const char* parameters, uint64_t& load_us)
{
    Diagnostic error;
    LoadOptions options;
    options.parameters = parameters;
    uint64_t start = time::cycles();
    auto module = load_module(name, options, error);
    load_us = elapsed_us(start);
    if (module.is_error()) {
        console_print("modtest: %s\n", error.message);
        return Err(module.error());
    }
    // unload_module wants the name; the module's own name may differ from a path.
    char loaded[Module::kNameLength];
    format(loaded, sizeof(loaded), "%s", module.value()->name);
    ModuleTimings timings = module.value()->timings;
    start = time::cycles();
    auto unloaded = unload_module(loaded, error);
    record(timings, elapsed_us(start));
    if (unloaded.is_error())
        console_print("modtest: %s\n", error.message);
    return unloaded;
}

int run_cycles(const char* name, const char* parameters, uint64_t count);

int modtest_command(int argc, char** argv)
{
    if (argc < 4 || strcmp(argv[1], "cycles") != 0) {
        console_print("usage: modtest cycles N NAME|PATH [param=value ...]\n");
        return 1;
    }
    auto count = parse_uint(argv[2], strlen(argv[2]));
    if (count.is_error() || count.value() == 0 || count.value() > 100000) {
        console_print("modtest: N must be 1..100000\n");
        return 1;
    }
    char parameters[256] = "";
    size_t length = 0;
    for (int i = 4; i < argc && length < sizeof(parameters); i++)
        length += format(parameters + length, sizeof(parameters) - length, "%s%s", length ? " " : "", argv[i]);

    // Thousands of "loaded"/"unloaded" lines would only slow the console
    // down: keep them in the log ring, off the console, while cycling.
    int console_level = log_console_level();
    if (console_level > kLogNotice)
        log_set_console_level(kLogNotice);
    int status = run_cycles(argv[3], parameters, count.value());
    log_set_console_level(console_level);
    return status;
}

int run_cycles(const char* name, const char* parameters, uint64_t count)
{
    uint64_t load_us = 0;
    if (cycle_once(name, parameters, load_us).is_error()) // warm-up: first-use allocations
        return 1;
    g_sample_count = 0;
    size_t pages_before = pmm_stats().free_pages;
    size_t heap_before = heap_stats().bytes_in_use;
    uint64_t start = time::cycles();
    uint64_t done = 0;
    for (; done < count; done++) {
        if (console_interrupted()) {
            console_print("modtest: interrupted\n");
            break;
        }
        if (cycle_once(name, parameters, load_us).is_error())
            break;
    }
    uint64_t total_us = elapsed_us(start);
    size_t pages_after = pmm_stats().free_pages;
    size_t heap_after = heap_stats().bytes_in_use;
    bool ok = done == count && pages_after == pages_before && heap_after == heap_before;
    console_print("modtest: %llu cycles of %s in %llu us (%llu us each): free pages %zu -> %zu, heap bytes %zu -> "
                  "%zu: %s\n",
        (unsigned long long)done, name, (unsigned long long)total_us, (unsigned long long)(done ? total_us / done : 0),
        pages_before, pages_after, heap_before, heap_after, ok ? "PASS" : "FAIL");
    size_t samples = g_sample_count;
    console_print("modtest: median us: read %llu verify %llu parse %llu map %llu relocate %llu init %llu total %llu "
                  "unload %llu\n",
        (unsigned long long)median(g_samples[0], samples), (unsigned long long)median(g_samples[1], samples),
        (unsigned long long)median(g_samples[2], samples), (unsigned long long)median(g_samples[3], samples),
        (unsigned long long)median(g_samples[4], samples), (unsigned long long)median(g_samples[5], samples),
        (unsigned long long)median(g_samples[6], samples), (unsigned long long)median(g_samples[7], samples));
    return ok ? 0 : 1;
}

} // namespace

KEEL_CONSOLE_COMMAND(
    modtest, "modtest", "cycles N NAME|PATH [params]", "load and unload a module N times; leak check", modtest_command);

} // namespace keel
