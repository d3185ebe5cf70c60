// mount(2) and umount2(2) with Linux's semantics: new mounts, bind mounts
// (MS_BIND, MS_REC), moves (MS_MOVE), remounts (MS_REMOUNT, with MS_BIND
// for the mount's own flags), and busy checks or lazy detaching on umount.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

Result<void> check_in_namespace(const VfsContext& context, const Mount* mount)
{
    if (mount->ns != context.ns)
        return Err(Error::EINVAL);
    return {};
}

Result<void> check_live(const Path& path)
{
    if (!path.dentry->hashed && !path.dentry->is_root())
        return Err(Error::ENOENT);
    return {};
}

Result<void> new_mount(VfsContext& context, const Path& target, const char* source, const char* fstype, uint32_t flags,
    const char* data) REQUIRES(g_vfs_lock)
{
    if (!fstype)
        return Err(Error::EINVAL);
    FsType* type = find_fs_type(fstype);
    if (!type)
        return Err(Error::ENODEV);
    if (!target.dentry->is_directory())
        return Err(Error::ENOTDIR);
    Superblock* sb = TRY(superblock_create(type, source, flags, data));
    auto mount = mount_create(sb, sb->root, flags);
    if (mount.is_error()) {
        superblock_abandon(sb);
        return Err(mount.error());
    }
    attach_mount(context.ns, mount.value(), &target);
    return {};
}

Result<void> bind_mount(VfsContext& context, const Path& target, const char* source, uint32_t flags)
    REQUIRES(g_vfs_lock)
{
    HeldPath from { TRY(walk(context, source, kWalkFollow)) };
    TRY(check_in_namespace(context, from.get().mount));
    if (from.get().dentry->is_directory() != target.dentry->is_directory())
        return Err(Error::ENOTDIR);
    Mount* copy = copy_tree(from.get().mount, from.get().dentry, flags & kMountRecursive);
    if (!copy)
        return Err(live_mounts() >= kVfsMaxMounts ? Error::ENOSPC : Error::ENOMEM);
    clear_copies(from.get().mount);
    attach_tree(context.ns, copy, &target);
    return {};
}

Result<void> move_mount(VfsContext& context, const Path& target, const char* source) REQUIRES(g_vfs_lock)
{
    HeldPath from { TRY(walk(context, source, kWalkFollow | kWalkMountpoint)) };
    Mount* mount = from.get().mount;
    TRY(check_in_namespace(context, mount));
    if (!path_is_mount_root(from.get()) || !mount->parent)
        return Err(Error::EINVAL);
    // Into its own subtree would cut the tree loose from the namespace
    // and make the mount its own ancestor. Decided by the mounts above the
    // target, not by its dentry: a directory a rename carried out of the
    // mount's root (still reachable as a working directory) is not below
    // that root, but its mount is still this one.
    for (Mount* above = target.mount; above; above = above->parent) {
        if (above == mount)
            return Err(Error::ELOOP);
    }
    if (from.get().dentry->is_directory() != target.dentry->is_directory())
        return Err(Error::ENOTDIR);
    Namespace* ns = mount->ns;
    // detach_mount leaves the subtree's own links alone, and the mounts
    // below stay in the namespace.
    detach_mount(mount);
    attach_mount(ns, mount, &target);
    return {};
}

Result<void> remount(VfsContext& context, const Path& target, uint32_t flags, const char* data) REQUIRES(g_vfs_lock)
{
    Mount* mount = target.mount;
    if (!path_is_mount_root(target))
        return Err(Error::EINVAL);
    if (flags & kMountBind) {
        mount->flags = (mount->flags & ~kMountReadOnly) | (flags & kMountReadOnly);
        return {};
    }
    Superblock* sb = mount->sb;
    if (sb->type->ops.remount) {
        int32_t result = sb->type->ops.remount(sb->data, flags & kMountReadOnly, data);
        if (result != 0)
            return Err(fs_error(result));
    } else if (data && *data) {
        return Err(Error::EINVAL);
    }
    sb->readonly = flags & kMountReadOnly;
    mount->flags = (mount->flags & ~kMountReadOnly) | (flags & kMountReadOnly);
    if (data) {
        size_t length = strnlen(data, sizeof(sb->options) - 1);
        memcpy(sb->options, data, length);
        sb->options[length] = '\0';
    }
    (void)context;
    return {};
}

} // namespace

} // namespace keel::vfs

