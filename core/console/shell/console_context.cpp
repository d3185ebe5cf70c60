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

VfsContext* console_vfs_context_or_complain(const char* command)
{
    VfsContext* context = console_vfs_context();
    if (!context)
        console_print("%s: no root filesystem (see dmesg)\n", command);
    return context;
}

const char* vfs_error_text(Error error)
{
    switch (error) {
    case Error::EPERM: return "Operation not permitted";
    case Error::ENOENT: return "No such file or directory";
    case Error::EIO: return "Input/output error";
    case Error::ENXIO: return "No such device or address";
    case Error::EBADF: return "Bad file descriptor";
    case Error::ENOMEM: return "Cannot allocate memory";
    case Error::EACCES: return "Permission denied";
    case Error::EBUSY: return "Device or resource busy";
    case Error::EEXIST: return "File exists";
    case Error::EXDEV: return "Invalid cross-device link";
    case Error::ENODEV: return "No such device";
    case Error::ENOTDIR: return "Not a directory";
    case Error::EISDIR: return "Is a directory";
    case Error::EINVAL: return "Invalid argument";
    case Error::EFBIG: return "File too large";
    case Error::ENOSPC: return "No space left on device";
    case Error::EROFS: return "Read-only file system";
    case Error::ENAMETOOLONG: return "File name too long";
    case Error::ENOSYS: return "Function not implemented";
    case Error::ENOTEMPTY: return "Directory not empty";
    case Error::ELOOP: return "Too many levels of symbolic links";
    case Error::EOVERFLOW: return "Value too large for defined data type";
    default: return "Error";
    }
}

int console_vfs_failure(const char* command, const char* what, const char* path, Error error)
{
    console_print("%s: %s '%s': %s (%s)\n", command, what, path, vfs_error_text(error), error_name(error));
    return 1;
}

} // namespace keel
