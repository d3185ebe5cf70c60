#include "vfs/unpack.h"

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cpio/cpio.h"
#include "vfs/platform.h"

namespace keel {

namespace {

// A directory's mtime from the archive, applied once everything is
// unpacked: creating entries inside it changes it (Linux's dir_add and
// dir_utime).
struct DirectoryTime {
    const char* name; // the entry's name, inside the archive
    uint32_t mtime;
};

struct Unpacker {
    VfsContext& context;
    const UnpackOptions& options;
    UnpackReport& report;
    char path[kVfsPathMax + 16];
    char other[kVfsPathMax + 16];
    char target[kVfsPathMax];
    size_t prefix_length;
    DirectoryTime* directory_times = nullptr;
    size_t directory_time_count = 0;
    size_t directory_time_capacity = 0;

    // destination + "/" + name; false when too long.
    bool compose(char* buffer, const char* name)
    {
        size_t length = format(buffer, kVfsPathMax + 16, "%.*s/%s", int(prefix_length), path, name);
        return length < kVfsPathMax;
    }

    void skip(const CpioEntry& entry, const char* what, Error error)
    {
        report.skipped++;
        if (!options.skip)
            return;
        char message[320];
        format(message, sizeof(message), "entry %zu (\"%.200s\"): %s: %s", entry.index, entry.name, what,
            error_name(error));
        options.skip(options.skip_context, message);
    }

    // Linux's maybe_unlink: whatever is in the way goes (errors ignored).
    void clear(const char* at)
    {
        auto stat = vfs_stat(context, at, false);
        if (stat.is_error())
            return;
        if (mode_is_directory(stat.value().attr.mode))
            (void)vfs_rmdir(context, at);
        else
            (void)vfs_unlink(context, at);
    }

    // Owner, mode and mtime, as Linux sets them (a symlink: no mode, and
    // the link itself rather than its target).
    void apply_attributes(const CpioEntry& entry, const char* at)
    {
        keel_vfs_attr attr {};
        attr.mode = entry.permissions();
        attr.uid = entry.uid;
        attr.gid = entry.gid;
        attr.mtime_ns = uint64_t(entry.mtime) * 1000000000ull;
        bool symlink = entry.type() == CpioFileType::Symlink;
        uint32_t mask = KEEL_VFS_ATTR_UID | KEEL_VFS_ATTR_GID | KEEL_VFS_ATTR_MTIME;
        (void)vfs_setattr(context, at, attr, symlink ? mask : mask | KEEL_VFS_ATTR_MODE, false);
    }

    // Without memory for the list a directory keeps the mtime it was
    // given at creation, until entries are made in it: a wrong time is
    // no reason to stop unpacking (Linux panics here).
    void defer_directory_time(const CpioEntry& entry)
    {
        if (directory_time_count == directory_time_capacity) {
            size_t capacity = directory_time_capacity ? directory_time_capacity * 2 : 64;
            auto* grown = static_cast<DirectoryTime*>(vfs::platform_alloc(capacity * sizeof(DirectoryTime)));
            if (!grown)
                return;
            if (directory_time_count)
                memcpy(grown, directory_times, directory_time_count * sizeof(DirectoryTime));
            vfs::platform_free(directory_times);
            directory_times = grown;
            directory_time_capacity = capacity;
        }
        directory_times[directory_time_count++] = { entry.name, entry.mtime };
    }

    void apply_directory_times()
    {
        for (size_t i = 0; i < directory_time_count; i++) {
            if (!compose(other, directory_times[i].name))
                continue;
            keel_vfs_attr attr {};
            attr.mtime_ns = uint64_t(directory_times[i].mtime) * 1000000000ull;
            (void)vfs_setattr(context, other, attr, KEEL_VFS_ATTR_MTIME, false);
        }
        vfs::platform_free(directory_times);
        directory_times = nullptr;
        directory_time_count = directory_time_capacity = 0;
    }

    Result<void> write_data(const char* at, const CpioEntry& entry, uint32_t flags)
    {
        File* file = TRY(vfs_open(context, at, flags, entry.permissions()));
        size_t written = 0;
        while (written < entry.data_size) {
            auto done = vfs_write(*file, entry.data + written, entry.data_size - written);
            if (done.is_error() || done.value() == 0) {
                vfs_close(file);
                return Err(done.is_error() ? done.error() : Error::ENOSPC);
            }
            written += done.value();
        }
        vfs_close(file);
        report.bytes += written;
        return {};
    }

