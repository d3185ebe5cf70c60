/*
 * The VFS's operations on ext2 nodes (keel_fs_type_ops): names, links,
 * attributes, symlinks, devices, contents. The VFS has checked
 * permissions, types and name lengths; what the disk says is checked
 * here.
 */
#include "ext2_internal.h"

#define NS_PER_SECOND 1000000000ull

static struct ext2_fs* fs_of(void* super) { return (struct ext2_fs*)super; }
static struct ext2_node* node_of(void* node) { return (struct ext2_node*)node; }

int ext2_op_lookup(void* super, void* dir_node, const char* name, size_t length, void** node_out)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* dir = node_of(dir_node);
    uint32_t ino;
    int rc = ext2_dir_find(fs, dir, name, length, &ino);
    if (rc)
        return rc;
    if (ino == dir->ino || (ino < fs->first_ino && ino != EXT2_ROOT_INO))
        return EXT2_CORRUPT(fs, dir->ino, "entry \"%.*s\" names inode %u, %s", (int)length, name, ino,
            ino == dir->ino ? "the directory itself" : "a reserved inode");
    struct ext2_node* node;
    rc = ext2_get_node(fs, ino, &node);
    if (rc)
        return rc;
    if (ext2_is_dir(node)) {
        /* A directory has one parent, and its ".." says which: anything
         * else is a second link to it or a loop. */
        uint32_t parent;
        rc = ext2_dir_parent(fs, node, &parent);
        if (!rc && parent != dir->ino)
            rc = EXT2_CORRUPT(fs, ino, "\"..\" is inode %u, but the directory is \"%.*s\" in directory %u", parent,
                (int)length, name, dir->ino);
        if (rc) {
            ext2_put_node(fs, node);
            return rc;
        }
    }
    *node_out = node;
    return 0;
}

void ext2_op_put_node(void* super, void* node) { ext2_put_node(fs_of(super), node_of(node)); }

static uint32_t decode_device(const struct ext2_node* node)
{
    uint32_t major, minor;
    if (node->raw.i_block[0]) {
        uint32_t old = node->raw.i_block[0];
        major = (old >> 8) & 0xff;
        minor = old & 0xff;
    } else {
        uint32_t encoded = node->raw.i_block[1];
        major = (encoded & 0xfff00) >> 8;
        minor = (encoded & 0xff) | ((encoded >> 12) & 0xfff00);
    }
    return major << 20 | minor;
}

static void encode_device(struct ext2_node* node, uint32_t rdev)
{
    uint32_t major = rdev >> 20, minor = rdev & 0xfffff;
    if (major < 256 && minor < 256) {
        node->raw.i_block[0] = major << 8 | minor;
    } else {
        node->raw.i_block[0] = 0;
        node->raw.i_block[1] = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
    }
}

static int is_device(const struct ext2_node* node)
{
    uint32_t type = ext2_mode_type(node);
    return type == KEEL_S_IFCHR || type == KEEL_S_IFBLK;
}

int ext2_op_getattr(void* super, void* node_handle, keel_vfs_attr* out)
{
    (void)super;
    const struct ext2_node* node = node_of(node_handle);
    const struct ext2_inode* raw = &node->raw;
    out->ino = node->ino;
    out->size = node->size;
    out->blocks = raw->i_blocks;
    out->atime_ns = raw->i_atime * NS_PER_SECOND;
    out->mtime_ns = raw->i_mtime * NS_PER_SECOND;
    out->ctime_ns = raw->i_ctime * NS_PER_SECOND;
    out->mode = raw->i_mode;
    out->uid = ext2_uid(node);
    out->gid = ext2_gid(node);
    out->nlink = raw->i_links_count;
    out->rdev = is_device(node) ? decode_device(node) : 0;
    out->reserved = 0;
    return 0;
}

