// Open files: open with Linux's flags, read/write at the file position
// (pread/pwrite at an offset), lseek, fstat, readdir with "." and "..".
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

// O_CREAT through a dangling symlink creates its target, as Linux does:
// while the last name in `at` is a symlink, `at` becomes the parent and
// last name of its target, walked from the link's own directory (a
// relative target) or the root. `buffer` (kVfsPathMax bytes, allocated at
// the first link, for the caller to free) holds the name `at` ends with.
// Not with O_EXCL (a symlink there is EEXIST) or O_NOFOLLOW (ELOOP, from
// check_open). The walk that found nothing has already counted these
// links against the 40 allowed, and checked the search permissions.
Result<void> follow_last_links(VfsContext& context, ParentWalk& at, char*& buffer) REQUIRES(g_vfs_lock)
{
    for (unsigned links = 0;; links++) {
        if (at.trailing_slash || at.is_dot_or_dotdot())
            return {};
        auto child = lookup_child(at.parent.dentry, at.name, at.name_length);
        if (child.is_error())
            return child.error() == Error::ENOENT ? Result<void> {} : Err(child.error());
        Dentry* link = child.value();
        if (!link->is_symlink()) {
            dentry_put(link);
            return {};
        }
        if (links == kVfsMaxSymlinks) {
            dentry_put(link);
            return Err(Error::ELOOP);
        }
        if (!buffer)
            buffer = static_cast<char*>(platform_alloc(kVfsPathMax));
        if (!buffer) {
            dentry_put(link);
            return Err(Error::ENOMEM);
        }
        auto target = read_link_target(link, buffer, kVfsPathMax);
        dentry_put(link);
        if (target.is_error())
            return Err(target.error());
        // The walk starts from the link's directory: a view of the
        // caller's context with that as its working directory, which `at`
        // holds for the walk.
        VfsContext from_link;
        from_link.ns = context.ns;
        from_link.root = context.root;
        from_link.cwd = at.parent;
        from_link.uid = context.uid;
        from_link.gid = context.gid;
        ParentWalk next = TRY(walk_parent(from_link, buffer));
        path_put(at.parent);
        at = next;
    }
}

Result<Path> open_or_create(VfsContext& context, const char* path, uint32_t flags, uint32_t mode, bool& created)
    REQUIRES(g_vfs_lock)
{
    created = false;
    uint32_t walk_flags = (flags & kOpenNoFollow) ? 0 : kWalkFollow;
    auto found = walk(context, path, walk_flags);
    if (found.is_ok()) {
        if ((flags & kOpenCreate) && (flags & kOpenExclusive)) {
            path_put(found.value());
            return Err(Error::EEXIST);
        }
        return found.release_value();
    }
    if (found.error() != Error::ENOENT || !(flags & kOpenCreate))
        return Err(found.error());
    ParentWalk at = TRY(walk_parent(context, path));
    char* target = nullptr;
    if (!(flags & (kOpenExclusive | kOpenNoFollow))) {
        if (auto followed = follow_last_links(context, at, target); followed.is_error()) {
            path_put(at.parent);
            platform_free(target);
            return Err(followed.error());
        }
    }
    if (at.trailing_slash || at.is_dot_or_dotdot()) {
        path_put(at.parent);
        platform_free(target);
        return Err(Error::EISDIR);
    }
    auto created_dentry = create_file(context, at, mode);
    platform_free(target);
    if (created_dentry.is_error()) {
        path_put(at.parent);
        return Err(created_dentry.error());
    }
    // The parent's mount reference moves to the new path.
    Path result { at.parent.mount, created_dentry.value() };
    created = true;
    dentry_put(at.parent.dentry);
    return result;
}

// `created`: the open made the file, and may use it whatever mode it gave
// it (as Linux does: open(O_CREAT | O_WRONLY, 0444) writes the new file).
Result<void> check_open(VfsContext& context, const Path& path, uint32_t flags, bool created) REQUIRES(g_vfs_lock)
{
    Dentry* dentry = path.dentry;
    uint32_t access = flags & kOpenAccessMode;
    if (access == kOpenAccessMode)
        return Err(Error::EINVAL);
    bool writing = access != kOpenReadOnly || (flags & kOpenTruncate);
    if (dentry->is_symlink())
        return Err(Error::ELOOP); // only with O_NOFOLLOW can a walk end on one
    if ((flags & kOpenDirectory) && !dentry->is_directory())
        return Err(Error::ENOTDIR);
    if (dentry->is_directory() && writing)
        return Err(Error::EISDIR);
    if (writing)
        TRY(check_writable_mount(path.mount));
    if (created)
        return {};
    unsigned mask = (access == kOpenReadOnly ? 4 : access == kOpenWriteOnly ? 2 : 6) | (writing ? 2 : 0);
    return check_access(context, dentry, mask);
}

