#include "boot/params.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/cmdline/cmdline.h"
#include "lib/net/ip_param.h"
#include "log/log.h"

namespace keel {

namespace {

constexpr size_t kMaxCmdline = 4096;
char g_saved[kMaxCmdline];
char g_working[kMaxCmdline];
KernelParams g_params;

const char* check_absolute_path(const char* value)
{
    if (value[0] != '/')
        return "not an absolute path";
    if (strlen(value) >= 256)
        return "longer than 255 bytes";
    return nullptr;
}

// "a,b,/path/c.kmod": what load_boot_modules loads, each a module name
// (looked up in the module directories) or an absolute path, of at most
// 55 bytes; anything else is refused before any loads.
const char* check_module_list(const char* value)
{
    constexpr const char* kRule = "each item is a module name ([a-z0-9_]) or an absolute path, 1 to 55 bytes";
    const char* item = value;
    for (const char* p = value;; ++p) {
        if (*p != ',' && *p != '\0')
            continue;
        size_t length = size_t(p - item);
        if (length == 0 || length > 55)
            return kRule;
        if (item[0] != '/') {
            for (const char* c = item; c < p; ++c) {
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                    return kRule;
            }
        }
        if (*p == '\0')
            return nullptr;
        item = p + 1;
    }
}

// root=: /dev/NAME, NAME, LABEL=..., UUID=... (short enough for any of them).
const char* check_root(const char* value)
{
    size_t length = strlen(value);
    return length == 0 || length > 63 ? "give /dev/NAME, LABEL=LABEL or UUID=UUID, 1 to 63 bytes" : nullptr;
}

// rootfstype=: a filesystem type (module) name.
const char* check_fstype(const char* value)
{
    size_t length = strlen(value);
    if (length == 0 || length > 31)
        return "a filesystem type of 1 to 31 of [a-z0-9_]";
    for (const char* c = value; *c; ++c) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return "a filesystem type of 1 to 31 of [a-z0-9_]";
    }
    return nullptr;
}

// ramdisk=NAME:/PATH.
const char* check_ramdisk(const char* value)
{
    const char* colon = strchr(value, ':');
    if (!colon || colon == value || colon - value > 31 || colon[1] != '/' || strlen(colon + 1) > 255)
        return "give NAME:/PATH (a name of 1 to 31 bytes, an absolute path of up to 255)";
    return nullptr;
}

// PATH,PATH,...: endorsement files for load_boot_keys, which takes paths
// of up to 159 bytes.
const char* check_path_list(const char* value)
{
    size_t length = 0;
    for (const char* p = value;; ++p) {
        if (*p == ',' || *p == '\0') {
            if (length == 0)
                return "an empty path";
            if (length > 159)
                return "a path longer than 159 bytes";
            if (*p == '\0')
                return nullptr;
            length = 0;
            continue;
        }
        ++length;
    }
}

// ip=: what lib/net/ip_param.h accepts; its reason otherwise.
const char* check_ip(const char* value)
{
    static Diagnostic g_reason;
    g_reason.clear();
    if (net::parse_ip_param(value, &g_reason).is_ok())
        return nullptr;
    return g_reason.message;
}

void report(void*, CmdlineIssue issue, const char* key, const char* value, const char* message)
{
    switch (issue) {
    case CmdlineIssue::UnknownParameter:
        // NAME.key=value is module NAME's parameter, read when it loads
        // (autoload, modprobe), as Linux leaves dotted ones alone.
        if (strchr(key, '.'))
            break;
        log_notice(
            "Unknown kernel command line parameters \"%s%s%s\", ignored", key, value ? "=" : "", value ? value : "");
        break;
    case CmdlineIssue::InvalidValue: log_warn("cmdline: %s=%s: %s; ignored", key, value ? value : "", message); break;
    case CmdlineIssue::UnterminatedQuote:
        log_warn("cmdline: unterminated quote in \"%s\"; taken to the end of the line", key);
        break;
    case CmdlineIssue::Repeated: log_warn("cmdline: %s: %s", key, message); break;
    }
}

} // namespace

