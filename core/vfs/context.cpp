// Contexts (what a process will own): namespace, root, working directory,
// credentials; and turning a location back into a path string.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

IntrusiveList<VfsContext, &VfsContext::node> g_contexts GUARDED_BY(g_vfs_lock);
VfsContext g_kernel_context;
Namespace* g_initial_namespace GUARDED_BY(g_vfs_lock) = nullptr;

// Writes `text` in front of what is already at the end of the buffer.
bool prepend(char* buffer, size_t& start, const char* text, size_t length)
{
    if (length > start)
        return false;
    start -= length;
    memcpy(buffer + start, text, length);
    return true;
}

Result<void> set_location(VfsContext& context, Path& slot, const char* path) REQUIRES(g_vfs_lock)
{
    Path found = TRY(walk(context, path, kWalkFollow | kWalkDirectory));
    if (auto access = check_access(context, found.dentry, 1); access.is_error()) {
        path_put(found);
        return access;
    }
    path_put(slot);
    slot = found;
    return {};
}

} // namespace

IntrusiveList<VfsContext, &VfsContext::node>& all_contexts() { return g_contexts; }
Namespace*& initial_namespace() { return g_initial_namespace; }

Result<size_t> path_to_string(const Path& root, const Path& path, char* buffer, size_t size)
{
    if (size == 0)
        return Err(Error::ERANGE);
    size_t start = size - 1;
    buffer[start] = '\0';
    Path at = path;
    bool reachable = true;
    bool empty = true;
    for (;;) {
        if (at == root)
            break;
        if (at.dentry == at.mount->root) {
            if (!at.mount->parent) {
                reachable = false;
                break;
            }
            at = { at.mount->parent, at.mount->mountpoint };
            continue;
        }
        if (at.dentry->is_root()) {
            // The filesystem's root, not the mount's: the path was moved
            // out of the subtree a bind mount shows (its root's parent is
            // itself, and "/" would be prepended for ever).
            reachable = false;
            break;
        }
        if (!prepend(buffer, start, at.dentry->name, at.dentry->name_length) || !prepend(buffer, start, "/", 1))
            return Err(Error::ENAMETOOLONG);
        empty = false;
        at.dentry = at.dentry->parent;
    }
    if (empty && !prepend(buffer, start, "/", 1))
        return Err(Error::ENAMETOOLONG);
    if (!reachable && !prepend(buffer, start, "(unreachable)", 13))
        return Err(Error::ENAMETOOLONG);
    size_t length = size - 1 - start;
    memmove(buffer, buffer + start, length + 1);
    return length;
}

} // namespace keel::vfs

namespace keel {

using namespace vfs;

VfsContext* vfs_kernel_context() { return &g_kernel_context; }

Result<VfsContext*> vfs_context_clone(VfsContext& from)
{
    LockGuard guard;
    if (!from.ns)
        return Err(Error::ENOENT);
    auto* context = create<VfsContext>();
    if (!context)
        return Err(Error::ENOMEM);
    context->ns = from.ns;
    context->ns->refs++;
    context->root = path_get(from.root);
    context->cwd = path_get(from.cwd);
    context->uid = from.uid;
    context->gid = from.gid;
    g_contexts.push_back(*context);
    return context;
}

void vfs_context_release(VfsContext* context)
{
    if (!context || context == &g_kernel_context)
        return;
    LockGuard guard;
    g_contexts.remove(*context);
    path_put(context->root);
    path_put(context->cwd);
    namespace_put(context->ns);
    destroy(context);
}

Result<void> vfs_chdir(VfsContext& context, const char* path)
{
    LockGuard guard;
    return set_location(context, context.cwd, path);
}

Result<void> vfs_chroot(VfsContext& context, const char* path)
{
    LockGuard guard;
    if (context.uid != 0)
        return Err(Error::EPERM);
    return set_location(context, context.root, path);
}

Result<size_t> vfs_getcwd(VfsContext& context, char* buffer, size_t size)
{
    LockGuard guard;
    if (!context.cwd.dentry)
        return Err(Error::ENOENT);
    // Linux's getcwd fails for a removed directory.
    if (!context.cwd.dentry->hashed && !context.cwd.dentry->is_root())
        return Err(Error::ENOENT);
    return path_to_string(context.root, context.cwd, buffer, size);
}

void vfs_set_credentials(VfsContext& context, uint32_t uid, uint32_t gid)
{
    LockGuard guard;
    context.uid = uid;
    context.gid = gid;
}

} // namespace keel