Result<size_t> read_at(File& file, uint64_t offset, void* buffer, size_t size)
{
    if ((file.flags & kOpenAccessMode) == kOpenWriteOnly)
        return Err(Error::EBADF);
    Dentry* dentry = file.path.dentry;
    if (dentry->is_directory())
        return Err(Error::EISDIR);
    if (!mode_is_regular(dentry->mode))
        return Err(Error::ENXIO); // devices and fifos have no drivers yet
    if (int64_t(offset) < 0)
        return Err(Error::EINVAL);
    Superblock* sb = dentry->sb;
    if (!sb->type->ops.read)
        return Err(Error::ENOSYS);
    size_t done = 0;
    int32_t result = sb->type->ops.read(sb->data, dentry->node, offset, buffer, size, &done);
    if (result != 0)
        return Err(fs_error(result));
    return min(done, size);
}

Result<size_t> write_at(File& file, uint64_t offset, const void* buffer, size_t size) REQUIRES(g_vfs_lock)
{
    if ((file.flags & kOpenAccessMode) == kOpenReadOnly)
        return Err(Error::EBADF);
    Dentry* dentry = file.path.dentry;
    if (!mode_is_regular(dentry->mode))
        return Err(Error::ENXIO);
    uint64_t end;
    if (int64_t(offset) < 0 || add_overflows<uint64_t>(offset, size, &end) || int64_t(end) < 0)
        return Err(Error::EFBIG);
    TRY(check_writable_mount(file.path.mount));
    Superblock* sb = dentry->sb;
    if (!sb->type->ops.write)
        return Err(Error::EPERM);
    size_t done = 0;
    int32_t result = sb->type->ops.write(sb->data, dentry->node, offset, buffer, size, &done);
    if (result != 0)
        return Err(fs_error(result));
    return min(done, size);
}

struct DirentAdapter {
    VfsDirVisitor visit;
    void* context;
    static int32_t emit(void* self, const char* name, size_t length, uint64_t ino, uint32_t mode)
    {
        auto* adapter = static_cast<DirentAdapter*>(self);
        return adapter->visit(adapter->context, name, length, ino, mode);
    }
};

// The path open() names, made if O_CREAT says so, checked and truncated
// if O_TRUNC says so (unless it was just made); held for the open file.
Result<Path> open_path(VfsContext& context, const char* path, uint32_t flags, uint32_t mode) REQUIRES(g_vfs_lock)
{
    bool created = false;
    HeldPath at { TRY(open_or_create(context, path, flags, mode, created)) };
    TRY(check_open(context, at.get(), flags, created));
    // A file this open made is empty: no truncate, whose permission check
    // would refuse the creator a file made read-only (Linux skips it too).
    if ((flags & kOpenTruncate) && !created && mode_is_regular(at.get().dentry->mode))
        TRY(truncate_dentry(context, at.get(), 0));
    Path result = at.get();
    at.get() = {};
    return result;
}

} // namespace

} // namespace keel::vfs

