#include "console/shell/console_context.h"

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

const char* vfs_error_text(Error error) { return error_description(error); }

int console_vfs_failure(const char* command, const char* what, const char* path, Error error)
{
    console_print("%s: %s '%s': %s (%s)\n", command, what, path, vfs_error_text(error), error_name(error));
    return 1;
}

} // namespace keel
