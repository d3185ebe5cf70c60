// Where module files come from. Before any filesystem exists (early boot),
// paths are looked up straight in the in-memory initramfs.
#include "boot/initramfs.h"
#include "lib/base/string.h"
#include "lib/cpio/cpio.h"
#include "loader/internal.h"
#include "log/log.h"
#include "mm/heap.h"
#include "vfs/vfs.h"

namespace keel {

namespace {

// kmalloc's largest block is 4 MiB; modules are far smaller.
constexpr size_t kMaxModuleFile = 4 << 20;

} // namespace

void module_path_for(const char* name_or_path, char* path, size_t size)
{
    if (strchr(name_or_path, '/'))
        format(path, size, "%s", name_or_path);
    else
        format(path, size, "%s/%s.kmod", kModuleDirectory, name_or_path);
}

namespace {

Result<ModuleFile> copy_out(const char* path, const uint8_t* bytes, size_t size, Diagnostic& error)
{
    if (size == 0 || size > kMaxModuleFile) {
        return error.fail(Error::EFBIG, "%s: size %zu is not that of a module (1 byte .. 4 MiB)", path, size);
    }
    auto* data = static_cast<uint8_t*>(kmalloc(size));
    if (!data) {
        return error.fail(Error::ENOMEM, "%s: out of memory for %zu bytes", path, size);
    }
    memcpy(data, bytes, size);
    return ModuleFile { data, size };
}

// Before the root filesystem exists (early modules) the archive itself is
// the filesystem, read as the unpacker will write it (cpio_find: the last
// entry of a name wins, a hard link's data comes from the link that
// carries it). An archive damaged after the wanted entry still yields it:
// the entries before the damage are intact, and the unpacker reports the
// damage precisely anyway.
Result<ModuleFile> read_from_initramfs(const char* path, InitramfsImage initramfs, Diagnostic& error)
{
    Diagnostic damage;
    bool damaged = false;
    auto found = cpio_find_before_damage(initramfs.data, initramfs.size, path, damaged, &damage);
    if (found.is_error()) {
        if (damaged)
            diagnose(&error, "%s: not found before the initramfs damage: %s", path, damage.message);
        else
            diagnose(&error, "%s: no such file", path);
        return Err(damaged ? Error::EBADMSG : Error::ENOENT);
    }
    if (damaged)
        log_warn("%s: read from a damaged initramfs (%s)", path, damage.message);
    if (!found.value().is_regular()) {
        return error.fail(Error::EINVAL, "%s: not a regular file", path);
    }
    return copy_out(path, found.value().data, found.value().data_size, error);
}

} // namespace

Result<ModuleFile> read_module(const char* name_or_path, char* path, size_t path_size, Diagnostic& error)
{
    if (strchr(name_or_path, '/')) {
        format(path, path_size, "%s", name_or_path);
        return read_module_file(path, error);
    }
    for (const char* directory : kModuleSearchPath) {
        format(path, path_size, "%s/%s.kmod", directory, name_or_path);
        auto file = read_module_file(path, error);
        if (file.is_ok() || file.error() != Error::ENOENT)
            return file;
    }
    format(path, path_size, "%s/%s.kmod", kModuleDirectory, name_or_path);
    return error.fail(Error::ENOENT, "%s: no %s.kmod in %s or %s", name_or_path, name_or_path, kModuleDirectory,
        kVendorModuleDirectory);
}

Result<ModuleFile> read_module_file(const char* path, Diagnostic& error)
{
    // Once there is a root filesystem, files come from it.
    auto file = vfs_read_whole_file(*vfs_kernel_context(), path, kMaxModuleFile);
    if (file.is_ok())
        return ModuleFile { file.value().data, file.value().size };
    InitramfsImage initramfs = initramfs_image();
    if (initramfs.data)
        return read_from_initramfs(path, initramfs, error);
    if (file.error() == Error::ENOENT)
        diagnose(&error, "%s: no such file", path);
    else if (file.error() == Error::EFBIG)
        diagnose(&error, "%s: larger than a module can be (4 MiB)", path);
    else
        diagnose(&error, "%s: cannot read: %s", path, error_name(file.error()));
    return Err(file.error());
}

} // namespace keel
