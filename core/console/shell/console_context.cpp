#include "console/shell/console_context.h"

#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"

namespace keel {

namespace {

VfsContext* g_console_context = nullptr;
bool g_clone_failed = false; // said so once; there is no root to retry with

} // namespace

// Made on first use, from the kernel's context once the boot has mounted
// the root.
VfsContext* console_vfs_context()
{
    if (g_console_context || g_clone_failed)
        return g_console_context;
    auto context = vfs_context_clone(*vfs_kernel_context());
    if (context.is_error()) {
        // ENOENT: the boot mounted no root, which it has said already.
        if (context.error() != Error::ENOENT)
            log_warn("vfs: the console has no filesystem context (%s)", error_name(context.error()));
        g_clone_failed = true;
        return nullptr;
    }
    g_console_context = context.value();
    return g_console_context;
}

void console_vfs_context_reset()
{
    if (g_console_context)
        vfs_context_release(g_console_context);
    g_console_context = nullptr;
    g_clone_failed = false;
}

VfsContext* console_vfs_context_or_complain(const char* command)
{
    VfsContext* context = console_vfs_context();
    if (!context)
        console_print("%s: no root filesystem (see dmesg)\n", command);
    return context;
}

bool parse_console_size(const char* text, uint64_t& size)
{
    size_t digits = 0;
    while (text[digits] >= '0' && text[digits] <= '9')
        digits++;
    if (digits == 0)
        return false;
    auto value = parse_uint(text, digits);
    if (value.is_error())
        return false;
    const char* suffix = text + digits;
    uint64_t unit = 1;
    if (*suffix) {
        const char* units = "KMGT";
        const char* found = strchr(units, *suffix == 'k' ? 'K' : *suffix);
        if (!found)
            return false;
        bool decimal = strcmp(suffix + 1, "B") == 0;
        if (!decimal && suffix[1] && strcmp(suffix + 1, "iB") != 0)
            return false;
        for (const char* u = units; u <= found; u++)
            unit *= decimal ? 1000 : 1024;
    }
    if (value.value() > UINT64_MAX / unit)
        return false;
    size = value.value() * unit;
    return true;
}

const char* vfs_error_text(Error error) { return error_description(error); }

int console_vfs_failure(const char* command, const char* what, const char* path, Error error)
{
    console_print("%s: %s '%s': %s (%s)\n", command, what, path, vfs_error_text(error), error_name(error));
    return 1;
}

} // namespace keel
