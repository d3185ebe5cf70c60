#include "vfs/commands/console_context.h"

#include "log/log.h"

namespace keel {

namespace {

VfsContext* g_console_context = nullptr;

} // namespace

void console_vfs_context_init()
{
    if (g_console_context)
        return;
    auto context = vfs_context_clone(*vfs_kernel_context());
    if (context.is_error()) {
        log_warn("vfs: the console has no filesystem context (%s)", error_name(context.error()));
        return;
    }
    g_console_context = context.value();
}

VfsContext* console_vfs_context() { return g_console_context; }

VfsContext* console_vfs_context_or_complain(const char* command)
{
    if (!g_console_context)
        console_print("%s: no root filesystem (see dmesg)\n", command);
    return g_console_context;
}

const char* vfs_error_text(Error error) { return error_description(error); }

int console_vfs_failure(const char* command, const char* what, const char* path, Error error)
{
    console_print("%s: %s '%s': %s (%s)\n", command, what, path, vfs_error_text(error), error_name(error));
    return 1;
}

} // namespace keel