    void unpack(const CpioEntry& entry)
    {
        report.entries++;
        if (!compose(other, entry.name)) {
            skip(entry, "path too long", Error::ENAMETOOLONG);
            return;
        }
        const char* at = other;
        switch (entry.type()) {
        case CpioFileType::Directory: {
            auto made = entry.name_length == 0 ? Result<void>(Error::EEXIST) : vfs_mkdir(context, at, 0700);
            if (made.is_error()) {
                auto stat = vfs_stat(context, at, true);
                if (made.error() != Error::EEXIST || stat.is_error() || !mode_is_directory(stat.value().attr.mode)) {
                    skip(entry, "cannot create directory", made.error());
                    return;
                }
            }
            report.directories++;
            apply_attributes(entry, at);
            defer_directory_time(entry);
            return;
        }
        case CpioFileType::Regular: {
            if (entry.link_target) {
                char* source = path + prefix_length + 1;
                size_t room = sizeof(path) - prefix_length - 1;
                if (format(source, room, "%s", entry.link_target) >= room) {
                    skip(entry, "link target path too long", Error::ENAMETOOLONG);
                    return;
                }
                path[prefix_length] = '/';
                clear(at);
                auto linked = vfs_link(context, path, at);
                path[prefix_length] = '\0';
                if (linked.is_error()) {
                    skip(entry, "cannot create hard link", linked.error());
                    return;
                }
                if (entry.data_size > 0) {
                    // Data in a later link goes into the shared inode from
                    // offset 0, untruncated. If it does not all fit, the
                    // inode gets its old size back and this name goes:
                    // nothing half written stays in the tree.
                    auto before = vfs_stat(context, at, false);
                    if (auto wrote = write_data(at, entry, kOpenWriteOnly); wrote.is_error()) {
                        if (before.is_ok())
                            (void)vfs_truncate(context, at, before.value().attr.size);
                        (void)vfs_unlink(context, at);
                        skip(entry, "cannot write", wrote.error());
                        return;
                    }
                }
                report.hard_links++;
                // Linux opens every link as a file and sets its attributes.
                apply_attributes(entry, at);
                return;
            }
            clear(at);
            if (auto wrote = write_data(at, entry, kOpenWriteOnly | kOpenCreate | kOpenTruncate); wrote.is_error()) {
                // A partial copy (out of memory or space halfway) is worse
                // than none: it looks like the file.
                (void)vfs_unlink(context, at);
                skip(entry, "cannot write file", wrote.error());
                return;
            }
            report.files++;
            apply_attributes(entry, at);
            return;
        }
        case CpioFileType::Symlink: {
            memcpy(target, entry.data, entry.data_size);
            target[entry.data_size] = '\0';
            clear(at);
            if (auto made = vfs_symlink(context, target, at); made.is_error()) {
                skip(entry, "cannot create symlink", made.error());
                return;
            }
            report.symlinks++;
            apply_attributes(entry, at);
            return;
        }
        default: {
            if (entry.link_target) {
                path[prefix_length] = '/';
                format(path + prefix_length + 1, sizeof(path) - prefix_length - 1, "%s", entry.link_target);
                clear(at);
                auto linked = vfs_link(context, path, at);
                path[prefix_length] = '\0';
                if (linked.is_error())
                    skip(entry, "cannot create hard link", linked.error());
                else
                    report.hard_links++;
                return;
            }
            clear(at);
            uint32_t rdev = entry.is_device() ? (entry.rdev_major << 20 | (entry.rdev_minor & 0xfffff)) : 0;
            if (auto made = vfs_mknod(context, at, entry.mode, rdev); made.is_error()) {
                skip(entry, "cannot create node", made.error());
                return;
            }
            report.special++;
            apply_attributes(entry, at);
            return;
        }
        }
    }
};

} // namespace

Result<void> unpack_cpio(VfsContext& context, const char* destination, const void* data, size_t size,
    const UnpackOptions& options, UnpackReport& report, Diagnostic& diagnostic)
{
    report = {};
    diagnostic.clear();
    size_t destination_length = strnlen(destination, kVfsPathMax);
    // "/" becomes "": names are joined as destination + "/" + name.
    while (destination_length > 0 && destination[destination_length - 1] == '/')
        destination_length--;
    if (destination_length >= kVfsPathMax - 2)
        return Err(Error::ENAMETOOLONG);

    auto* unpacker = static_cast<Unpacker*>(vfs::platform_alloc(sizeof(Unpacker)));
    size_t slots = options.link_table_slots;
    auto* links = slots ? static_cast<CpioLinkSlot*>(vfs::platform_alloc(slots * sizeof(CpioLinkSlot))) : nullptr;
    if (!unpacker || (slots && !links)) {
        vfs::platform_free(unpacker);
        vfs::platform_free(links);
        return Err(Error::ENOMEM);
    }
    new (unpacker) Unpacker { context, options, report, {}, {}, {}, destination_length };
    memcpy(unpacker->path, destination, destination_length);
    unpacker->path[destination_length] = '\0';

    CpioReader reader(data, size, &diagnostic);
    if (links)
        reader.set_link_table(links, slots);
    for (;;) {
        auto entry = reader.next();
        if (entry.is_error())
            break;
        if (entry.value().is_trailer) {
            report.archives++;
            continue;
        }
        unpacker->unpack(entry.value());
    }
    // Also after a malformed entry: what was unpacked keeps its times.
    unpacker->apply_directory_times();
    vfs::platform_free(links);
    unpacker->~Unpacker();
    vfs::platform_free(unpacker);
    return reader.status();
}

} // namespace keel
