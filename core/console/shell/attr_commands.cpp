// Attribute commands with coreutils' syntax and messages: chmod (octal
// modes), chown (numeric ids), truncate -s SIZE and touch. Each is a
// setattr, so they also show which filesystems refuse changes (nullfs:
// EPERM).
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "time/clock.h"

namespace keel {

namespace {

// An octal mode of up to four digits ("755", "0644", "4755"). Symbolic
// modes (u+x) are not supported.
bool parse_octal_mode(const char* text, uint32_t& mode)
{
    size_t length = strlen(text);
    if (length == 0 || length > 5)
        return false;
    mode = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '7')
            return false;
        mode = mode * 8 + uint32_t(text[i] - '0');
    }
    return mode <= 07777;
}

bool parse_id(const char* text, size_t length, uint32_t& id)
{
    if (length == 4 && strncmp(text, "root", 4) == 0) {
        id = 0;
        return true;
    }
    auto value = parse_uint(text, length);
    if (value.is_error() || value.value() > 0xfffffffeu) // (uid_t)-1 means "unchanged"
        return false;
    id = uint32_t(value.value());
    return true;
}

int chmod_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("chmod");
    if (!ctx)
        return 1;
    if (argc < 3) {
        console_print("usage: chmod OCTAL-MODE FILE...\n");
        return 2;
    }
    keel_vfs_attr attr {};
    if (!parse_octal_mode(argv[1], attr.mode)) {
        console_print("chmod: invalid mode: '%s' (octal modes only, e.g. 0755)\n", argv[1]);
        return 1;
    }
    int status = 0;
    for (int i = 2; i < argc; i++) {
        if (auto result = vfs_setattr(*ctx, argv[i], attr, KEEL_VFS_ATTR_MODE); result.is_error())
            status = console_vfs_failure("chmod", "changing permissions of", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(chmod, "chmod", "OCTAL-MODE FILE...", "change file mode bits", chmod_command);

int chown_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("chown");
    if (!ctx)
        return 1;
    if (argc < 3) {
        console_print("usage: chown [OWNER][:GROUP] FILE... (numeric ids)\n");
        return 2;
    }
    const char* spec = argv[1];
    const char* colon = strchr(spec, ':');
    size_t owner_length = colon ? size_t(colon - spec) : strlen(spec);
    keel_vfs_attr attr {};
    uint32_t mask = 0;
    bool valid = owner_length > 0 || (colon && colon[1]);
    if (valid && owner_length > 0) {
        valid = parse_id(spec, owner_length, attr.uid);
        mask |= KEEL_VFS_ATTR_UID;
    }
    if (valid && colon && colon[1]) {
        valid = parse_id(colon + 1, strlen(colon + 1), attr.gid);
        mask |= KEEL_VFS_ATTR_GID;
    }
    if (!valid) {
        console_print("chown: invalid user or group: '%s' (numeric ids or root)\n", spec);
        return 1;
    }
    int status = 0;
    for (int i = 2; i < argc; i++) {
        if (auto result = vfs_setattr(*ctx, argv[i], attr, mask); result.is_error())
            status = console_vfs_failure("chown", "changing ownership of", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(chown, "chown", "[OWNER][:GROUP] FILE...", "change file owner and group", chown_command);

int truncate_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("truncate");
    if (!ctx)
        return 1;
    bool no_create = false;
    const char* size_text = nullptr;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-c") == 0 || strcmp(argv[first], "--no-create") == 0)
            no_create = true;
        else if (strcmp(argv[first], "-s") == 0 && first + 1 < argc)
            size_text = argv[++first];
        else
            break;
    }
    if (!size_text || first == argc) {
        console_print("usage: truncate [-c] -s SIZE FILE...\n");
        return 2;
    }
    uint64_t size = 0;
    if (!parse_console_size(size_text, size)) {
        bool relative = strchr("+-<>/%", size_text[0]) != nullptr;
        console_print(
            "truncate: invalid number: '%s'%s\n", size_text, relative ? " (relative sizes are not supported)" : "");
        return 1;
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
        // Opened for writing first, as coreutils does: that creates the
        // file and refuses directories with EISDIR.
        auto file = vfs_open(*ctx, argv[i], kOpenWriteOnly | (no_create ? 0 : kOpenCreate), 0644);
        if (file.is_error()) {
            if (!(no_create && file.error() == Error::ENOENT))
                status = console_vfs_failure("truncate", "cannot open", argv[i], file.error());
            continue;
        }
        vfs_close(file.value());
        if (auto result = vfs_truncate(*ctx, argv[i], size); result.is_error())
            status = console_vfs_failure("truncate", "failed to truncate", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(truncate, "truncate", "[-c] -s SIZE FILE...", "shrink or extend files to SIZE", truncate_command);

int touch_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("touch");
    if (!ctx)
        return 1;
    bool no_create = argc > 1 && strcmp(argv[1], "-c") == 0;
    int first = no_create ? 2 : 1;
    if (first == argc) {
        console_print("usage: touch [-c] FILE...\n");
        return 2;
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
        keel_vfs_attr attr {};
        attr.atime_ns = attr.mtime_ns = time::monotonic_ns(); // the clock filesystems stamp with
        auto result = vfs_setattr(*ctx, argv[i], attr, KEEL_VFS_ATTR_ATIME | KEEL_VFS_ATTR_MTIME);
        if (result.is_error() && result.error() == Error::ENOENT && !no_create) {
            auto file = vfs_open(*ctx, argv[i], kOpenWriteOnly | kOpenCreate, 0644);
            if (file.is_ok()) {
                vfs_close(file.value());
                continue;
            }
            result = Err(file.error());
        }
        if (result.is_error() && !(no_create && result.error() == Error::ENOENT))
            status = console_vfs_failure("touch", "cannot touch", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(touch, "touch", "[-c] FILE...", "update file times; create missing files", touch_command);

} // namespace

} // namespace keel
