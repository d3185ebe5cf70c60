#include "boot/params.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"

namespace keel {

namespace {

constexpr size_t kMaxCmdline = 4096;
char g_saved[kMaxCmdline];
char g_working[kMaxCmdline];
KernelParams g_params;

const KernelParamSpec kSpecs[] = {
    { "loglevel", KernelParamSpec::Int, &g_params.loglevel, "console loglevel: messages below it are printed" },
    { "panic", KernelParamSpec::Int, &g_params.panic, "on panic: 0 halt, N>0 power off after N s, N<0 at once" },
    { "nullfs_rootfs", KernelParamSpec::Flag, &g_params.nullfs_rootfs, "the root mount is the immutable nullfs" },
    { "rdinit", KernelParamSpec::String, &g_params.rdinit, "program run from the initramfs" },
    { "init", KernelParamSpec::String, &g_params.init, "program run from the real root" },
    { "module.sig_enforce", KernelParamSpec::Bool, &g_params.module_sig_enforce, "refuse unsigned modules" },
    { "memmap", KernelParamSpec::String, &g_params.memmap, "nn[KMG]$ss[KMG]: reserve physical memory" },
    { "modules_load", KernelParamSpec::String, &g_params.modules_load, "modules to load at boot: NAME,NAME,..." },
    { "module.keys", KernelParamSpec::String, &g_params.module_keys,
        "endorsed vendor keys to trust at boot: PATH,PATH,... (after /etc/keel/keys.d)" },
    { "test_fault", KernelParamSpec::String, &g_params.test_fault, "test hook: null|write|ud|divide|stack" },
    { "quiet", KernelParamSpec::Flag, &g_params.quiet, "console loglevel 4 (warnings and worse)" },
};

void report(void*, CmdlineIssue issue, const char* key, const char* value, const char* message)
{
    switch (issue) {
    case CmdlineIssue::UnknownParameter:
        log_notice(
            "Unknown kernel command line parameters \"%s%s%s\", ignored", key, value ? "=" : "", value ? value : "");
        break;
    case CmdlineIssue::InvalidValue: log_warn("cmdline: %s=%s: %s; ignored", key, value ? value : "", message); break;
    case CmdlineIssue::UnterminatedQuote:
        log_warn("cmdline: unterminated quote in \"%s\"; taken to the end of the line", key);
        break;
    }
}

} // namespace

const KernelParams& kernel_params() { return g_params; }

const char* saved_command_line() { return g_saved; }

void parse_kernel_params(const char* cmdline)
{
    size_t length = strnlen(cmdline, kMaxCmdline - 1);
    memcpy(g_saved, cmdline, length);
    g_saved[length] = '\0';
    memcpy(g_working, cmdline, length);
    g_working[length] = '\0';

    CmdlineReporter reporter { report, nullptr };
    g_params.init_args = apply_cmdline(g_working, kSpecs, array_size(kSpecs), &reporter);

    if (g_params.quiet && g_params.loglevel < 0)
        g_params.loglevel = kLogWarning;
    if (g_params.loglevel >= 0) {
        if (g_params.loglevel > 15) {
            log_warn("cmdline: loglevel=%lld out of range 0..15; ignored", (long long)g_params.loglevel);
        } else {
            log_set_console_level(int(g_params.loglevel));
        }
    }
}

} // namespace keel
