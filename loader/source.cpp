// Where module files come from. Before any filesystem exists (early boot),
// paths are looked up straight in the in-memory initramfs.
#include "boot/initramfs.h"
#include "lib/cpio/cpio.h"
#include "lib/string.h"
#include "loader/internal.h"
#include "mm/heap.h"

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

Result<ModuleFile> read_module_file(const char* path, LoadError& error)
{
    InitramfsImage initramfs = initramfs_image();
    if (!initramfs.data) {
        load_error(error, "%s: no initramfs to read modules from", path);
        return Err(Error::ENOENT);
    }
    char message[192] = "";
    auto entry = cpio_find(initramfs.data, initramfs.size, path, message, sizeof(message));
    if (entry.is_error()) {
        if (entry.error() == Error::ENOENT)
            load_error(error, "%s: no such file", path);
        else
            load_error(error, "%s: the initramfs is malformed: %s", path, message);
        return Err(entry.error());
    }
    if (!entry.value().is_regular()) {
        load_error(error, "%s: not a regular file", path);
        return Err(Error::EINVAL);
    }
    size_t size = entry.value().data_size;
    if (size == 0 || size > kMaxModuleFile) {
        load_error(error, "%s: size %zu is not that of a module (1 byte .. 4 MiB)", path, size);
        return Err(Error::EFBIG);
    }
    auto* data = static_cast<uint8_t*>(kmalloc(size));
    if (!data) {
        load_error(error, "%s: out of memory for %zu bytes", path, size);
        return Err(Error::ENOMEM);
    }
    memcpy(data, entry.value().data, size);
    return ModuleFile { data, size };
}

} // namespace keel