int ext2_op_setattr(void* super, void* node_handle, const keel_vfs_attr* attr, uint32_t mask)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* node = node_of(node_handle);
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    if (mask & KEEL_VFS_ATTR_SIZE) {
        rc = ext2_truncate(fs, node, attr->size);
        if (rc)
            return rc;
    }
    struct ext2_inode* raw = &node->raw;
    if (mask & KEEL_VFS_ATTR_MODE)
        raw->i_mode = (uint16_t)((raw->i_mode & KEEL_S_IFMT) | (attr->mode & 07777));
    if (mask & KEEL_VFS_ATTR_UID) {
        raw->i_uid = (uint16_t)attr->uid;
        raw->i_uid_high = (uint16_t)(attr->uid >> 16);
    }
    if (mask & KEEL_VFS_ATTR_GID) {
        raw->i_gid = (uint16_t)attr->gid;
        raw->i_gid_high = (uint16_t)(attr->gid >> 16);
    }
    if (mask & KEEL_VFS_ATTR_ATIME)
        raw->i_atime = (uint32_t)(attr->atime_ns / NS_PER_SECOND);
    if (mask & KEEL_VFS_ATTR_MTIME)
        raw->i_mtime = (uint32_t)(attr->mtime_ns / NS_PER_SECOND);
    ext2_touch(fs, node, 0);
    return ext2_write_inode(fs, node);
}

/* Takes back an inode that never got a name: its blocks and itself. */
static void discard(struct ext2_fs* fs, struct ext2_node* node)
{
    node->raw.i_links_count = 0;
    ext2_put_node(fs, node);
}

int ext2_op_create(void* super, void* dir_node, const char* name, size_t length, uint32_t mode, uint32_t uid,
    uint32_t gid, uint32_t rdev, void** node_out)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* dir = node_of(dir_node);
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    int is_dir = (mode & KEEL_S_IFMT) == KEEL_S_IFDIR;
    if (is_dir && dir->raw.i_links_count >= EXT2_LINK_MAX)
        return -KEEL_EMLINK;
    struct ext2_node* node;
    rc = ext2_new_node(fs, dir, mode, uid, gid, &node);
    if (rc)
        return rc;
    if (is_dir) {
        node->raw.i_links_count = 2;
        rc = ext2_dir_init(fs, node, dir->ino);
    } else if (is_device(node)) {
        encode_device(node, rdev);
        rc = ext2_write_inode(fs, node);
    }
    if (!rc)
        rc = ext2_dir_add(fs, dir, name, length, node->ino, mode);
    if (rc) {
        discard(fs, node);
        return rc;
    }
    if (is_dir) {
        dir->raw.i_links_count++;
        ext2_write_inode(fs, dir);
    }
    *node_out = node;
    return 0;
}

int ext2_op_symlink(void* super, void* dir_node, const char* name, size_t length, const char* target,
    size_t target_length, uint32_t uid, uint32_t gid, void** node_out)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* dir = node_of(dir_node);
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    /* A slow symlink is one block (e2fsck allows no more, as Linux). */
    if (target_length >= fs->block_size)
        return -KEEL_ENAMETOOLONG;
    struct ext2_node* node;
    rc = ext2_new_node(fs, dir, KEEL_S_IFLNK | 0777, uid, gid, &node);
    if (rc)
        return rc;
    if (target_length < EXT2_FAST_SYMLINK_MAX) {
        ext2_copy(node->raw.i_block, target, target_length);
        ext2_set_size(node, target_length);
        rc = ext2_write_inode(fs, node);
    } else {
        size_t done;
        rc = ext2_write(fs, node, 0, target, target_length, &done);
        if (!rc && done != target_length)
            rc = -KEEL_ENOSPC;
    }
    if (!rc)
        rc = ext2_dir_add(fs, dir, name, length, node->ino, KEEL_S_IFLNK);
    if (rc) {
        discard(fs, node);
        return rc;
    }
    *node_out = node;
    return 0;
}

int ext2_op_link(void* super, void* dir_node, const char* name, size_t length, void* target)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* node = node_of(target);
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    if (node->raw.i_links_count >= EXT2_LINK_MAX)
        return -KEEL_EMLINK;
    rc = ext2_dir_add(fs, node_of(dir_node), name, length, node->ino, node->raw.i_mode);
    if (rc)
        return rc;
    node->raw.i_links_count++;
    ext2_touch(fs, node, 0);
    return ext2_write_inode(fs, node);
}

