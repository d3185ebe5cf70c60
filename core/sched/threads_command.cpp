#include "console/console.h"
#include "log/log.h"
#include "sched/thread.h"

namespace keel {

namespace {

int threads_command(int, char**)
{
    constexpr size_t kMax = 64;
    static ThreadInfo infos[kMax];
    size_t count = thread_list(infos, kMax);
    console_print("%5s %-24s %-9s %10s %12s\n", "TID", "NAME", "STATE", "SWITCHES", "RUNTIME(us)");
    for (size_t i = 0; i < count && i < kMax; i++) {
        const ThreadInfo& info = infos[i];
        console_print("%5llu %-24s %-9s %10llu %12llu\n", (unsigned long long)info.id, info.name,
            thread_state_name(info.state), (unsigned long long)info.switches,
            (unsigned long long)(info.runtime_ns / 1000));
    }
    if (count > kMax)
        console_print("... and %zu more\n", count - kMax);
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(threads, "threads", "", "list kernel threads", threads_command);

} // namespace keel
