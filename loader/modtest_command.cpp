// modtest cycles N NAME [params]: load and unload a module N times inside
// the kernel (no console round trip per cycle), then compare free pages
// and heap use with the baseline taken after one warm-up cycle. The boot
// tests use it for "1,000 load/unload cycles leave free pages exactly at
// the baseline"; scripts/bench for load latency.
// modtest race NAME FIRST SECOND: two threads ask modprobe for FIRST and
// SECOND (NAME, or a modalias of NAME's) at once, as the console and the
// autoload thread may (below).
#include "console/console.h"
#include "debug/stress.h"
#include "device/resources.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "loader/autoload.h"
#include "loader/internal.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "sched/thread.h"
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
int run_race(const char* name, const char* first, const char* second);

constexpr const char* kUsage = "usage: modtest cycles N NAME|PATH [param=value ...] | race NAME FIRST SECOND\n";

int modtest_command(int argc, char** argv)
{
    if (argc == 5 && strcmp(argv[1], "race") == 0)
        return run_race(argv[2], argv[3], argv[4]);
    if (argc < 4 || strcmp(argv[1], "cycles") != 0) {
        console_print("%s", kUsage);
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
    LeakCounters before = leak_counters();
    size_t pages_before = before.free_pages;
    size_t heap_before = before.heap_bytes;
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
    LeakCounters after = leak_counters();
    size_t pages_after = after.free_pages;
    size_t heap_after = after.heap_bytes;
    // Everything else a module could leave behind: vmalloc areas, devices,
    // drivers, bindings' resources, interrupt vectors, DMA memory, work.
    char leaks[400];
    bool others_equal = describe_leaks(before, after, leaks, sizeof(leaks));
    bool ok = done == count && pages_after == pages_before && heap_after == heap_before && others_equal;
    console_print("modtest: %llu cycles of %s in %llu us (%llu us each): free pages %zu -> %zu, heap bytes %zu -> "
                  "%zu: %s%s%s\n",
        (unsigned long long)done, name, (unsigned long long)total_us, (unsigned long long)(done ? total_us / done : 0),
        pages_before, pages_after, heap_before, heap_after, ok ? "PASS" : "FAIL", others_equal ? "" : ": ", leaks);
    size_t samples = g_sample_count;
    console_print("modtest: median us: read %llu verify %llu parse %llu map %llu relocate %llu init %llu total %llu "
                  "unload %llu\n",
        (unsigned long long)median(g_samples[0], samples), (unsigned long long)median(g_samples[1], samples),
        (unsigned long long)median(g_samples[2], samples), (unsigned long long)median(g_samples[3], samples),
        (unsigned long long)median(g_samples[4], samples), (unsigned long long)median(g_samples[5], samples),
        (unsigned long long)median(g_samples[6], samples), (unsigned long long)median(g_samples[7], samples));
    return ok ? 0 : 1;
}

// One of `modtest race`'s two loaders.
struct RaceLoader {
    const char* what; // modprobe's argument
    const RaceLoader* other;
    bool started = false;   // set before its modprobe
    bool saw_other = false; // the other had started when this one's modprobe returned
    Result<void> result = {};
    Diagnostic error;
};

int race_loader(void* argument)
{
    auto& loader = *static_cast<RaceLoader*>(argument);
    __atomic_store_n(&loader.started, true, __ATOMIC_SEQ_CST);
    loader.result = modprobe(loader.what, loader.error);
    loader.saw_other = __atomic_load_n(&loader.other->started, __ATOMIC_SEQ_CST);
    return 0;
}

size_t loaded_copies(const char* name)
{
    struct Count {
        const char* name;
        size_t copies;
    } count { name, 0 };
    for_each_module(
        [](const Module& module, void* context) {
            auto& count = *static_cast<Count*>(context);
            if (strcmp(module.name, count.name) == 0)
                count.copies++;
        },
        &count);
    return count.copies;
}

// The console's modprobe and the autoload thread may ask for one module
// at once. With the stress points armed, the loader that takes the
// registry lock first is preempted inside its load (loader/load.cpp), so
// the second asks while the first holds the lock: both must succeed, and
// NAME must be loaded once. That holds because load_module checks for a
// module loaded already under the same lock as the load
// (LoadOptions::unless_loaded); a check before the lock would let the
// second load it again and fail. NAME is unloaded afterwards (not its
// dependencies), so that the test can run again.
int run_race(const char* name, const char* first, const char* second)
{
    if (loaded_copies(name) != 0) {
        console_print("modtest race: %s is loaded already; rmmod it first\n", name);
        return 1;
    }
    RaceLoader loaders[2];
    loaders[0].what = first;
    loaders[1].what = second;
    loaders[0].other = &loaders[1];
    loaders[1].other = &loaders[0];
    Thread* threads[2] = {};
    size_t created = 0;
    debug::arm_stress_points(true);
    for (; created < 2; created++) {
        auto thread = thread_create("modprobe-race", race_loader, &loaders[created]);
        if (thread.is_error())
            break;
        threads[created] = thread.value();
    }
    for (size_t i = 0; i < created; i++)
        thread_join(threads[i]);
    debug::arm_stress_points(false);

    size_t copies = loaded_copies(name);
    bool overlapped = created == 2 && loaders[0].saw_other && loaders[1].saw_other;
    bool ok = overlapped && loaders[0].result.is_ok() && loaders[1].result.is_ok() && copies == 1;
    for (size_t i = 0; i < created; i++) {
        if (loaders[i].result.is_error())
            console_print("modtest race: modprobe %s: %s (%s)\n", loaders[i].what, loaders[i].error.message,
                error_name(loaders[i].result.error()));
    }
    Diagnostic error;
    bool unloaded = copies == 0 || unload_module(name, error).is_ok();
    if (!unloaded)
        console_print("modtest race: rmmod %s: %s\n", name, error.message);
    console_print("modtest race: modprobe %s and %s at once (%s): %s loaded %zu time(s): %s\n", first, second,
        overlapped ? "overlapped" : "did not overlap", name, copies, ok && unloaded ? "PASS" : "FAIL");
    return ok && unloaded ? 0 : 1;
}

} // namespace

KEEL_CONSOLE_COMMAND(modtest, "modtest", "cycles N NAME|PATH [params] | race NAME FIRST SECOND",
    "load and unload a module N times (leak check); two modprobes at once", modtest_command);

} // namespace keel