static void drop_link(struct ext2_fs* fs, struct ext2_node* node)
{
    if (node->raw.i_links_count > 0)
        node->raw.i_links_count--;
    ext2_touch(fs, node, 0);
    ext2_write_inode(fs, node);
}

int ext2_op_unlink(void* super, void* dir_node, const char* name, size_t length, void* target)
{
    struct ext2_fs* fs = fs_of(super);
    int rc = ext2_check_writable(fs);
    if (!rc)
        rc = ext2_dir_remove(fs, node_of(dir_node), name, length, node_of(target)->ino);
    if (!rc)
        drop_link(fs, node_of(target));
    return rc;
}

int ext2_op_rmdir(void* super, void* dir_node, const char* name, size_t length, void* target)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* dir = node_of(dir_node);
    struct ext2_node* node = node_of(target);
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    int empty;
    rc = ext2_dir_is_empty(fs, node, &empty);
    if (rc)
        return rc;
    if (!empty)
        return -KEEL_ENOTEMPTY;
    rc = ext2_dir_remove(fs, dir, name, length, node->ino);
    if (rc)
        return rc;
    node->raw.i_links_count = 0;
    ext2_touch(fs, node, 0);
    ext2_write_inode(fs, node);
    drop_link(fs, dir); /* its ".." */
    return 0;
}

/* The directory named by inode `ino`'s "..". */
static int parent_of(struct ext2_fs* fs, uint32_t ino, uint32_t* parent)
{
    struct ext2_node* node;
    int rc = ext2_get_node(fs, ino, &node);
    if (rc)
        return rc;
    if (ext2_is_dir(node))
        rc = ext2_dir_parent(fs, node, parent);
    else
        rc = EXT2_CORRUPT(fs, ino, "a \"..\" names it, but it is not a directory");
    ext2_put_node(fs, node);
    return rc;
}

/* A directory moving into `dir` must not be `dir` or above it. The VFS
 * checks its dentries, but a directory with two names in one parent (a
 * corrupt disk) is two dentries: the disk's ".." chain decides. It ends
 * at the root; a loop in it is found by Brent's method (a mark moved to
 * the walk's place at every power of two steps: a loop brings the walk
 * back to it), so the walk is bounded by twice the chain's length. */
static int check_not_below(struct ext2_fs* fs, struct ext2_node* dir, uint32_t moving)
{
    uint32_t current = dir->ino;
    uint32_t mark = current, steps = 0, limit = 1;
    while (current != EXT2_ROOT_INO) {
        if (current == moving)
            return -KEEL_EINVAL; /* as rename(2) into its own subdirectory */
        int rc = parent_of(fs, current, &current);
        if (rc)
            return rc;
        if (current == mark)
            return EXT2_CORRUPT(fs, dir->ino, "the \"..\" entries above the directory loop at inode %u", current);
        if (++steps == limit) {
            mark = current;
            steps = 0;
            limit = limit < 0x80000000u ? limit * 2 : limit;
        }
    }
    return 0;
}

/* What must hold before a rename changes anything. */
static int check_rename(struct ext2_fs* fs, struct ext2_node* old_dir, struct ext2_node* new_dir,
    struct ext2_node* source, struct ext2_node* target)
{
    if (target && ext2_is_dir(target)) {
        int empty;
        int rc = ext2_dir_is_empty(fs, target, &empty);
        if (rc)
            return rc;
        if (!empty)
            return -KEEL_ENOTEMPTY;
    }
    if (!ext2_is_dir(source) || old_dir == new_dir)
        return 0;
    if (!target && new_dir->raw.i_links_count >= EXT2_LINK_MAX)
        return -KEEL_EMLINK;
    return check_not_below(fs, new_dir, source->ino);
}