char* read_kernel_params(char* line, KernelParams& params)
{
    using Spec = KernelParamSpec;
    const Spec specs[] = {
        { "loglevel", Spec::Int, &params.loglevel, "console loglevel: messages below it are printed", 0, 15 },
        // An int in Linux; a timeout in seconds beyond 68 years is a typo.
        { "panic", Spec::Int, &params.panic, "on panic: 0 halt, N>0 power off after N s, N<0 at once", INT32_MIN,
            INT32_MAX },
        { "nullfs_rootfs", Spec::Flag, &params.nullfs_rootfs, "the root mount is the immutable nullfs" },
        { "rdinit", Spec::String, &params.rdinit, "program run from the initramfs", 0, 0, check_absolute_path },
        { "init", Spec::String, &params.init, "program run from the real root", 0, 0, check_absolute_path },
        { "module.sig_enforce", Spec::Bool, &params.module_sig_enforce, "refuse unsigned modules" },
        { "memmap", Spec::List, &params.memmap, "nn[KMG]$ss[KMG]: reserve physical memory" },
        { "modules_load", Spec::List, &params.modules_load, "modules to load at boot: NAME,NAME,...", 0, 0,
            check_module_list },
        { "module.keys", Spec::List, &params.module_keys,
            "endorsed vendor keys to trust at boot: PATH,PATH,... (after /etc/keel/keys.d)", 0, 0, check_path_list },
        { "test_fault", Spec::String, &params.test_fault, "test hook: null|write|ud|divide|stack" },
        { "initramfs_options", Spec::String, &params.initramfs_options, "mount options of the root tmpfs" },
        { "quiet", Spec::Flag, &params.quiet, "console loglevel 4 (warnings and worse)" },
        { "root", Spec::String, &params.root, "the real root: /dev/NAME, LABEL=, UUID=", 0, 0, check_root },
        { "rootfstype", Spec::String, &params.rootfstype, "the real root's filesystem type (ext2)", 0, 0,
            check_fstype },
        { "rootflags", Spec::String, &params.rootflags, "the real root's mount options" },
        // Linux's limit: the milliseconds must fit an int.
        { "rootwait", Spec::OptionalUInt, &params.rootwait,
            "wait for the root device to appear (rootwait=SECONDS: at most so long)", 0, INT32_MAX / 1000 },
        { "ro", Spec::Flag, &params.root_ro, "mount the real root read-only (the default)" },
        { "rw", Spec::Flag, &params.root_rw, "mount the real root read-write" },
        { "ramdisk", Spec::List, &params.ramdisks, "NAME:/PATH: a RAM disk holding an initramfs file", 0, 0,
            check_ramdisk },
        { "ip", Spec::String, &params.ip,
            "network configuration at boot: dhcp, off, or CLIENT:SERVER:GATEWAY:NETMASK:HOST:DEVICE:AUTOCONF", 0, 0,
            check_ip },
    };
    CmdlineReporter reporter { report, nullptr };
    return apply_cmdline(line, specs, array_size(specs), &reporter);
}

const KernelParams& kernel_params() { return g_params; }

const char* saved_command_line() { return g_saved; }

void parse_kernel_params(const char* cmdline)
{
    size_t length = strnlen(cmdline, kMaxCmdline - 1);
    memcpy(g_saved, cmdline, length);
    g_saved[length] = '\0';
    memcpy(g_working, cmdline, length);
    g_working[length] = '\0';

    g_params.init_args = read_kernel_params(g_working, g_params);

    if (g_params.quiet && g_params.loglevel < 0)
        g_params.loglevel = kLogWarning;
    if (g_params.loglevel >= 0)
        log_set_console_level(int(g_params.loglevel));
}

} // namespace keel
