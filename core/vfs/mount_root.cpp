// The initial namespace and its root mount (boot), unshare(CLONE_NEWNS),
// and the mount listing (/proc/self/mountinfo).
#include "lib/base/format.h"
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

void move_context_paths(VfsContext& context, const Path& from, const Path& to) REQUIRES(g_vfs_lock)
{
    if (context.root == from) {
        path_put(context.root);
        context.root = path_get(to);
    }
    if (context.cwd == from) {
        path_put(context.cwd);
        context.cwd = path_get(to);
    }
}

// Where the copy of `path` is in a copied tree (its mount's `copy`), or
// `path` itself when its mount was not copied (detached).
Path translated(const Path& path)
{
    if (path.mount && path.mount->copy)
        return { path.mount->copy, path.dentry };
    return path;
}

} // namespace

} // namespace keel::vfs

namespace keel {

using namespace vfs;

Result<void> vfs_mount_root(const char* fstype, const char* source, const char* data)
{
    LockGuard guard;
    FsType* type = find_fs_type(fstype);
    if (!type)
        return Err(Error::ENODEV);
    VfsContext& kernel = *vfs_kernel_context();
    Superblock* sb = TRY(superblock_create(type, source, 0, data));
    auto mount = mount_create(sb, sb->root, 0);
    if (mount.is_error()) {
        superblock_abandon(sb);
        return Err(mount.error());
    }
    Namespace*& ns = initial_namespace();
    if (!ns) {
        ns = create<Namespace>();
        if (!ns) {
            mount_release_if_unused(mount.value());
            return Err(Error::ENOMEM);
        }
        ns->refs = 1; // the kernel context's
        attach_mount(ns, mount.value(), nullptr);
        kernel.ns = ns;
        Path root { mount.value(), sb->root };
        kernel.root = path_get(root);
        kernel.cwd = path_get(root);
        all_contexts().push_back(kernel);
        return {};
    }
    // A further root goes on top of the current one (nullfs_rootfs: the
    // tmpfs over nullfs), and every context there moves up onto it.
    Path below = path_get(kernel.root);
    attach_mount(kernel.ns, mount.value(), &below);
    Path above { mount.value(), sb->root };
    for (VfsContext& each : all_contexts())
        move_context_paths(each, below, above);
    path_put(below);
    return {};
}

Result<void> vfs_unshare(VfsContext& context, uint32_t flags)
{
    if (flags & ~kCloneNewNamespace)
        return Err(Error::EINVAL);
    if (!(flags & kCloneNewNamespace))
        return {};
    LockGuard guard;
    if (context.uid != 0)
        return Err(Error::EPERM);
    Namespace* old = context.ns;
    if (!old || !old->root)
        return Err(Error::EINVAL);
    auto* fresh = create<Namespace>();
    if (!fresh)
        return Err(Error::ENOMEM);
    Mount* copy = copy_tree(old->root, old->root->root, true);
    if (!copy) {
        destroy(fresh);
        return Err(live_mounts() >= kVfsMaxMounts ? Error::ENOSPC : Error::ENOMEM);
    }
    attach_tree(fresh, copy, nullptr);
    fresh->refs = 1;
    Path root = translated(context.root);
    Path cwd = translated(context.cwd);
    Path new_root = path_get(root);
    Path new_cwd = path_get(cwd);
    clear_copies(old->root);
    path_put(context.root);
    path_put(context.cwd);
    context.root = new_root;
    context.cwd = new_cwd;
    context.ns = fresh;
    namespace_put(old);
    return {};
}

Result<void> vfs_for_each_mount(VfsContext& context, void (*visit)(const VfsMountInfo& mount, void* arg), void* arg)
{
    LockGuard guard;
    Namespace* ns = context.ns;
    if (!ns || !ns->root)
        return Err(Error::EINVAL);
    // Reserved, not allocated: listing mounts (to find what to unmount)
    // works with memory exhausted. The VFS lock serialises its users, and
    // `visit` must not call back into the VFS.
    static char buffers[2 * kVfsPathMax] GUARDED_BY(g_vfs_lock);
    char* mountpoint = buffers;
    char* root = buffers + kVfsPathMax;
    // Paths are absolute in the namespace: the root mount is "/" even when
    // the context's root is a mount above it (nullfs under the tmpfs).
    Path top { ns->root, ns->root->root };
    for (Mount& mount : ns->mounts) {
        if (path_to_string(top, { &mount, mount.root }, mountpoint, kVfsPathMax).is_error())
            continue;
        // The mount's root inside its filesystem ("/" unless a bind mount).
        size_t start = kVfsPathMax - 1;
        root[start] = '\0';
        for (Dentry* d = mount.root; !d->is_root(); d = d->parent) {
            if (d->name_length + 1 > start)
                break;
            start -= d->name_length;
            memcpy(root + start, d->name, d->name_length);
            root[--start] = '/';
        }
        if (root[start] == '\0')
            root[--start] = '/';
        VfsMountInfo info {};
        info.id = mount.id;
        info.parent_id = mount.parent ? mount.parent->id : mount.id;
        info.dev = mount.sb->dev;
        info.fstype = mount.sb->type->name;
        info.source = mount.sb->source[0] ? mount.sb->source : "none";
        info.mountpoint = mountpoint;
        info.root = root + start;
        info.readonly = (mount.flags & kMountReadOnly) || mount.sb->readonly;
        info.options = mount.sb->options;
        visit(info, arg);
    }
    return {};
}

VfsCounters vfs_counters()
{
    LockGuard guard;
    size_t files = live_files();
    DentryHashStats hash = dentry_hash_stats();
    return { live_mounts(), live_superblocks(), live_dentries(), files, hash.count, hash.buckets };
}

} // namespace keel

namespace keel {

using namespace vfs;

void vfs_reset_initial_namespace()
{
    LockGuard guard;
    VfsContext& kernel = *vfs_kernel_context();
    if (!kernel.ns)
        return;
    all_contexts().remove(kernel);
    path_put(kernel.root);
    path_put(kernel.cwd);
    Namespace* ns = kernel.ns;
    kernel.ns = nullptr;
    if (initial_namespace() == ns)
        initial_namespace() = nullptr;
    namespace_put(ns);
}

} // namespace keel
