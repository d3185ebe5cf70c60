// Mount commands with util-linux's syntax: mount, umount, pivot_root,
// unshare -m, and the listings mounts (/proc/mounts) and mountinfo
// (/proc/self/mountinfo).
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "log/log.h"

namespace keel {

namespace {

constexpr const char* kMountUsage = "usage: mount [-t TYPE] [-o OPTIONS] SOURCE TARGET | mount --bind|--rbind|--move "
                                    "SOURCE TARGET | mount -o remount[,ro|rw] TARGET | mount";

void print_mount_line(const VfsMountInfo& info, void*)
{
    console_print("%s %s %s %s%s%s 0 0\n", info.source, info.mountpoint, info.fstype, info.readonly ? "ro" : "rw",
        info.options[0] ? "," : "", info.options);
}

void print_mount_human(const VfsMountInfo& info, void*)
{
    console_print("%s on %s type %s (%s%s%s)\n", info.source, info.mountpoint, info.fstype, info.readonly ? "ro" : "rw",
        info.options[0] ? "," : "", info.options);
}

void print_mountinfo(const VfsMountInfo& info, void*)
{
    console_print("%u %u 0:%u %s %s %s - %s %s %s%s%s\n", info.id, info.parent_id, info.dev, info.root, info.mountpoint,
        info.readonly ? "ro" : "rw", info.fstype, info.source, info.readonly ? "ro" : "rw", info.options[0] ? "," : "",
        info.options);
}

int list_mounts(void (*printer)(const VfsMountInfo&, void*), const char* command)
{
    VfsContext* ctx = console_vfs_context_or_complain(command);
    if (!ctx)
        return 1;
    if (auto result = vfs_for_each_mount(*ctx, printer, nullptr); result.is_error())
        return console_vfs_failure(command, "cannot list", "mounts", result.error());
    return 0;
}

// Splits -o OPTIONS into mount flags and the filesystem's own options.
bool parse_options(const char* options, uint32_t& flags, char* data, size_t data_size)
{
    size_t data_length = 0;
    data[0] = '\0';
    const char* cursor = options;
    while (*cursor) {
        const char* end = cursor;
        while (*end && *end != ',')
            end++;
        size_t length = size_t(end - cursor);
        auto is = [&](const char* word) { return strlen(word) == length && strncmp(cursor, word, length) == 0; };
        if (is("ro"))
            flags |= kMountReadOnly;
        else if (is("rw"))
            flags &= ~kMountReadOnly;
        else if (is("remount"))
            flags |= kMountRemount;
        else if (is("bind"))
            flags |= kMountBind;
        else if (is("rbind"))
            flags |= kMountBind | kMountRecursive;
        else if (is("nosuid"))
            flags |= kMountNoSuid;
        else if (is("nodev"))
            flags |= kMountNoDev;
        else if (is("noexec"))
            flags |= kMountNoExec;
        else if (is("defaults") || length == 0)
            ;
        else {
            if (data_length + length + 2 > data_size)
                return false;
            if (data_length)
                data[data_length++] = ',';
            memcpy(data + data_length, cursor, length);
            data_length += length;
            data[data_length] = '\0';
        }
        cursor = *end ? end + 1 : end;
    }
    return true;
}

int mount_command(int argc, char** argv)
{
    if (argc == 1)
        return list_mounts(print_mount_human, "mount");
    VfsContext* ctx = console_vfs_context_or_complain("mount");
    if (!ctx)
        return 1;
    const char* type = nullptr;
    const char* options = "";
    uint32_t flags = 0;
    const char* positional[2] = { nullptr, nullptr };
    int positional_count = 0;
    for (int i = 1; i < argc; i++) {
        const char* arg = argv[i];
        if (strcmp(arg, "-t") == 0 && i + 1 < argc)
            type = argv[++i];
        else if (strcmp(arg, "-o") == 0 && i + 1 < argc)
            options = argv[++i];
        else if (strcmp(arg, "--bind") == 0 || strcmp(arg, "-B") == 0)
            flags |= kMountBind;
        else if (strcmp(arg, "--rbind") == 0 || strcmp(arg, "-R") == 0)
            flags |= kMountBind | kMountRecursive;
        else if (strcmp(arg, "--move") == 0 || strcmp(arg, "-M") == 0)
            flags |= kMountMove;
        else if (strcmp(arg, "--make-private") == 0 || strcmp(arg, "--make-rprivate") == 0)
            flags |= kMountPrivate;
        else if (strcmp(arg, "-r") == 0)
            flags |= kMountReadOnly;
        else if (arg[0] == '-' || positional_count == 2) {
            console_print("mount: bad argument '%s'\n%s\n", arg, kMountUsage);
            return 2;
        } else
            positional[positional_count++] = arg;
    }
    char data[160];
    if (!parse_options(options, flags, data, sizeof(data))) {
        console_print("mount: options '%s' are too long\n", options);
        return 2;
    }
    const char* source = positional[0];
    const char* target = positional[1];
    if ((flags & (kMountRemount | kMountPrivate)) && positional_count == 1) {
        target = positional[0];
        source = nullptr;
    } else if (positional_count != 2) {
        console_print("%s\n", kMountUsage);
        return 2;
    }
    if (!(flags & (kMountBind | kMountMove | kMountRemount | kMountPrivate)) && !type) {
        console_print("mount: give the filesystem type with -t TYPE\n");
        return 2;
    }
    auto result = vfs_mount(*ctx, source, target, type, flags, data[0] ? data : nullptr);
    if (result.is_error()) {
        if (result.error() == Error::ENODEV)
            console_print("mount: %s: unknown filesystem type '%s' (ENODEV)\n", target, type);
        else
            console_vfs_failure("mount", "cannot mount on", target, result.error());
        return 32; // util-linux's "mount failure"
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(mount, "mount", "[-t TYPE] [-o OPTS] [--bind|--rbind|--move] SOURCE TARGET",
    "mount a filesystem; alone, list mounts", mount_command);

int umount_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("umount");
    if (!ctx)
        return 1;
    uint32_t flags = 0;
    int status = 0;
    int targets = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--lazy") == 0) {
            flags |= kUmountDetach;
            continue;
        }
        if (strcmp(argv[i], "-f") == 0) {
            flags |= kUmountForce;
            continue;
        }
        targets++;
        if (auto result = vfs_umount(*ctx, argv[i], flags); result.is_error()) {
            if (result.error() == Error::EBUSY)
                console_print("umount: %s: target is busy (EBUSY)\n", argv[i]);
            else if (result.error() == Error::EINVAL)
                console_print("umount: %s: not mounted (EINVAL)\n", argv[i]);
            else
                console_vfs_failure("umount", "cannot unmount", argv[i], result.error());
            status = 32;
        }
    }
    if (!targets) {
        console_print("usage: umount [-l] TARGET...\n");
        return 2;
    }
    return status;
}
KEEL_CONSOLE_COMMAND(umount, "umount", "[-l] TARGET...", "unmount (-l: lazily, detach now)", umount_command);

int pivot_root_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("pivot_root");
    if (!ctx)
        return 1;
    if (argc != 3) {
        console_print("usage: pivot_root NEW_ROOT PUT_OLD\n");
        return 2;
    }
    if (auto result = vfs_pivot_root(*ctx, argv[1], argv[2]); result.is_error()) {
        console_print("pivot_root: failed to change root from '%s' to '%s': %s (%s)\n", argv[2], argv[1],
            vfs_error_text(result.error()), error_name(result.error()));
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(
    pivot_root, "pivot_root", "NEW_ROOT PUT_OLD", "move the root mount to PUT_OLD, NEW_ROOT to /", pivot_root_command);

int unshare_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("unshare");
    if (!ctx)
        return 1;
    if (argc != 2 || (strcmp(argv[1], "-m") != 0 && strcmp(argv[1], "--mount") != 0)) {
        console_print("usage: unshare -m (the console gets its own copy of the mount tree)\n");
        return 2;
    }
    if (auto result = vfs_unshare(*ctx, kCloneNewNamespace); result.is_error())
        return console_vfs_failure("unshare", "cannot unshare", "mount namespace", result.error());
    return 0;
}
KEEL_CONSOLE_COMMAND(unshare, "unshare", "-m", "give the console a private mount namespace", unshare_command);

int mounts_command(int, char**) { return list_mounts(print_mount_line, "mounts"); }
KEEL_CONSOLE_COMMAND(mounts, "mounts", "", "list mounts as /proc/mounts does", mounts_command);

int mountinfo_command(int, char**) { return list_mounts(print_mountinfo, "mountinfo"); }
KEEL_CONSOLE_COMMAND(
    mountinfo, "mountinfo", "", "list mounts with ids as /proc/self/mountinfo does", mountinfo_command);

void print_filesystem(const char* name, uint32_t superblocks, void*)
{
    console_print("%-12s %u superblock(s)\n", name, superblocks);
}

int filesystems_command(int, char**)
{
    vfs_for_each_filesystem(print_filesystem, nullptr);
    return 0;
}
KEEL_CONSOLE_COMMAND(
    filesystems, "filesystems", "", "registered filesystem types (/proc/filesystems)", filesystems_command);

} // namespace

} // namespace keel
