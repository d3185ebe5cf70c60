// File commands with their Linux namesakes' syntax: cd, pwd, ls [-l], cat,
// mkdir [-p], rm, rmdir, write FILE TEXT, stat, ln [-s], mv.
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "mm/heap.h"

namespace keel {

namespace {

int cd_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("cd");
    if (!ctx)
        return 1;
    const char* path = argc > 1 ? argv[1] : "/";
    if (auto result = vfs_chdir(*ctx, path); result.is_error())
        return console_vfs_failure("cd", "cannot change to", path, result.error());
    return 0;
}
KEEL_CONSOLE_COMMAND(cd, "cd", "[DIR]", "change the console's working directory", cd_command);

// Commands run one at a time on the console's thread, so their large
// buffers are static rather than allocated: ls, pwd, stat and rm must
// work with memory exhausted, to find and remove what fills it.
char g_path[kVfsPathMax + kVfsNameMax + 2];

int pwd_command(int, char**)
{
    VfsContext* ctx = console_vfs_context_or_complain("pwd");
    if (!ctx)
        return 1;
    auto length = vfs_getcwd(*ctx, g_path, kVfsPathMax);
    if (length.is_error())
        return console_vfs_failure("pwd", "cannot get", ".", length.error());
    console_print("%s\n", g_path);
    return 0;
}
KEEL_CONSOLE_COMMAND(pwd, "pwd", "", "print the working directory", pwd_command);

void mode_string(uint32_t mode, char out[11])
{
    const char* types = "?pc?d?b?-?l?s???";
    out[0] = types[(mode >> 12) & 15];
    const char* bits = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = (mode & (0400 >> i)) ? bits[i] : '-';
    if (mode & 04000)
        out[3] = (mode & 0100) ? 's' : 'S';
    if (mode & 02000)
        out[6] = (mode & 010) ? 's' : 'S';
    if (mode & 01000)
        out[9] = (mode & 01) ? 't' : 'T';
    out[10] = '\0';
}

void print_long(VfsContext& ctx, const char* path, const char* name)
{
    auto stat = vfs_stat(ctx, path, false);
    if (stat.is_error()) {
        console_print("?????????? %s (%s)\n", name, error_name(stat.error()));
        return;
    }
    const keel_vfs_attr& attr = stat.value().attr;
    char mode[11];
    mode_string(attr.mode, mode);
    console_print("%s %3u %4u %4u %8llu %s", mode, attr.nlink, attr.uid, attr.gid, (unsigned long long)attr.size, name);
    if (mode_is_symlink(attr.mode)) {
        char target[256];
        auto length = vfs_readlink(ctx, path, target, sizeof(target) - 1);
        if (length.is_ok()) {
            target[length.value()] = '\0';
            console_print(" -> %s", target);
        }
    }
    console_print("\n");
}

// Directory entries come in batches: the visitor runs with the VFS lock
// held, so it only copies names; stat happens between batches.
struct Batch {
    static constexpr size_t kCount = 16;
    char names[kCount][kVfsNameMax + 1];
    size_t count;
};
Batch g_batch;

int list_directory(VfsContext& ctx, const char* path, bool long_format)
{
    auto file = vfs_open(ctx, path, kOpenReadOnly | kOpenDirectory, 0);
    if (file.is_error())
        return console_vfs_failure("ls", "cannot open directory", path, file.error());
    Batch* batch = &g_batch;
    char* full = g_path;
    int status = 0;
    for (;;) {
        batch->count = 0;
        auto visit = [](void* context, const char* name, size_t length, uint64_t, uint32_t) -> int {
            auto* b = static_cast<Batch*>(context);
            if (b->count == Batch::kCount)
                return 1;
            memcpy(b->names[b->count], name, length);
            b->names[b->count][length] = '\0';
            b->count++;
            return 0;
        };
        if (auto result = vfs_readdir(*file.value(), visit, batch); result.is_error()) {
            status = console_vfs_failure("ls", "cannot read directory", path, result.error());
            break;
        }
        for (size_t i = 0; i < batch->count; i++) {
            const char* name = batch->names[i];
            if (!long_format) {
                console_print("%s\n", name);
                continue;
            }
            format(full, kVfsPathMax + kVfsNameMax + 2, "%s/%s", path, name);
            print_long(ctx, full, name);
        }
        if (batch->count < Batch::kCount)
            break;
    }
    vfs_close(file.value());
    return status;
}

int ls_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("ls");
    if (!ctx)
        return 1;
    bool long_format = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (strcmp(argv[first], "-l") == 0 || strcmp(argv[first], "-la") == 0 || strcmp(argv[first], "-al") == 0)
            long_format = true;
        else if (strcmp(argv[first], "-a") != 0) {
            console_print("ls: unknown option '%s' (usage: ls [-l] [PATH...])\n", argv[first]);
            return 2;
        }
    }
    if (first == argc)
        return list_directory(*ctx, ".", long_format);
    int status = 0;
    for (int i = first; i < argc; i++) {
        auto stat = vfs_stat(*ctx, argv[i], true);
        if (stat.is_error()) {
            status = console_vfs_failure("ls", "cannot access", argv[i], stat.error());
            continue;
        }
        if (!mode_is_directory(stat.value().attr.mode)) {
            if (long_format)
                print_long(*ctx, argv[i], argv[i]);
            else
                console_print("%s\n", argv[i]);
            continue;
        }
        if (argc - first > 1)
            console_print("%s:\n", argv[i]);
        status |= list_directory(*ctx, argv[i], long_format);
    }
    return status;
}
KEEL_CONSOLE_COMMAND(ls, "ls", "[-l] [PATH...]", "list directory contents", ls_command);