/* The VFS does not say which inodes it resolved the names to; a name the
 * directory holds once is the one it met, a name held twice is refused
 * (ext2_dir_find_only). */
int ext2_op_rename(void* super, void* old_dir_node, const char* old_name, size_t old_length, void* new_dir_node,
    const char* new_name, size_t new_length)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* old_dir = node_of(old_dir_node);
    struct ext2_node* new_dir = node_of(new_dir_node);
    int rc = ext2_check_writable(fs);
    if (rc)
        return rc;
    uint32_t source_ino, target_ino = 0;
    rc = ext2_dir_find_only(fs, old_dir, old_name, old_length, &source_ino);
    if (rc)
        return rc;
    rc = ext2_dir_find_only(fs, new_dir, new_name, new_length, &target_ino);
    if (rc && rc != -KEEL_ENOENT)
        return rc;
    if (target_ino == source_ino)
        return 0; /* two names of one inode: nothing to do (as rename(2)) */
    struct ext2_node* source;
    struct ext2_node* target = 0;
    rc = ext2_get_node(fs, source_ino, &source);
    if (rc)
        return rc;
    if (target_ino)
        rc = ext2_get_node(fs, target_ino, &target);
    int moves_dir = ext2_is_dir(source);
    if (!rc)
        rc = check_rename(fs, old_dir, new_dir, source, target);
    /* The new name first: a failure leaves the old one. */
    if (!rc)
        rc = target ? ext2_dir_retarget(fs, new_dir, new_name, new_length, target_ino, source_ino, source->raw.i_mode)
                    : ext2_dir_add(fs, new_dir, new_name, new_length, source_ino, source->raw.i_mode);
    if (!rc)
        rc = ext2_dir_remove(fs, old_dir, old_name, old_length, source_ino);
    if (!rc && moves_dir && old_dir != new_dir) {
        rc = ext2_dir_set_parent(fs, source, new_dir->ino);
        drop_link(fs, old_dir);
        if (!target || !ext2_is_dir(target)) {
            new_dir->raw.i_links_count++;
            ext2_write_inode(fs, new_dir);
        }
    }
    if (!rc && target) {
        if (ext2_is_dir(target)) {
            target->raw.i_links_count = 0;
            ext2_touch(fs, target, 0);
            ext2_write_inode(fs, target);
            if (old_dir == new_dir)
                drop_link(fs, new_dir); /* the replaced directory's ".." */
        } else {
            drop_link(fs, target);
        }
    }
    if (!rc) {
        ext2_touch(fs, source, 0);
        ext2_write_inode(fs, source);
    }
    if (target)
        ext2_put_node(fs, target);
    ext2_put_node(fs, source);
    return rc;
}

int ext2_op_readlink(void* super, void* node_handle, char* buffer, size_t size, size_t* length_out)
{
    struct ext2_fs* fs = fs_of(super);
    struct ext2_node* node = node_of(node_handle);
    size_t length = (size_t)node->size;
    size_t copy = length < size ? length : size;
    *length_out = length;
    if (ext2_symlink_is_fast(fs, node)) {
        ext2_copy(buffer, node->raw.i_block, copy);
        return 0;
    }
    size_t done;
    int rc = ext2_read(fs, node, 0, buffer, copy, &done);
    if (!rc && done != copy)
        rc = EXT2_CORRUPT(fs, node->ino, "symlink target is shorter than its i_size %zu", length);
    return rc;
}

int ext2_op_read(void* super, void* node, uint64_t offset, void* buffer, size_t size, size_t* done_out)
{
    return ext2_read(fs_of(super), node_of(node), offset, buffer, size, done_out);
}

int ext2_op_write(void* super, void* node, uint64_t offset, const void* buffer, size_t size, size_t* done_out)
{
    return ext2_write(fs_of(super), node_of(node), offset, buffer, size, done_out);
}

int ext2_op_readdir(void* super, void* dir, uint64_t* cookie, keel_fs_dirent_fn emit, void* context)
{
    return ext2_dir_iterate(fs_of(super), node_of(dir), cookie, emit, context);
}
