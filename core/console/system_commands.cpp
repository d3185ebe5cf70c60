// help, uptime, cmdline, poweroff, reboot.
#include "arch/power.h"
#include "bcache/bcache.h"
#include "boot/params.h"
#include "console/console.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "time/clock.h"

namespace keel {

namespace {

// Power-off and restart messages reach the console whatever the log
// level (quiet, loglevel=0): scripts/run and the boot tests tell a
// power-off with code 0 from QEMU failing, and a restart from a triple
// fault, by them.
void announce(const char* format_string, ...) __attribute__((format(printf, 1, 2)));
void announce(const char* format_string, ...)
{
    char text[96];
    va_list args;
    va_start(args, format_string);
    vformat(text, sizeof(text), format_string, args);
    va_end(args);
    log_notice("%s", text);
    if (log_console_level() <= kLogNotice)
        console_print("%s\n", text);
}

int help_command(int argc, char** argv)
{
    if (argc > 1) {
        const ConsoleCommand* command = find_console_command(argv[1]);
        if (!command) {
            console_print("help: no command '%s'\n", argv[1]);
            return 1;
        }
        console_print("%s %s\n    %s\n", command->name, command->usage, command->help);
        return 0;
    }
    for (const ConsoleCommand* command = console_commands_begin(); command != console_commands_end(); command++) {
        // Name and usage in a column; a long usage gets its own line.
        constexpr int kColumn = 28;
        char left[160];
        size_t length = format(left, sizeof(left), "%s %s", command->name, command->usage);
        if (length <= size_t(kColumn))
            console_print("  %s%*s %s\n", left, int(kColumn - length), "", command->help);
        else
            console_print("  %s\n  %*s %s\n", left, kColumn, "", command->help);
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(help, "help", "[command]", "list commands, or describe one", help_command);

int uptime_command(int, char**)
{
    uint64_t ns = time::monotonic_ns();
    uint64_t seconds = ns / 1000000000;
    console_print("up %llu.%03llu s (%llu:%02llu:%02llu)\n", (unsigned long long)seconds,
        (unsigned long long)(ns / 1000000 % 1000), (unsigned long long)(seconds / 3600),
        (unsigned long long)(seconds / 60 % 60), (unsigned long long)(seconds % 60));
    return 0;
}
KEEL_CONSOLE_COMMAND(uptime, "uptime", "", "time since boot", uptime_command);

int cmdline_command(int, char**)
{
    console_print("%s\n", saved_command_line());
    return 0;
}
KEEL_CONSOLE_COMMAND(cmdline, "cmdline", "", "the kernel command line (/proc/cmdline)", cmdline_command);

// Dirty cached blocks reach their disks before the machine goes (a
// filesystem still mounted is then as a crash would leave it, with its
// data written).
void write_back_disks()
{
    if (auto synced = bcache_sync_all(); synced.is_error())
        log_err("reboot: writing back the block cache failed (%s)", error_name(synced.error()));
}

int poweroff_command(int argc, char** argv)
{
    int64_t code = 0;
    if (argc > 1) {
        auto parsed = parse_int(argv[1], strlen(argv[1]));
        if (parsed.is_error() || parsed.value() < 0 || parsed.value() > 127) {
            console_print("poweroff: exit code must be 0..127, not '%s'\n", argv[1]);
            return 1;
        }
        code = parsed.value();
    }
    write_back_disks();
    announce("reboot: Power down (code %lld)", (long long)code);
    arch::poweroff(int(code));
}
KEEL_CONSOLE_COMMAND(poweroff, "poweroff", "[code]", "power off; under QEMU the exit status is code", poweroff_command);

int reboot_command(int, char**)
{
    write_back_disks();
    announce("reboot: Restarting system");
    arch::reboot();
}
KEEL_CONSOLE_COMMAND(reboot, "reboot", "", "restart the machine", reboot_command);

} // namespace

} // namespace keel