namespace keel {

using namespace vfs;

Result<File*> vfs_open(VfsContext& context, const char* path, uint32_t flags, uint32_t mode)
{
    LockGuard guard;
    // The open file first: with the file made and no memory left for it,
    // open(O_CREAT) would fail and leave the file behind.
    File* file = create<File>();
    if (!file)
        return Err(Error::ENOMEM);
    auto opened = open_path(context, path, flags, mode);
    if (opened.is_error()) {
        destroy(file);
        return Err(opened.error());
    }
    file->path = opened.value();
    file->flags = flags;
    live_files()++;
    return file;
}

void vfs_close(File* file)
{
    if (!file)
        return;
    LockGuard guard;
    path_put(file->path);
    destroy(file);
    live_files()--;
}

Result<size_t> vfs_read(File& file, void* buffer, size_t size)
{
    LockGuard guard;
    size_t done = TRY(read_at(file, file.position, buffer, size));
    file.position += done;
    return done;
}

Result<size_t> vfs_write(File& file, const void* buffer, size_t size)
{
    LockGuard guard;
    if (file.flags & kOpenAppend) {
        keel_vfs_attr attr = TRY(get_attr(file.path.dentry));
        file.position = attr.size;
    }
    size_t done = TRY(write_at(file, file.position, buffer, size));
    file.position += done;
    return done;
}

Result<size_t> vfs_pread(File& file, uint64_t offset, void* buffer, size_t size)
{
    LockGuard guard;
    return read_at(file, offset, buffer, size);
}

Result<size_t> vfs_pwrite(File& file, uint64_t offset, const void* buffer, size_t size)
{
    LockGuard guard;
    return write_at(file, offset, buffer, size);
}

Result<uint64_t> vfs_seek(File& file, int64_t offset, Whence whence)
{
    LockGuard guard;
    if (file.path.dentry->is_directory()) {
        // Directories rewind only: cookies are the filesystem's own.
        if (whence != Whence::Set || offset != 0)
            return Err(Error::EINVAL);
        file.position = 0;
        file.dir_cookie = 0;
        return 0;
    }
    int64_t base = 0;
    if (whence == Whence::Current)
        base = int64_t(file.position);
    else if (whence == Whence::End)
        base = int64_t(TRY(get_attr(file.path.dentry)).size);
    else if (whence != Whence::Set)
        return Err(Error::EINVAL);
    int64_t target;
    if (__builtin_add_overflow(base, offset, &target))
        return Err(Error::EOVERFLOW);
    if (target < 0)
        return Err(Error::EINVAL);
    file.position = uint64_t(target);
    return file.position;
}

Result<VfsStat> vfs_fstat(File& file)
{
    LockGuard guard;
    return stat_path(file.path);
}

Result<void> vfs_readdir(File& file, VfsDirVisitor visit, void* visit_context)
{
    LockGuard guard;
    Dentry* dir = file.path.dentry;
    if (!dir->is_directory())
        return Err(Error::ENOTDIR);
    while (file.position < 2) {
        const Dentry* which = file.position == 0 || dir->is_root() ? dir : dir->parent;
        keel_vfs_attr attr = TRY(get_attr(which));
        if (visit(visit_context, "..", file.position + 1, attr.ino, kModeDirectory))
            return {};
        file.position++;
    }
    // A removed directory is empty, whatever its filesystem still holds.
    if (!dir->hashed && !dir->is_root())
        return {};
    Superblock* sb = dir->sb;
    if (!sb->type->ops.readdir)
        return Err(Error::ENOSYS);
    DirentAdapter adapter { visit, visit_context };
    int32_t result = sb->type->ops.readdir(sb->data, dir->node, &file.dir_cookie, DirentAdapter::emit, &adapter);
    if (result != 0)
        return Err(fs_error(result));
    return {};
}

Result<void> vfs_fchdir(VfsContext& context, File& file)
{
    LockGuard guard;
    if (!file.path.dentry->is_directory())
        return Err(Error::ENOTDIR);
    TRY(check_access(context, file.path.dentry, 1));
    path_put(context.cwd);
    context.cwd = path_get(file.path);
    return {};
}

Result<VfsFileData> vfs_read_whole_file(VfsContext& context, const char* path, size_t max_size)
{
    File* file = TRY(vfs_open(context, path, kOpenReadOnly, 0));
    auto stat = vfs_fstat(*file);
    if (stat.is_error() || !mode_is_regular(stat.value().attr.mode)) {
        vfs_close(file);
        return Err(stat.is_error() ? stat.error() : Error::EINVAL);
    }
    uint64_t size = stat.value().attr.size;
    if (size > max_size) {
        vfs_close(file);
        return Err(Error::EFBIG);
    }
    auto* data = static_cast<uint8_t*>(platform_alloc(size ? size : 1));
    if (!data) {
        vfs_close(file);
        return Err(Error::ENOMEM);
    }
    size_t total = 0;
    while (total < size) {
        auto done = vfs_read(*file, data + total, size - total);
        if (done.is_error() || done.value() == 0) {
            platform_free(data);
            vfs_close(file);
            return Err(done.is_error() ? done.error() : Error::EIO);
        }
        total += done.value();
    }
    vfs_close(file);
    return VfsFileData { data, total };
}

} // namespace keel
