// Operations on names: mkdir, mknod, unlink, rmdir, rename, link, symlink,
// readlink, truncate, stat, setattr, statfs. Each resolves its path(s),
// checks what Linux checks (types, permissions, read-only mounts, busy
// mountpoints) and only then calls the filesystem.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

#define OP_OR(sb, name, missing)                                                                                       \
    if (!(sb)->type->ops.name)                                                                                         \
    return Err(missing)

// Checks for creating a name in the parent: a live, writable, searchable
// directory on a writable mount.
Result<void> may_create(VfsContext& context, const ParentWalk& at) REQUIRES(g_vfs_lock)
{
    Dentry* dir = at.parent.dentry;
    if (!dir->hashed && !dir->is_root())
        return Err(Error::ENOENT);
    TRY(check_writable_mount(at.parent.mount));
    TRY(check_access(context, dir, 3));
    return {};
}

// The sticky-bit rule: in a directory with the sticky bit, only the owner
// of a name (or of the directory, or root) may remove or replace it.
Result<void> may_delete(VfsContext& context, Dentry* dir, Dentry* child) REQUIRES(g_vfs_lock)
{
    if (context.uid == 0)
        return {};
    auto dir_attr = get_attr(dir);
    auto child_attr = get_attr(child);
    if (dir_attr.is_ok() && child_attr.is_ok() && (dir_attr.value().mode & 01000) && context.uid != dir_attr.value().uid
        && context.uid != child_attr.value().uid)
        return Err(Error::EPERM);
    return {};
}

// The existing child for unlink/rmdir/rename, with the sticky-bit rule.
Result<Dentry*> existing_child(VfsContext& context, const ParentWalk& at) REQUIRES(g_vfs_lock)
{
    Dentry* child = TRY(lookup_child(at.parent.dentry, at.name, at.name_length));
    if (auto allowed = may_delete(context, at.parent.dentry, child); allowed.is_error()) {
        dentry_put(child);
        return Err(allowed.error());
    }
    return child;
}

Result<void> create_node(VfsContext& context, const char* path, uint32_t mode, uint32_t rdev, bool is_mkdir)
    REQUIRES(g_vfs_lock)
{
    HeldParent at { TRY(walk_parent(context, path)) };
    if (at.get().is_dot_or_dotdot())
        return Err(Error::EEXIST);
    if (at.get().trailing_slash && !is_mkdir)
        return Err(Error::ENOENT);
    auto existing = lookup_child(at.get().parent.dentry, at.get().name, at.get().name_length);
    if (existing.is_ok()) {
        dentry_put(existing.value());
        return Err(Error::EEXIST);
    }
    if (existing.error() != Error::ENOENT)
        return Err(existing.error());
    TRY(may_create(context, at.get()));
    Superblock* sb = at.get().parent.dentry->sb;
    OP_OR(sb, create, Error::EPERM);
    DentryMemory memory = dentry_reserve(at.get().name_length);
    if (!memory.bytes)
        return Err(Error::ENOMEM);
    void* node = nullptr;
    int32_t result = sb->type->ops.create(sb->data, at.get().parent.dentry->node, at.get().name, at.get().name_length,
        mode, context.uid, context.gid, rdev, &node);
    if (result != 0) {
        dentry_unreserve(memory);
        return Err(fs_error(result));
    }
    dentry_add_reserved(memory, at.get().parent.dentry, at.get().name, at.get().name_length, node, mode);
    return {};
}

} // namespace

Result<Dentry*> create_file(VfsContext& context, const ParentWalk& at, uint32_t mode)
{
    TRY(may_create(context, at));
    Superblock* sb = at.parent.dentry->sb;
    OP_OR(sb, create, Error::EPERM);
    DentryMemory memory = dentry_reserve(at.name_length);
    if (!memory.bytes)
        return Err(Error::ENOMEM);
    void* node = nullptr;
    uint32_t full_mode = kModeRegular | (mode & 07777);
    int32_t result = sb->type->ops.create(
        sb->data, at.parent.dentry->node, at.name, at.name_length, full_mode, context.uid, context.gid, 0, &node);
    if (result != 0) {
        dentry_unreserve(memory);
        return Err(fs_error(result));
    }
    return dentry_get(dentry_add_reserved(memory, at.parent.dentry, at.name, at.name_length, node, full_mode));
}

