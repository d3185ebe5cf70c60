/*
 * nullfs: permanently empty and immutable, as Linux's immutable rootfs
 * ("fs: add immutable rootfs"). There is one instance: every mount gets
 * the same superblock handle and root directory, and the VFS, seeing a
 * handle it already has, gives the mount that superblock (one device for
 * every nullfs mount, as Linux's get_tree_single). The root is mode 0755,
 * owned by root, has no entries, and refuses every change with -EPERM.
 * Other filesystems can be mounted on it; nothing can be written to it.
 */
#include "nullfs_fs.h"

#define NULLFS_MAGIC 0x4e554c4cu /* "NULL" */

/* The one instance; never freed. */
static struct {
    uint64_t mounted_at_ns;
} g_instance;
static char g_root; /* its address is the root node's handle */

static int32_t nullfs_mount(const char* source, uint32_t flags, const char* data, void** super_out, void** root_out)
{
    (void)source;
    (void)flags;
    if (data && *data) {
        keel_logf(KEEL_LOG_ERR, "nullfs: takes no mount options, got '%s'", data);
        return -KEEL_EINVAL;
    }
    if (!g_instance.mounted_at_ns)
        g_instance.mounted_at_ns = keel_monotonic_ns();
    *super_out = &g_instance;
    *root_out = &g_root;
    return 0;
}

static void nullfs_kill_super(void* super) { (void)super; }

static int32_t nullfs_remount(void* super, uint32_t flags, const char* data)
{
    (void)super;
    (void)flags;
    return data && *data ? -KEEL_EINVAL : 0;
}

static int32_t nullfs_statfs(void* super, keel_vfs_statfs* out)
{
    (void)super;
    out->magic = NULLFS_MAGIC;
    out->block_size = 4096;
    out->blocks = 0;
    out->blocks_free = 0;
    out->files = 1;
    out->files_free = 0;
    out->name_max = KEEL_FS_NAME_MAX;
    return 0;
}

static int32_t nullfs_lookup(void* super, void* dir, const char* name, size_t length, void** node_out)
{
    (void)super;
    (void)dir;
    (void)name;
    (void)length;
    (void)node_out;
    return -KEEL_ENOENT;
}

static void nullfs_put_node(void* super, void* node)
{
    (void)super;
    (void)node;
}

static int32_t nullfs_getattr(void* super, void* node, keel_vfs_attr* out)
{
    (void)super;
    (void)node;
    out->ino = 1;
    out->size = 0;
    out->blocks = 0;
    out->atime_ns = out->mtime_ns = out->ctime_ns = g_instance.mounted_at_ns;
    out->mode = KEEL_S_IFDIR | 0755;
    out->uid = 0;
    out->gid = 0;
    out->nlink = 2;
    out->rdev = 0;
    out->reserved = 0;
    return 0;
}

static int32_t nullfs_setattr(void* super, void* node, const keel_vfs_attr* attr, uint32_t mask)
{
    (void)super;
    (void)node;
    (void)attr;
    (void)mask;
    return -KEEL_EPERM;
}

static int32_t nullfs_create(void* super, void* dir, const char* name, size_t length, uint32_t mode, uint32_t uid,
    uint32_t gid, uint32_t rdev, void** node_out)
{
    (void)super, (void)dir, (void)name, (void)length, (void)mode, (void)uid, (void)gid, (void)rdev, (void)node_out;
    return -KEEL_EPERM;
}

static int32_t nullfs_symlink(void* super, void* dir, const char* name, size_t length, const char* target,
    size_t target_length, uint32_t uid, uint32_t gid, void** node_out)
{
    (void)super, (void)dir, (void)name, (void)length, (void)target, (void)target_length, (void)uid, (void)gid;
    (void)node_out;
    return -KEEL_EPERM;
}

static int32_t nullfs_link(void* super, void* dir, const char* name, size_t length, void* node)
{
    (void)super, (void)dir, (void)name, (void)length, (void)node;
    return -KEEL_EPERM;
}

static int32_t nullfs_unlink(void* super, void* dir, const char* name, size_t length, void* node)
{
    (void)super, (void)dir, (void)name, (void)length, (void)node;
    return -KEEL_EPERM;
}

static int32_t nullfs_rename(void* super, void* old_dir, const char* old_name, size_t old_length, void* new_dir,
    const char* new_name, size_t new_length)
{
    (void)super, (void)old_dir, (void)old_name, (void)old_length, (void)new_dir, (void)new_name, (void)new_length;
    return -KEEL_EPERM;
}

static int32_t nullfs_readdir(void* super, void* dir, uint64_t* cookie, keel_fs_dirent_fn emit, void* context)
{
    (void)super, (void)dir, (void)cookie, (void)emit, (void)context;
    return 0;
}

const keel_fs_type_ops nullfs_type_ops = {
    .size = sizeof(keel_fs_type_ops),
    .version = KEEL_FS_TYPE_OPS_VERSION,
    .name = "nullfs",
    .flags = 0,
    .mount = nullfs_mount,
    .kill_super = nullfs_kill_super,
    .remount = nullfs_remount,
    .statfs = nullfs_statfs,
    .lookup = nullfs_lookup,
    .put_node = nullfs_put_node,
    .getattr = nullfs_getattr,
    .setattr = nullfs_setattr,
    .create = nullfs_create,
    .symlink = nullfs_symlink,
    .link = nullfs_link,
    .unlink = nullfs_unlink,
    .rmdir = nullfs_unlink,
    .rename = nullfs_rename,
    .readlink = NULL,
    .read = NULL,
    .write = NULL,
    .readdir = nullfs_readdir,
};
