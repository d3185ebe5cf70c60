#include "init/boot_stages.h"

#include "arch/cpu.h"

#include "lib/base/format.h"
#include "log/log.h"
#include "time/clock.h"

namespace keel {

namespace {

struct StageMark {
    const char* name;
    uint64_t cycles;
};

constexpr size_t kMaxStages = 16;
StageMark g_stage_marks[kMaxStages];
size_t g_stage_count = 0;

uint64_t cycles_to_us(uint64_t cycles, uint64_t rate) { return cycles * 1000 / (rate / 1000); }

} // namespace

void mark_boot_stage(const char* name)
{
    if (g_stage_count < kMaxStages)
        g_stage_marks[g_stage_count++] = { name, time::cycles() };
}

void log_boot_stages()
{
    uint64_t rate = time::cycles_per_second();
    if (rate == 0)
        return;
    char line[256];
    size_t length = format(line, sizeof(line), "boot: stages (us):");
    uint64_t previous = time::boot_cycles();
    for (size_t i = 0; i < g_stage_count && length < sizeof(line); i++) {
        uint64_t us = cycles_to_us(g_stage_marks[i].cycles - previous, rate);
        length
            += format(line + length, sizeof(line) - length, " %s %llu", g_stage_marks[i].name, (unsigned long long)us);
        previous = g_stage_marks[i].cycles;
    }
    log_info("%s", line);
    log_info("boot: core up in %llu us (%s)",
        (unsigned long long)cycles_to_us(time::cycles() - time::boot_cycles(), rate), arch::kCycleCounterName);
}

} // namespace keel
