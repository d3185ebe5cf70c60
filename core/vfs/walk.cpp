// Path walk: Linux's rules. Components are looked up one at a time through
// the dentry cache; "." stays, ".." stops at the context's root and leaves
// a mount's root for the directory it is mounted on; a mount on a directory
// is entered; symlinks are expanded in place (absolute ones restart at the
// root), at most kVfsMaxSymlinks times per walk (ELOOP). Names longer than
// kVfsNameMax and paths (also after expansion) of kVfsPathMax bytes or
// more fail with ENAMETOOLONG.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

// Two path buffers: the text still to walk and room to splice a symlink's
// target in front of it. Too big for a kernel stack, and not allocated:
// every removal (unlink, rmdir, umount) starts with a walk, and removing
// must work when memory is exhausted, or a full tmpfs could never be
// emptied. One walk runs at a time, under the VFS lock, and a walk never
// starts another, so one reserved set serves them all.
struct WalkBuffers {
    char remaining[kVfsPathMax];
    char spliced[kVfsPathMax];
};
WalkBuffers g_walk_buffers GUARDED_BY(g_vfs_lock);

void set_path(Path& path, const Path& value) REQUIRES(g_vfs_lock)
{
    Path old = path;
    path = path_get(value);
    path_put(old);
}

// "..": ENOENT when the directory is no longer below the root of the mount
// it was reached through (a bind mount of a subdirectory, out of which a
// rename moved it): going up from there would leave the mount, and a
// chroot below it (Linux's path_connected).
Result<void> step_up(VfsContext& context, Path& current) REQUIRES(g_vfs_lock)
{
    Path at = path_get(current);
    for (;;) {
        if (at == context.root) {
            path_put(at);
            return {};
        }
        if (at.dentry != at.mount->root)
            break;
        if (!at.mount->parent) {
            // A namespace's root, or a detached mount: ".." stays, as at "/".
            path_put(at);
            return {};
        }
        set_path(at, { at.mount->parent, at.mount->mountpoint });
    }
    if (!at.mount->root->is_root() && !is_subdir(at.dentry, at.mount->root)) {
        path_put(at);
        return Err(Error::ENOENT);
    }
    set_path(at, { at.mount, at.dentry->parent });
    follow_mounts(at);
    set_path(current, at);
    path_put(at);
    return {};
}

Result<Path> walk_text(VfsContext& context, const char* text, size_t length, uint32_t flags) REQUIRES(g_vfs_lock)
{
    if (length == 0)
        return Err(Error::ENOENT);
    if (length >= kVfsPathMax)
        return Err(Error::ENAMETOOLONG);
    // Early boot, before the root is mounted (or a context whose root was
    // never set): there is nothing to walk yet.
    const Path& start = text[0] == '/' ? context.root : context.cwd;
    if (!start.mount || !start.dentry)
        return Err(Error::ENOENT);
    WalkBuffers* buffers = &g_walk_buffers;
    memcpy(buffers->remaining, text, length);
    buffers->remaining[length] = '\0';

    Path current = path_get(text[0] == '/' ? context.root : context.cwd);
    const char* cursor = buffers->remaining;
    unsigned symlinks = 0;
    bool must_be_directory = false;
    Error error = Error(0);

    for (;;) {
        while (*cursor == '/')
            cursor++;
        if (!*cursor)
            break;
        const char* name = cursor;
        while (*cursor && *cursor != '/')
            cursor++;
        size_t name_length = cursor - name;
        const char* rest = cursor;
        while (*rest == '/')
            rest++;
        bool last = *rest == '\0';
        bool trailing_slash = last && cursor != rest;

        if (name_length > kVfsNameMax) {
            error = Error::ENAMETOOLONG;
            break;
        }
        if (!current.dentry->is_directory()) {
            error = Error::ENOTDIR;
            break;
        }
        if (auto access = check_access(context, current.dentry, 1); access.is_error()) {
            error = access.error();
            break;
        }
        must_be_directory = trailing_slash;
        if (name_length == 1 && name[0] == '.')
            continue;
        if (name_length == 2 && name[0] == '.' && name[1] == '.') {
            if (auto up = step_up(context, current); up.is_error()) {
                error = up.error();
                break;
            }
            continue;
        }
        auto child = lookup_child(current.dentry, name, name_length);
        if (child.is_error()) {
            error = child.error();
            break;
        }
        Path next { current.mount, child.value() };
        mount_get(next.mount);
        follow_mounts(next);

        bool follow = !last || (flags & kWalkFollow) || trailing_slash;
        if (next.dentry->is_symlink() && follow) {
            if (++symlinks > kVfsMaxSymlinks) {
                path_put(next);
                error = Error::ELOOP;
                break;
            }
            auto target = read_link_target(next.dentry, buffers->spliced, kVfsPathMax);
            path_put(next);
            if (target.is_error()) {
                error = target.error();
                break;
            }
            size_t target_length = target.value();
            size_t rest_length = strlen(cursor);
            if (target_length >= kVfsPathMax || target_length + rest_length >= kVfsPathMax) {
                error = Error::ENAMETOOLONG;
                break;
            }
            // The rest of the path (with its leading slash) follows the target.
            memcpy(buffers->spliced + target_length, cursor, rest_length + 1);
            memcpy(buffers->remaining, buffers->spliced, target_length + rest_length + 1);
            cursor = buffers->remaining;
            if (buffers->remaining[0] == '/')
                set_path(current, context.root);
            continue;
        }
        path_put(current);
        current = next;
    }
    if (error == Error(0)) {
        if (flags & kWalkMountpoint)
            follow_mounts(current);
        if ((must_be_directory || (flags & kWalkDirectory)) && !current.dentry->is_directory())
            error = Error::ENOTDIR;
    }
    if (error != Error(0)) {
        path_put(current);
        return Err(error);
    }
    return current;
}

