// libFuzzer target for ext2: the input is a whole disk image (seeded with
// small images mke2fs made, make_seeds.py), put on a RAM disk, mounted
// with errors=continue so that every corrupt structure is met and
// survived, walked (every directory listed, every name stat'ed, files
// read, symlinks read), changed (create, write, mkdir, rename, truncate,
// unlink, rmdir) and unmounted. After each input every object must be
// gone: a crash, a hang (a cycle in a block map or a directory), a leak or
// a sanitizer report is a finding.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcache/bcache.h"
#include "bcache/ramdisk.h"
#include "ext2_fs.h"
#include "host_platform.h"
#include "tmpfs_fs.h"
#include "vfs/vfs.h"

using namespace keel;

namespace {

int g_owner;
constexpr size_t kMaxImage = 1 << 20;
constexpr size_t kReadLimit = 256 * 1024; // a corrupt i_size may claim terabytes of holes
constexpr int kMaxDepth = 12;
constexpr int kMaxVisits = 2000;

void setup()
{
    static bool done = false;
    if (done)
        return;
    done = true;
    if (vfs_register_filesystem(&tmpfs_type_ops, &g_owner).is_error()
        || vfs_register_filesystem(&ext2_type_ops, &g_owner).is_error()
        || vfs_mount_root("tmpfs", "rootfs", nullptr).is_error()
        || vfs_mkdir(*vfs_kernel_context(), "/mnt", 0755).is_error())
        abort();
}

struct Walk {
    VfsContext& ctx = *vfs_kernel_context();
    int visits = 0;
    char names[64][256];
    size_t count = 0;
};

int collect(void* context, const char* name, size_t length, uint64_t, uint32_t)
{
    auto* walk = static_cast<Walk*>(context);
    if (walk->count < 64 && length < 256) {
        memcpy(walk->names[walk->count], name, length);
        walk->names[walk->count][length] = '\0';
        walk->count++;
    }
    return 0;
}

void read_file(Walk& walk, const char* path)
{
    auto file = vfs_open(walk.ctx, path, kOpenReadOnly, 0);
    if (file.is_error())
        return;
    static char buffer[16384];
    size_t total = 0;
    while (total < kReadLimit) {
        auto got = vfs_read(*file.value(), buffer, sizeof(buffer));
        if (got.is_error() || got.value() == 0)
            break;
        total += got.value();
    }
    vfs_close(file.value());
}

void walk_tree(Walk& walk, const char* path, int depth)
{
    if (depth > kMaxDepth || ++walk.visits > kMaxVisits)
        return;
    auto dir = vfs_open(walk.ctx, path, kOpenReadOnly | kOpenDirectory, 0);
    if (dir.is_error())
        return;
    walk.count = 0;
    (void)vfs_readdir(*dir.value(), collect, &walk);
    vfs_close(dir.value());
    // Copied: the recursion reuses the buffer.
    size_t count = walk.count;
    char(*names)[256] = static_cast<char(*)[256]>(malloc(sizeof(walk.names[0]) * (count ? count : 1)));
    if (!names)
        abort();
    memcpy(names, walk.names, sizeof(walk.names[0]) * count);
    for (size_t i = 0; i < count; i++) {
        if (!strcmp(names[i], ".") || !strcmp(names[i], ".."))
            continue;
        char child[512];
        snprintf(child, sizeof(child), "%s/%s", path, names[i]);
        auto stat = vfs_stat(walk.ctx, child, false);
        if (stat.is_error())
            continue;
        uint32_t mode = stat.value().attr.mode;
        if (mode_is_directory(mode)) {
            walk_tree(walk, child, depth + 1);
        } else if (mode_is_regular(mode)) {
            read_file(walk, child);
        } else if (mode_is_symlink(mode)) {
            char target[4096];
            (void)vfs_readlink(walk.ctx, child, target, sizeof(target));
        }
    }
    free(names);
}

void change(VfsContext& ctx, const uint8_t* data, size_t size)
{
    static char bytes[5000];
    memset(bytes, 'k', sizeof(bytes));
    if (auto file = vfs_open(ctx, "/mnt/fuzz-new", kOpenWriteOnly | kOpenCreate, 0644); file.is_ok()) {
        (void)vfs_pwrite(*file.value(), 0, bytes, sizeof(bytes));
        (void)vfs_pwrite(*file.value(), 300000, bytes, 100); // through an indirect block
        vfs_close(file.value());
    }
    (void)vfs_mkdir(ctx, "/mnt/fuzz-dir", 0755);
    (void)vfs_symlink(ctx, "fuzz-new", "/mnt/fuzz-dir/link");
    (void)vfs_rename(ctx, "/mnt/fuzz-new", "/mnt/fuzz-dir/moved");
    (void)vfs_link(ctx, "/mnt/fuzz-dir/moved", "/mnt/fuzz-second");
    // Names the image holds: the seeds' tree (d/f, big, l, slow, p).
    (void)vfs_truncate(ctx, "/mnt/big", size > 4 ? data[4] * 100u : 0);
    (void)vfs_rename(ctx, "/mnt/d", "/mnt/fuzz-dir/d");
    (void)vfs_unlink(ctx, "/mnt/fuzz-dir/d/f");
    (void)vfs_rmdir(ctx, "/mnt/fuzz-dir/d");
    (void)vfs_unlink(ctx, "/mnt/slow");
    (void)vfs_unlink(ctx, "/mnt/fuzz-second");
    (void)vfs_statfs(ctx, "/mnt");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    setup();
    if (size == 0 || size > kMaxImage)
        return 0;
    auto disk = ramdisk_create("fuzz0", size, false);
    if (disk.is_error())
        abort();
    memcpy(ramdisk_data(*disk.value()), data, size);
    VfsContext& ctx = *vfs_kernel_context();
    if (vfs_mount(ctx, "/dev/fuzz0", "/mnt", "ext2", 0, "errors=continue").is_ok()) {
        Walk walk;
        walk_tree(walk, "/mnt", 0);
        change(ctx, data, size);
        walk.visits = 0;
        walk_tree(walk, "/mnt", 0);
        if (vfs_umount(ctx, "/mnt", 0).is_error())
            abort();
    }
    if (ramdisk_destroy("fuzz0").is_error())
        abort();
    BcacheStats cache = bcache_stats();
    if (ext2_nodes_in_use() || cache.held || cache.buffers || vfs_counters().files)
        abort();
    host_take_logs();
    return 0;
}