Result<void> truncate_dentry(VfsContext& context, const Path& path, uint64_t size)
{
    if (path.dentry->is_directory())
        return Err(Error::EISDIR);
    if (!mode_is_regular(path.dentry->mode))
        return Err(Error::EINVAL);
    TRY(check_writable_mount(path.mount));
    TRY(check_access(context, path.dentry, 2));
    Superblock* sb = path.dentry->sb;
    OP_OR(sb, setattr, Error::EPERM);
    keel_vfs_attr attr {};
    attr.size = size;
    int32_t result = sb->type->ops.setattr(sb->data, path.dentry->node, &attr, KEEL_VFS_ATTR_SIZE);
    if (result != 0)
        return Err(fs_error(result));
    return {};
}

Result<VfsStat> stat_path(const Path& path)
{
    VfsStat stat {};
    stat.attr = TRY(get_attr(path.dentry));
    stat.dev = path.dentry->sb->dev;
    stat.mount_id = path.mount->id;
    return stat;
}

} // namespace keel::vfs

namespace keel {

using namespace vfs;

Result<void> vfs_mkdir(VfsContext& context, const char* path, uint32_t mode)
{
    LockGuard guard;
    return create_node(context, path, kModeDirectory | (mode & 07777), 0, true);
}

Result<void> vfs_mknod(VfsContext& context, const char* path, uint32_t mode, uint32_t rdev)
{
    uint32_t type = mode & kModeTypeMask;
    if (type == 0)
        mode |= kModeRegular;
    else if (type == kModeDirectory || type == kModeSymlink)
        return Err(Error::EINVAL);
    else if ((type == KEEL_S_IFCHR || type == KEEL_S_IFBLK) && context.uid != 0)
        return Err(Error::EPERM);
    else if (type != kModeRegular && type != KEEL_S_IFCHR && type != KEEL_S_IFBLK && type != KEEL_S_IFIFO
        && type != KEEL_S_IFSOCK)
        return Err(Error::EINVAL);
    LockGuard guard;
    return create_node(context, path, mode, rdev, false);
}

// The end of unlink and rmdir: permission, not a mount point, then the
// filesystem's operation (`op`: unlink or rmdir) and the name's removal.
Result<void> remove_child(VfsContext& context, const HeldParent& at, Dentry* child,
    keel_fs_unlink_fn keel_fs_type_ops::*op) REQUIRES(g_vfs_lock)
{
    TRY(may_create(context, at.get()));
    if (child->mounted)
        return Err(Error::EBUSY);
    Superblock* sb = child->sb;
    keel_fs_unlink_fn remove = sb->type->ops.*op;
    if (!remove)
        return Err(Error::EPERM);
    int32_t result = remove(sb->data, at.get().parent.dentry->node, at.get().name, at.get().name_length, child->node);
    if (result != 0)
        return Err(fs_error(result));
    dentry_unhash(child);
    return {};
}

Result<void> vfs_unlink(VfsContext& context, const char* path)
{
    LockGuard guard;
    HeldParent at { TRY(walk_parent(context, path)) };
    if (at.get().is_dot_or_dotdot())
        return Err(Error::EISDIR);
    HeldDentry child { TRY(existing_child(context, at.get())) };
    if (child.get()->is_directory())
        return Err(Error::EISDIR);
    if (at.get().trailing_slash)
        return Err(Error::ENOTDIR);
    return remove_child(context, at, child.get(), &keel_fs_type_ops::unlink);
}

Result<void> vfs_rmdir(VfsContext& context, const char* path)
{
    LockGuard guard;
    HeldParent at { TRY(walk_parent(context, path)) };
    if (at.get().name_length == 1 && at.get().name[0] == '.')
        return Err(Error::EINVAL);
    if (at.get().is_dot_or_dotdot())
        return Err(Error::ENOTEMPTY);
    HeldDentry child { TRY(existing_child(context, at.get())) };
    if (!child.get()->is_directory())
        return Err(Error::ENOTDIR);
    return remove_child(context, at, child.get(), &keel_fs_type_ops::rmdir);
}

Result<void> vfs_rename(VfsContext& context, const char* old_path, const char* new_path)
{
    LockGuard guard;
    HeldParent from { TRY(walk_parent(context, old_path)) };
    HeldParent to { TRY(walk_parent(context, new_path)) };
    if (from.get().is_dot_or_dotdot() || to.get().is_dot_or_dotdot())
        return Err(Error::EBUSY);
    if (from.get().parent.mount != to.get().parent.mount)
        return Err(Error::EXDEV);
    HeldDentry source { TRY(existing_child(context, from.get())) };
    if ((from.get().trailing_slash || to.get().trailing_slash) && !source.get()->is_directory())
        return Err(Error::ENOTDIR);
    TRY(may_create(context, from.get()));
    TRY(may_create(context, to.get()));
    HeldDentry target;
    auto existing = lookup_child(to.get().parent.dentry, to.get().name, to.get().name_length);
    if (existing.is_ok())
        target.get() = existing.value();
    else if (existing.error() != Error::ENOENT)
        return Err(existing.error());
    if (target.get() && target.get()->node == source.get()->node)
        return {}; // the same name, or two hard links to one file: nothing to do
    if (target.get())
        TRY(may_delete(context, to.get().parent.dentry, target.get())); // replacing is removing
    if (source.get()->is_directory()) {
        // A directory cannot move below itself.
        if (is_subdir(to.get().parent.dentry, source.get()))
            return Err(Error::EINVAL);
        if (target.get() && !target.get()->is_directory())
            return Err(Error::ENOTDIR);
    } else if (target.get() && target.get()->is_directory()) {
        return Err(Error::EISDIR);
    }
    if (target.get() && is_subdir(from.get().parent.dentry, target.get()))
        return Err(Error::ENOTEMPTY);
    if (source.get()->mounted || (target.get() && target.get()->mounted))
        return Err(Error::EBUSY);
    // Room for the new name first: once the filesystem renamed, the move
    // must not fail (without it the dentry tree and the disk disagreed).
    TRY(dentry_reserve_name(source.get(), to.get().name_length));
    Superblock* sb = source.get()->sb;
    OP_OR(sb, rename, Error::EPERM);
    int32_t result = sb->type->ops.rename(sb->data, from.get().parent.dentry->node, from.get().name,
        from.get().name_length, to.get().parent.dentry->node, to.get().name, to.get().name_length);
    if (result != 0)
        return Err(fs_error(result));
    if (target.get())
        dentry_unhash(target.get());
    dentry_move(source.get(), to.get().parent.dentry, to.get().name, to.get().name_length);
    return {};
}

Result<void> vfs_link(VfsContext& context, const char* old_path, const char* new_path)
{
    LockGuard guard;
    HeldPath old { TRY(walk(context, old_path, 0)) };
    if (old.get().dentry->is_directory())
        return Err(Error::EPERM);
    HeldParent at { TRY(walk_parent(context, new_path)) };
    if (at.get().is_dot_or_dotdot())
        return Err(Error::EEXIST);
    if (at.get().parent.mount != old.get().mount)
        return Err(Error::EXDEV);
    auto existing = lookup_child(at.get().parent.dentry, at.get().name, at.get().name_length);
    if (existing.is_ok()) {
        dentry_put(existing.value());
        return Err(Error::EEXIST);
    }
    if (existing.error() != Error::ENOENT)
        return Err(existing.error());
    if (at.get().trailing_slash)
        return Err(Error::ENOENT);
    TRY(may_create(context, at.get()));
    Superblock* sb = old.get().dentry->sb;
    OP_OR(sb, link, Error::EPERM);
    int32_t result = sb->type->ops.link(
        sb->data, at.get().parent.dentry->node, at.get().name, at.get().name_length, old.get().dentry->node);
    if (result != 0)
        return Err(fs_error(result));
    // The next lookup of the new name finds the node through the filesystem.
    return {};
}

Result<void> vfs_symlink(VfsContext& context, const char* target, const char* link_path)
{
    if (!target)
        return Err(Error::EFAULT);
    size_t target_length = strnlen(target, kVfsPathMax);
    if (target_length == 0)
        return Err(Error::ENOENT);
    if (target_length >= kVfsPathMax)
        return Err(Error::ENAMETOOLONG);
    LockGuard guard;
    HeldParent at { TRY(walk_parent(context, link_path)) };
    if (at.get().is_dot_or_dotdot())
        return Err(Error::EEXIST);
    auto existing = lookup_child(at.get().parent.dentry, at.get().name, at.get().name_length);
    if (existing.is_ok()) {
        dentry_put(existing.value());
        return Err(Error::EEXIST);
    }
    if (existing.error() != Error::ENOENT)
        return Err(existing.error());
    if (at.get().trailing_slash)
        return Err(Error::ENOENT);
    TRY(may_create(context, at.get()));
    Superblock* sb = at.get().parent.dentry->sb;
    OP_OR(sb, symlink, Error::EPERM);
    DentryMemory memory = dentry_reserve(at.get().name_length);
    if (!memory.bytes)
        return Err(Error::ENOMEM);
    void* node = nullptr;
    int32_t result = sb->type->ops.symlink(sb->data, at.get().parent.dentry->node, at.get().name, at.get().name_length,
        target, target_length, context.uid, context.gid, &node);
    if (result != 0) {
        dentry_unreserve(memory);
        return Err(fs_error(result));
    }
    dentry_add_reserved(memory, at.get().parent.dentry, at.get().name, at.get().name_length, node, kModeSymlink | 0777);
    return {};
}

Result<size_t> vfs_readlink(VfsContext& context, const char* path, char* buffer, size_t size)
{
    LockGuard guard;
    HeldPath at { TRY(walk(context, path, 0)) };
    if (!at.get().dentry->is_symlink())
        return Err(Error::EINVAL);
    Superblock* sb = at.get().dentry->sb;
    OP_OR(sb, readlink, Error::EINVAL);
    size_t length = 0;
    int32_t result = sb->type->ops.readlink(sb->data, at.get().dentry->node, buffer, size, &length);
    if (result != 0)
        return Err(fs_error(result));
    return min(length, size);
}

Result<void> vfs_truncate(VfsContext& context, const char* path, uint64_t size)
{
    LockGuard guard;
    HeldPath at { TRY(walk(context, path, kWalkFollow)) };
    return truncate_dentry(context, at.get(), size);
}

Result<VfsStat> vfs_stat(VfsContext& context, const char* path, bool follow_last_symlink)
{
    LockGuard guard;
    HeldPath at { TRY(walk(context, path, follow_last_symlink ? kWalkFollow : 0)) };
    return stat_path(at.get());
}

Result<void> vfs_setattr(
    VfsContext& context, const char* path, const keel_vfs_attr& attr, uint32_t mask, bool follow_last_symlink)
{
    constexpr uint32_t kKnown = KEEL_VFS_ATTR_MODE | KEEL_VFS_ATTR_UID | KEEL_VFS_ATTR_GID | KEEL_VFS_ATTR_SIZE
        | KEEL_VFS_ATTR_ATIME | KEEL_VFS_ATTR_MTIME;
    if (mask & ~kKnown)
        return Err(Error::EINVAL);
    LockGuard guard;
    HeldPath at { TRY(walk(context, path, follow_last_symlink ? kWalkFollow : 0)) };
    bool resize = mask & KEEL_VFS_ATTR_SIZE;
    mask &= ~KEEL_VFS_ATTR_SIZE;
    if (!mask)
        return resize ? truncate_dentry(context, at.get(), attr.size) : Result<void> {};
    // Every check before any change, as Linux's setattr_prepare: a request
    // refused for its owner or mode must not have truncated the file.
    TRY(check_writable_mount(at.get().mount));
    keel_vfs_attr current = TRY(get_attr(at.get().dentry));
    // chown is for root; chmod and times for the owner too.
    if ((mask & (KEEL_VFS_ATTR_UID | KEEL_VFS_ATTR_GID)) && context.uid != 0)
        return Err(Error::EPERM);
    if (context.uid != 0 && context.uid != current.uid)
        return Err(Error::EPERM);
    Superblock* sb = at.get().dentry->sb;
    OP_OR(sb, setattr, Error::EPERM);
    if (resize)
        TRY(truncate_dentry(context, at.get(), attr.size));
    keel_vfs_attr change = attr;
    change.mode = (current.mode & kModeTypeMask) | (attr.mode & 07777);
    int32_t result = sb->type->ops.setattr(sb->data, at.get().dentry->node, &change, mask);
    if (result != 0)
        return Err(fs_error(result));
    return {};
}

Result<keel_vfs_statfs> vfs_statfs(VfsContext& context, const char* path)
{
    LockGuard guard;
    HeldPath at { TRY(walk(context, path, kWalkFollow)) };
    Superblock* sb = at.get().dentry->sb;
    OP_OR(sb, statfs, Error::ENOSYS);
    keel_vfs_statfs stats {};
    int32_t result = sb->type->ops.statfs(sb->data, &stats);
    if (result != 0)
        return Err(fs_error(result));
    return stats;
}

} // namespace keel