size_t checked_length(const char* path)
{
    // strnlen up to the limit: one byte more than allowed says "too long"
    // without reading an unterminated buffer to its end.
    return strnlen(path, kVfsPathMax);
}

} // namespace

Result<size_t> read_link_target(Dentry* link, char* buffer, size_t capacity)
{
    Superblock* sb = link->sb;
    if (!sb->type->ops.readlink)
        return Err(Error::EINVAL);
    size_t length = 0;
    int32_t result = sb->type->ops.readlink(sb->data, link->node, buffer, capacity - 1, &length);
    if (result != 0)
        return Err(fs_error(result));
    if (length == 0)
        return Err(Error::ENOENT);
    if (length >= capacity)
        return Err(Error::ENAMETOOLONG);
    buffer[length] = '\0';
    return length;
}

Mount* mount_on(const Path& path)
{
    if (!path.dentry->mounted)
        return nullptr;
    Mount* found = nullptr;
    for (Mount& child : path.mount->children) {
        if (child.mountpoint == path.dentry)
            found = &child;
    }
    return found;
}

void follow_mounts(Path& path)
{
    while (Mount* mounted = mount_on(path)) {
        Path old = path;
        path = path_get({ mounted, mounted->root });
        path_put(old);
    }
}

Result<Dentry*> lookup_child(Dentry* parent, const char* name, size_t length)
{
    if (Dentry* cached = dentry_find_cached(parent, name, length))
        return dentry_get(cached);
    Superblock* sb = parent->sb;
    void* node = nullptr;
    int32_t result = sb->type->ops.lookup(sb->data, parent->node, name, length, &node);
    if (result != 0)
        return Err(fs_error(result));
    if (!node)
        return Err(Error::EIO);
    keel_vfs_attr attr {};
    result = sb->type->ops.getattr(sb->data, node, &attr);
    if (result != 0) {
        sb->type->ops.put_node(sb->data, node);
        return Err(fs_error(result));
    }
    Dentry* dentry = dentry_add(parent, name, length, node, attr.mode);
    if (!dentry)
        return Err(Error::ENOMEM);
    return dentry_get(dentry);
}

Result<Path> walk(VfsContext& context, const char* path, uint32_t flags)
{
    if (!path)
        return Err(Error::EFAULT);
    return walk_text(context, path, checked_length(path), flags);
}

Result<ParentWalk> walk_parent(VfsContext& context, const char* path)
{
    if (!path)
        return Err(Error::EFAULT);
    size_t length = checked_length(path);
    if (length == 0)
        return Err(Error::ENOENT);
    if (length >= kVfsPathMax)
        return Err(Error::ENAMETOOLONG);
    size_t end = length;
    while (end > 0 && path[end - 1] == '/')
        end--;
    ParentWalk result {};
    result.trailing_slash = end != length;
    if (end == 0) {
        // "/" (or "//..."): the root names itself, once there is one.
        if (!context.root.mount || !context.root.dentry)
            return Err(Error::ENOENT);
        result.parent = path_get(context.root);
        result.name = ".";
        result.name_length = 1;
        return result;
    }
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    result.name = path + start;
    result.name_length = end - start;
    if (result.name_length > kVfsNameMax)
        return Err(Error::ENAMETOOLONG);
    if (start == 0)
        result.parent = TRY(walk_text(context, ".", 1, kWalkFollow | kWalkDirectory));
    else
        result.parent = TRY(walk_text(context, path, start, kWalkFollow | kWalkDirectory));
    return result;
}

} // namespace keel::vfs