int cat_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("cat");
    if (!ctx)
        return 1;
    int status = 0;
    char buffer[512];
    for (int i = 1; i < argc; i++) {
        auto file = vfs_open(*ctx, argv[i], kOpenReadOnly, 0);
        if (file.is_error()) {
            status = console_vfs_failure("cat", "cannot open", argv[i], file.error());
            continue;
        }
        for (;;) {
            if (console_interrupted()) {
                console_print("cat: interrupted\n");
                vfs_close(file.value());
                return 130; // a shell's status for Ctrl-C
            }
            auto done = vfs_read(*file.value(), buffer, sizeof(buffer));
            if (done.is_error()) {
                status = console_vfs_failure("cat", "cannot read", argv[i], done.error());
                break;
            }
            if (done.value() == 0)
                break;
            console_write(buffer, done.value());
        }
        vfs_close(file.value());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(cat, "cat", "FILE...", "print files", cat_command);

Result<void> make_parents(VfsContext& ctx, const char* path)
{
    // Kernel stacks are small: the path copy lives on the heap.
    char* partial = static_cast<char*>(kmalloc(kVfsPathMax));
    if (!partial)
        return Err(Error::ENOMEM);
    size_t length = strnlen(path, kVfsPathMax - 1);
    for (size_t i = 1; i <= length; i++) {
        if (i != length && path[i] != '/')
            continue;
        memcpy(partial, path, i);
        partial[i] = '\0';
        auto made = vfs_mkdir(ctx, partial, 0755);
        if (made.is_error() && made.error() != Error::EEXIST) {
            kfree(partial);
            return made;
        }
    }
    kfree(partial);
    auto stat = TRY(vfs_stat(ctx, path, true));
    if (!mode_is_directory(stat.attr.mode))
        return Err(Error::ENOTDIR);
    return {};
}

int mkdir_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("mkdir");
    if (!ctx)
        return 1;
    bool parents = argc > 1 && strcmp(argv[1], "-p") == 0;
    int status = 0;
    for (int i = parents ? 2 : 1; i < argc; i++) {
        auto result = parents ? make_parents(*ctx, argv[i]) : vfs_mkdir(*ctx, argv[i], 0755);
        if (result.is_error())
            status = console_vfs_failure("mkdir", "cannot create directory", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(mkdir, "mkdir", "[-p] DIR...", "make directories", mkdir_command);

int rm_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("rm");
    if (!ctx)
        return 1;
    bool force = argc > 1 && strcmp(argv[1], "-f") == 0;
    int status = 0;
    for (int i = force ? 2 : 1; i < argc; i++) {
        auto result = vfs_unlink(*ctx, argv[i]);
        if (result.is_error() && !(force && result.error() == Error::ENOENT))
            status = console_vfs_failure("rm", "cannot remove", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(rm, "rm", "[-f] FILE...", "remove files", rm_command);

int rmdir_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("rmdir");
    if (!ctx)
        return 1;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (auto result = vfs_rmdir(*ctx, argv[i]); result.is_error())
            status = console_vfs_failure("rmdir", "failed to remove", argv[i], result.error());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(rmdir, "rmdir", "DIR...", "remove empty directories", rmdir_command);

int write_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("write");
    if (!ctx)
        return 1;
    // -a: append, like echo TEXT >> FILE.
    bool append = argc > 1 && strcmp(argv[1], "-a") == 0;
    if (append) {
        argc--;
        argv++;
    }
    if (argc < 2) {
        console_print("usage: write [-a] FILE [TEXT...] (like echo TEXT > FILE; -a: >>)\n");
        return 2;
    }
    uint32_t flags = kOpenWriteOnly | kOpenCreate | (append ? kOpenAppend : kOpenTruncate);
    auto file = vfs_open(*ctx, argv[1], flags, 0644);
    if (file.is_error())
        return console_vfs_failure("write", "cannot open", argv[1], file.error());
    int status = 0;
    for (int i = 2; i <= argc && status == 0; i++) {
        const char* piece = i == argc ? "\n" : argv[i];
        size_t length = strlen(piece);
        size_t written = 0;
        while (written < length) {
            auto done = vfs_write(*file.value(), piece + written, length - written);
            if (done.is_error()) {
                status = console_vfs_failure("write", "cannot write", argv[1], done.error());
                break;
            }
            written += done.value();
        }
        if (status == 0 && i + 1 < argc) {
            if (auto done = vfs_write(*file.value(), " ", 1); done.is_error())
                status = console_vfs_failure("write", "cannot write", argv[1], done.error());
        }
    }
    vfs_close(file.value());
    return status;
}
KEEL_CONSOLE_COMMAND(write, "write", "[-a] FILE [TEXT...]",
    "write TEXT and a newline to FILE (created or truncated; -a: appended)", write_command);

// fill FILE SIZE: SIZE bytes of zeros into FILE, a page at a time, as
// far as they go: how the memory-exhaustion tests fill a tmpfs (and a way
// to see what a filesystem's size= allows).
int fill_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("fill");
    if (!ctx)
        return 1;
    uint64_t size = 0;
    if (argc != 3 || !parse_console_size(argv[2], size)) {
        console_print("usage: fill FILE SIZE (SIZE with K, M, G, T)\n");
        return 2;
    }
    auto file = vfs_open(*ctx, argv[1], kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0644);
    if (file.is_error())
        return console_vfs_failure("fill", "cannot open", argv[1], file.error());
    static char zeros[4096]; // never written: in .bss, not 4 KiB of the image
    uint64_t written = 0;
    Error error = Error(0);
    while (written < size) {
        if (console_interrupted()) {
            console_print("fill: interrupted\n");
            break;
        }
        size_t chunk = size - written < sizeof(zeros) ? size_t(size - written) : sizeof(zeros);
        auto done = vfs_write(*file.value(), zeros, chunk);
        if (done.is_error() || done.value() == 0) {
            error = done.is_error() ? done.error() : Error::ENOSPC;
            break;
        }
        written += done.value();
    }
    vfs_close(file.value());
    console_print("fill: %s: %llu of %llu bytes", argv[1], (unsigned long long)written, (unsigned long long)size);
    if (error != Error(0)) {
        console_print(": %s (%s)\n", vfs_error_text(error), error_name(error));
        return 1;
    }
    console_print("\n");
    return written == size ? 0 : 130;
}
KEEL_CONSOLE_COMMAND(fill, "fill", "FILE SIZE", "write SIZE bytes of zeros to FILE, as far as they fit", fill_command);

int stat_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("stat");
    if (!ctx)
        return 1;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        auto stat = vfs_stat(*ctx, argv[i], false);
        if (stat.is_error()) {
            status = console_vfs_failure("stat", "cannot stat", argv[i], stat.error());
            continue;
        }
        const keel_vfs_attr& attr = stat.value().attr;
        char mode[11];
        mode_string(attr.mode, mode);
        const char* kind = mode_is_directory(attr.mode) ? "directory"
            : mode_is_regular(attr.mode)                ? "regular file"
            : mode_is_symlink(attr.mode)                ? "symbolic link"
                                                        : "special file";
        console_print("  File: %s\n  Size: %llu\tBlocks: %llu\t%s\nDevice: %u\tMount: %u\tInode: %llu\tLinks: %u\n"
                      "Access: (%04o/%s)  Uid: %u  Gid: %u\nModify: %llu ns  Change: %llu ns  Access: %llu ns\n",
            argv[i], (unsigned long long)attr.size, (unsigned long long)attr.blocks, kind, stat.value().dev,
            stat.value().mount_id, (unsigned long long)attr.ino, attr.nlink, attr.mode & 07777, mode, attr.uid,
            attr.gid, (unsigned long long)attr.mtime_ns, (unsigned long long)attr.ctime_ns,
            (unsigned long long)attr.atime_ns);
    }
    return status;
}
KEEL_CONSOLE_COMMAND(stat, "stat", "PATH...", "show a file's attributes", stat_command);

int ln_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("ln");
    if (!ctx)
        return 1;
    bool symbolic = argc > 1 && strcmp(argv[1], "-s") == 0;
    int first = symbolic ? 2 : 1;
    if (argc - first != 2) {
        console_print("usage: ln [-s] TARGET LINK_NAME\n");
        return 2;
    }
    auto result
        = symbolic ? vfs_symlink(*ctx, argv[first], argv[first + 1]) : vfs_link(*ctx, argv[first], argv[first + 1]);
    if (result.is_error())
        return console_vfs_failure("ln", "failed to create link", argv[first + 1], result.error());
    return 0;
}
KEEL_CONSOLE_COMMAND(ln, "ln", "[-s] TARGET LINK_NAME", "make a hard or symbolic link", ln_command);

int mv_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("mv");
    if (!ctx)
        return 1;
    if (argc != 3) {
        console_print("usage: mv SOURCE DEST\n");
        return 2;
    }
    if (auto result = vfs_rename(*ctx, argv[1], argv[2]); result.is_error())
        return console_vfs_failure("mv", "cannot move", argv[1], result.error());
    return 0;
}
KEEL_CONSOLE_COMMAND(mv, "mv", "SOURCE DEST", "rename or move a file", mv_command);

} // namespace

} // namespace keel
