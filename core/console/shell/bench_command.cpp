// vfsbench: VFS figures measured inside the guest with the TSC, for
// scripts/bench-vfs.py. `vfsbench lookups N PATH` resolves PATH N times
// (vfs_stat, following symlinks) and prints the rate:
//
//     vfsbench: 100000 lookups of '/a/b/c' (3 components) in 81234 us: 1231013 lookups/s, 812 ns each
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "time/clock.h"

namespace keel {

namespace {

// A million stat calls take seconds under TCG; more is a typo.
constexpr uint64_t kMaxLookups = 10000000;

size_t count_components(const char* path)
{
    size_t count = 0;
    for (const char* p = path; *p; p++) {
        if (*p != '/' && (p == path || p[-1] == '/'))
            count++;
    }
    return count;
}

int lookups(VfsContext& ctx, const char* count_text, const char* path)
{
    auto count = parse_uint(count_text, strlen(count_text));
    if (count.is_error() || count.value() == 0 || count.value() > kMaxLookups) {
        console_print("vfsbench: bad lookup count '%s' (1 to %llu)\n", count_text, (unsigned long long)kMaxLookups);
        return 2;
    }
    uint64_t rate = time::cycles_per_second();
    if (rate == 0) {
        console_print("vfsbench: the TSC is not calibrated\n");
        return 1;
    }
    // One lookup first: a missing path is an error, not a fast benchmark,
    // and the dentry cache is warm for the timed runs.
    if (auto first = vfs_stat(ctx, path, true); first.is_error())
        return console_vfs_failure("vfsbench", "cannot look up", path, first.error());
    uint64_t n = count.value();
    uint64_t start = time::cycles();
    for (uint64_t i = 0; i < n; i++) {
        if (i % 4096 == 0 && console_interrupted()) {
            console_print("vfsbench: interrupted\n");
            return 130;
        }
        if (auto result = vfs_stat(ctx, path, true); result.is_error())
            return console_vfs_failure("vfsbench", "cannot look up", path, result.error());
    }
    uint64_t cycles = time::cycles() - start;
    // Split to avoid overflowing cycles * 10^6 (or 10^9) for long runs.
    uint64_t us = cycles / rate * 1000000 + cycles % rate * 1000000 / rate;
    uint64_t ns_each = (cycles / n) * 1000000000 / rate;
    uint64_t per_second = us ? n * 1000000 / us : 0;
    console_print("vfsbench: %llu lookups of '%s' (%zu components) in %llu us: %llu lookups/s, %llu ns each\n",
        (unsigned long long)n, path, count_components(path), (unsigned long long)us, (unsigned long long)per_second,
        (unsigned long long)ns_each);
    return 0;
}

int vfsbench_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("vfsbench");
    if (!ctx)
        return 1;
    if (argc == 4 && strcmp(argv[1], "lookups") == 0)
        return lookups(*ctx, argv[2], argv[3]);
    console_print("usage: vfsbench lookups N PATH (resolve PATH N times, print the rate)\n");
    return 2;
}
KEEL_CONSOLE_COMMAND(vfsbench, "vfsbench", "lookups N PATH", "time N path lookups (cycle counter)", vfsbench_command);

} // namespace

} // namespace keel
