// libFuzzer target for the VFS: the first byte picks what the rest is.
//   0: a cpio archive, unpacked into a fresh tmpfs root (the initramfs path)
//   1: a script of VFS operations on short paths drawn from the input
//      (walks through ".", "..", symlinks and mounts; renames, links,
//      mounts, lazy unmounts, pivot_root, unshare)
// After each input everything is torn down and every object must be gone:
// a leak, a crash, a hang or a sanitizer report is a finding.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host_platform.h"
#include "nullfs_fs.h"
#include "tmpfs_fs.h"
#include "vfs/unpack.h"
#include "vfs/vfs.h"

using namespace keel;

namespace {

int g_owner;

void setup(bool nullfs)
{
    if (!vfs_filesystem_registered("tmpfs")) {
        (void)vfs_register_filesystem(&tmpfs_type_ops, &g_owner);
        (void)vfs_register_filesystem(&nullfs_type_ops, &g_owner);
    }
    if (nullfs)
        (void)vfs_mount_root("nullfs", "none", nullptr);
    if (vfs_mount_root("tmpfs", "rootfs", "size=1m,nr_inodes=200").is_error())
        abort();
}

void teardown()
{
    vfs_reset_initial_namespace();
    VfsCounters counters = vfs_counters();
    if (counters.mounts || counters.superblocks || counters.dentries || counters.files || tmpfs_nodes_in_use()
        || tmpfs_pages_in_use() || host_platform_stats().pins)
        abort();
}

struct Script {
    const uint8_t* data;
    size_t size;
    size_t at = 0;
    uint8_t byte() { return at < size ? data[at++] : 0; }
    bool done() const { return at >= size; }
    // A path of up to 5 components from a small alphabet, so operations
    // meet each other's names.
    void path(char* out)
    {
        static const char* const kParts[] = { "a", "b", "c", ".", "..", "l", "m", "" };
        size_t length = 0;
        if (byte() & 1)
            out[length++] = '/';
        unsigned count = byte() % 5 + 1;
        for (unsigned i = 0; i < count; i++) {
            const char* part = kParts[byte() % 8];
            size_t part_length = strlen(part);
            memcpy(out + length, part, part_length);
            length += part_length;
            if (i + 1 < count)
                out[length++] = '/';
        }
        if (byte() % 8 == 0)
            out[length++] = '/';
        out[length] = '\0';
    }
};

void run_script(const uint8_t* data, size_t size)
{
    Script script { data, size };
    setup(script.byte() & 1);
    VfsContext& ctx = *vfs_kernel_context();
    VfsContext* other = nullptr;
    File* open_file = nullptr;
    char a[64], b[64];
    char buffer[256];
    unsigned steps = 0;
    while (!script.done() && steps++ < 200) {
        uint8_t op = script.byte() % 20;
        script.path(a);
        script.path(b);
        VfsContext& who = (other && (op & 1)) ? *other : ctx;
        switch (op) {
        case 0: (void)vfs_mkdir(who, a, 0755); break;
        case 1: {
            auto file = vfs_open(who, a, kOpenWriteOnly | kOpenCreate, 0644);
            if (file.is_ok()) {
                size_t length = script.byte() * 37u;
                memset(buffer, 'x', sizeof(buffer));
                (void)vfs_pwrite(*file.value(), length, buffer, sizeof(buffer));
                vfs_close(file.value());
            }
            break;
        }
        case 2: (void)vfs_unlink(who, a); break;
        case 3: (void)vfs_rmdir(who, a); break;
        case 4: (void)vfs_rename(who, a, b); break;
        case 5: (void)vfs_link(who, a, b); break;
        case 6: (void)vfs_symlink(who, a, b); break;
        case 7: (void)vfs_stat(who, a, script.byte() & 1); break;
        case 8: (void)vfs_chdir(who, a); break;
        case 9: (void)vfs_mount(who, "t", a, "tmpfs", 0, "size=64k"); break;
        case 10: (void)vfs_umount(who, a, script.byte() & 1 ? kUmountDetach : 0); break;
        case 11:
            (void)vfs_mount(who, a, b, nullptr, kMountBind | (script.byte() & 1 ? kMountRecursive : 0), nullptr);
            break;
        case 12: (void)vfs_mount(who, a, b, nullptr, kMountMove, nullptr); break;
        case 13: (void)vfs_pivot_root(who, a, b); break;
        case 14:
            if (!other) {
                auto clone = vfs_context_clone(ctx);
                if (clone.is_ok())
                    other = clone.value();
            } else {
                (void)vfs_unshare(*other, kCloneNewNamespace);
            }
            break;
        case 15: (void)vfs_truncate(who, a, script.byte() * 1000u); break;
        case 16: {
            auto file = vfs_open(who, a, kOpenReadOnly, 0);
            if (file.is_ok()) {
                (void)vfs_read(*file.value(), buffer, sizeof(buffer));
                if (!open_file)
                    open_file = file.value();
                else
                    vfs_close(file.value());
            }
            break;
        }
        case 17: {
            auto file = vfs_open(who, a, kOpenReadOnly | kOpenDirectory, 0);
            if (file.is_ok()) {
                auto visit = [](void*, const char*, size_t, uint64_t, uint32_t) { return 0; };
                (void)vfs_readdir(*file.value(), visit, nullptr);
                vfs_close(file.value());
            }
            break;
        }
        case 18: (void)vfs_readlink(who, a, buffer, sizeof(buffer)); break;
        case 19: {
            char cwd[kVfsPathMax];
            (void)vfs_getcwd(who, cwd, sizeof(cwd));
            break;
        }
        }
    }
    vfs_close(open_file);
    vfs_context_release(other);
    teardown();
}

void run_unpack(const uint8_t* data, size_t size)
{
    setup(false);
    UnpackOptions options;
    options.link_table_slots = 16;
    UnpackReport report {};
    keel::Diagnostic diagnostic;
    (void)unpack_cpio(*vfs_kernel_context(), "/", data, size, options, report, diagnostic);
    if (strnlen(diagnostic.message, sizeof(diagnostic.message)) == sizeof(diagnostic.message))
        abort();
    teardown();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        run_script(data + 1, size - 1);
    else
        run_unpack(data + 1, size - 1);
    return 0;
}
