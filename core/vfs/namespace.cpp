// The mount tree's primitives: attaching and detaching mounts, copying
// subtrees (bind mounts with MS_REC, unshare) and reachability.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

// Pre-order walk of the mounts below `top` (not `top` itself): the first
// child, else the next sibling of the nearest ancestor that has one. No
// recursion: mount trees can be deep (nested bind mounts).
Mount* skip_subtree(Mount* mount, Mount* top)
{
    while (mount != top) {
        if (Mount* sibling = mount->parent->children.next(*mount))
            return sibling;
        mount = mount->parent;
    }
    return nullptr;
}

Mount* next_in_subtree(Mount* mount, Mount* top)
{
    if (!mount->children.is_empty())
        return mount->children.first();
    return skip_subtree(mount, top);
}

} // namespace

void namespace_put(Namespace* ns)
{
    if (!ns || --ns->refs > 0)
        return;
    // The namespace's last user is gone: everything in it is detached, as
    // a lazy unmount of its root would. Mounts still used by open files
    // live on until those close.
    IntrusiveList<Mount, &Mount::ns_node> doomed;
    while (Mount* mount = ns->mounts.first())
        doomed.push_back(*mount);
    ns->root = nullptr;
    dissolve(doomed, nullptr);
    destroy(ns);
}

void dissolve(IntrusiveList<Mount, &Mount::ns_node>& doomed, Mount* keep)
{
    // First cut every link, then release: releasing while links remain
    // could free a parent that is still on the list.
    for (Mount& each : doomed) {
        each.ns = nullptr;
        if (!each.parent)
            continue;
        Dentry* mountpoint = each.mountpoint;
        each.parent->children.remove(each);
        mountpoint->mounted--;
        each.parent = nullptr;
        each.mountpoint = nullptr;
        dentry_put(mountpoint);
    }
    while (Mount* each = doomed.pop_front()) {
        if (each != keep)
            mount_release_if_unused(each);
    }
}

void attach_mount(Namespace* ns, Mount* mount, const Path* mountpoint)
{
    if (mountpoint) {
        mount->parent = mountpoint->mount;
        mount->mountpoint = dentry_get(mountpoint->dentry);
        mountpoint->dentry->mounted++;
        mountpoint->mount->children.push_back(*mount);
    } else {
        ns->root = mount;
    }
    mount->ns = ns;
    ns->mounts.push_back(*mount);
}

void detach_mount(Mount* mount)
{
    if (mount->ns) {
        mount->ns->mounts.remove(*mount);
        if (mount->ns->root == mount)
            mount->ns->root = nullptr;
        mount->ns = nullptr;
    }
    if (mount->parent) {
        Mount* parent = mount->parent;
        Dentry* mountpoint = mount->mountpoint;
        parent->children.remove(*mount);
        mountpoint->mounted--;
        mount->parent = nullptr;
        mount->mountpoint = nullptr;
        dentry_put(mountpoint);
        mount_release_if_unused(parent);
    }
}

bool is_subdir(const Dentry* dentry, const Dentry* ancestor)
{
    for (;;) {
        if (dentry == ancestor)
            return true;
        if (dentry->is_root())
            return false;
        dentry = dentry->parent;
    }
}

bool is_path_reachable(Mount* mount, const Dentry* dentry, const Path& root)
{
    while (mount != root.mount && mount->parent) {
        dentry = mount->mountpoint;
        mount = mount->parent;
    }
    return mount == root.mount && is_subdir(dentry, root.dentry);
}

void clear_copies(Mount* source)
{
    for (Mount* mount = source; mount; mount = next_in_subtree(mount, source))
        mount->copy = nullptr;
}

void collect_subtree(Mount* top, IntrusiveList<Mount, &Mount::ns_node>& out)
{
    for (Mount* mount = top; mount; mount = next_in_subtree(mount, top))
        out.push_back(*mount); // takes it off its namespace's list
}

Mount* copy_tree(Mount* source, Dentry* root, bool recursive)
{
    if (live_mounts() >= kVfsMaxMounts)
        return nullptr;
    auto top = mount_create(source->sb, root, source->flags);
    if (top.is_error())
        return nullptr;
    source->copy = top.value();
    if (!recursive)
        return top.value();
    IntrusiveList<Mount, &Mount::ns_node> made;
    made.push_back(*top.value());
    Mount* mount = next_in_subtree(source, source);
    while (mount) {
        // Only what is mounted below the copied directory comes along.
        if (mount->parent == source && !is_subdir(mount->mountpoint, root)) {
            mount = skip_subtree(mount, source);
            continue;
        }
        auto copy = live_mounts() < kVfsMaxMounts ? mount_create(mount->sb, mount->root, mount->flags)
                                                  : Result<Mount*>(Error::ENOSPC);
        if (copy.is_error()) {
            dissolve(made, nullptr);
            clear_copies(source);
            return nullptr;
        }
        Mount* parent = mount->parent->copy;
        copy.value()->parent = parent;
        copy.value()->mountpoint = dentry_get(mount->mountpoint);
        mount->mountpoint->mounted++;
        parent->children.push_back(*copy.value());
        mount->copy = copy.value();
        made.push_back(*copy.value());
        mount = next_in_subtree(mount, source);
    }
    // The list lives on this stack: empty it before it goes.
    made.clear();
    return top.value();
}

void attach_tree(Namespace* ns, Mount* top, const Path* mountpoint)
{
    attach_mount(ns, top, mountpoint);
    // The copies are linked to their parents already; only their namespace
    // membership is missing. Pre-order keeps parents before children.
    for (Mount* mount = next_in_subtree(top, top); mount; mount = next_in_subtree(mount, top)) {
        mount->ns = ns;
        ns->mounts.push_back(*mount);
    }
}

} // namespace keel::vfs
