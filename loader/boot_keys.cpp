// Vendor keys that persist across reboots, as Linux's machine keyring and
// MOK do: endorsements (a vendor key signed by a built-in key) supplied at
// boot in the initramfs (/etc/keel/keys.d/) or by path on the command line
// (module.keys=), added before any modules_load= so that vendor modules can
// load at boot under module.sig_enforce=1.
#include "boot/initramfs.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cpio/cpio.h"
#include "loader/internal.h"
#include "loader/keyring.h"
#include "log/log.h"
#include "mm/heap.h"

namespace keel {

namespace {

void add_key(const uint8_t* data, size_t size, const char* source, const char* path)
{
    Diagnostic why;
    const char* message = why.message;
    auto added = keyring_add_endorsed(data, size, source, why);
    if (added.is_error()) {
        if (added.error() == Error::EEXIST)
            log_info("keyring: %s: %s", path, message);
        else
            log_err("keyring: %s: %s (%s); not added", path, message, error_name(added.error()));
        return;
    }
    char id[key_id_text_size];
    format_key_id(added.value()->key.id, id);
    log_notice("keyring: added secondary key %s '%s', endorsed by %s, from %s", id, added.value()->description,
        added.value()->endorsed_by, source);
}

} // namespace

// The initramfs's /etc/keel/keys.d/*: walked in the archive itself, before
// it is unpacked (and released), so the keys are there whatever the root
// filesystem is. A name that appears twice (an archive concatenated after
// another) counts once, with its last data.
void load_initramfs_keys()
{
    InitramfsImage initramfs = initramfs_image();
    if (!initramfs.data)
        return;
    Diagnostic damage;
    CpioReader reader(initramfs.data, initramfs.size, &damage);
    reader.disable_links();
    const char* directory = kBootKeyDirectory + 1; // archive names have no leading '/'
    size_t directory_length = strlen(directory);
    while (true) {
        auto entry = reader.next();
        if (entry.is_error())
            break;
        const CpioEntry& file = entry.value();
        if (file.is_trailer || !file.is_regular() || strncmp(file.name, directory, directory_length) != 0
            || file.name[directory_length] != '/' || strchr(file.name + directory_length + 1, '/'))
            continue;
        char path[160];
        format(path, sizeof(path), "/%s", file.name);
        // Only the last entry of a name is the file the unpacked tree shows.
        auto last = cpio_find(initramfs.data, initramfs.size, path);
        if (last.is_ok() && last.value().offset != file.offset)
            continue;
        char source[96];
        format(source, sizeof(source), "initramfs %s", path);
        add_key(file.data, file.data_size, source, path);
    }
    if (reader.failed())
        log_warn("keyring: %s: stopped at damage in the initramfs: %s", kBootKeyDirectory, damage.message);
}

void load_boot_keys(const char* paths)
{
    // module.keys=/path/a.endorsement,/path/b.endorsement
    char path[160];
    while (paths && *paths) {
        size_t length = 0;
        while (paths[length] && paths[length] != ',')
            length++;
        if (length >= sizeof(path)) {
            log_err("module.keys: a path longer than %zu bytes; ignored", sizeof(path) - 1);
        } else if (length > 0) {
            memcpy(path, paths, length);
            path[length] = '\0';
            Diagnostic error;
            auto file = read_module_file(path, error);
            if (file.is_error()) {
                log_err("module.keys: %s", error.message);
            } else {
                char source[96];
                format(source, sizeof(source), "module.keys= %s", path);
                add_key(file.value().data, file.value().size, source, path);
                kfree(file.value().data);
            }
        }
        paths += length;
        if (*paths == ',')
            paths++;
    }
}

} // namespace keel