namespace keel {

using namespace vfs;

Result<void> vfs_mount(
    VfsContext& context, const char* source, const char* target, const char* fstype, uint32_t flags, const char* data)
{
    LockGuard guard;
    if (context.uid != 0)
        return Err(Error::EPERM);
    if (!context.ns)
        return Err(Error::EINVAL);
    uint32_t kind = flags & (kMountBind | kMountMove | kMountRemount);
    if (kind == kMountMove && (flags & kMountBind))
        return Err(Error::EINVAL);
    // MS_MOVE and MS_REMOUNT act on what is mounted there; a new mount goes
    // on top of what is there.
    HeldPath at { TRY(walk(context, target, kWalkFollow | kWalkMountpoint)) };
    TRY(check_in_namespace(context, at.get().mount));
    TRY(check_live(at.get()));
    if (flags & kMountRemount)
        return remount(context, at.get(), flags, data);
    if (flags & kMountBind)
        return bind_mount(context, at.get(), source, flags);
    if (flags & kMountMove)
        return move_mount(context, at.get(), source);
    if ((flags & kMountPrivate) && !fstype)
        return {}; // the only propagation type there is
    return new_mount(context, at.get(), source, fstype, flags, data);
}

Result<void> vfs_umount(VfsContext& context, const char* target, uint32_t flags)
{
    LockGuard guard;
    if (context.uid != 0)
        return Err(Error::EPERM);
    if (flags & ~(kUmountForce | kUmountDetach))
        return Err(Error::EINVAL);
    Path at = TRY(walk(context, target, kWalkFollow | kWalkMountpoint));
    Mount* mount = at.mount;
    if (!path_is_mount_root(at) || mount->ns != context.ns || !mount->parent) {
        path_put(at);
        return Err(Error::EINVAL);
    }
    if (!(flags & kUmountDetach)) {
        // Our own walk holds one reference.
        if (mount->refs > 1 || !mount->children.is_empty()) {
            path_put(at);
            return Err(Error::EBUSY);
        }
    }
    // The whole subtree goes: children are disconnected from their parents
    // so each stands alone, as Linux disconnects a lazily unmounted tree,
    // and each is freed when its last user (open file, working directory)
    // lets go.
    IntrusiveList<Mount, &Mount::ns_node> doomed;
    collect_subtree(mount, doomed);
    // Our walk's reference is dropped last: it keeps the top mount alive
    // while the list still links it.
    dissolve(doomed, at.mount);
    path_put(at);
    return {};
}

Result<void> vfs_pivot_root(VfsContext& context, const char* new_root, const char* put_old)
{
    LockGuard guard;
    if (context.uid != 0)
        return Err(Error::EPERM);
    HeldPath fresh { TRY(walk(context, new_root, kWalkFollow | kWalkDirectory)) };
    HeldPath old { TRY(walk(context, put_old, kWalkFollow | kWalkDirectory | kWalkMountpoint)) };
    TRY(check_live(old.get())); // a removed put_old would hold the old root where no path reaches
    HeldPath root { path_get(context.root) };
    Mount* new_mount = fresh.get().mount;
    Mount* root_mount = root.get().mount;
    Mount* old_mount = old.get().mount;

    if (root_mount->ns != context.ns || new_mount->ns != context.ns)
        return Err(Error::EINVAL);
    TRY(check_live(fresh.get()));
    if (new_mount == root_mount || old_mount == root_mount)
        return Err(Error::EBUSY); // on the same filesystem as the root
    if (!path_is_mount_root(root.get()) || !root_mount->parent)
        return Err(Error::EINVAL); // the root is not a mount point, or is the absolute root
    if (!path_is_mount_root(fresh.get()) || !new_mount->parent)
        return Err(Error::EINVAL);
    if (!is_path_reachable(old_mount, old.get().dentry, fresh.get()))
        return Err(Error::EINVAL); // put_old is not under new_root
    if (!is_path_reachable(new_mount, fresh.get().dentry, root.get()))
        return Err(Error::EINVAL); // new_root is not under the root

    Mount* root_parent = root_mount->parent;
    Dentry* root_mountpoint = dentry_get(root_mount->mountpoint);
    Namespace* ns = context.ns;
    detach_mount(new_mount);
    detach_mount(root_mount);
    Path old_place { old_mount, old.get().dentry };
    attach_mount(ns, root_mount, &old_place);
    Path root_place { root_parent, root_mountpoint };
    attach_mount(ns, new_mount, &root_place);
    dentry_put(root_mountpoint);

    // Every context whose root or working directory was the old root now
    // uses the new one (Linux's chroot_fs_refs).
    auto retarget = [&](VfsContext& each) REQUIRES(g_vfs_lock) {
        if (each.root == root.get()) {
            path_put(each.root);
            each.root = path_get(fresh.get());
        }
        if (each.cwd == root.get()) {
            path_put(each.cwd);
            each.cwd = path_get(fresh.get());
        }
    };
    for (VfsContext& each : all_contexts())
        retarget(each);
    return {};
}

} // namespace keel
