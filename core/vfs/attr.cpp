// Attributes and permission checks: Linux's owner/group/other rules, with
// uid 0 passing every check except executing a file without any x bit.
#include "vfs/internal.h"

namespace keel::vfs {

Error fs_error(int32_t result)
{
    // A filesystem returns a negative errno; anything else is a bug in it,
    // reported as EIO rather than trusted.
    if (result < 0 && result > -4096)
        return Error(-result);
    return Error::EIO;
}

Result<keel_vfs_attr> get_attr(const Dentry* dentry)
{
    keel_vfs_attr attr {};
    Superblock* sb = dentry->sb;
    int32_t result = sb->type->ops.getattr(sb->data, dentry->node, &attr);
    if (result != 0)
        return Err(fs_error(result));
    return attr;
}

Result<void> check_access(const VfsContext& context, const Dentry* dentry, unsigned mask)
{
    keel_vfs_attr attr = TRY(get_attr(dentry));
    if (context.uid == 0) {
        bool executable_needed = (mask & 1) && !mode_is_directory(attr.mode);
        if (executable_needed && !(attr.mode & 0111))
            return Err(Error::EACCES);
        return {};
    }
    unsigned granted;
    if (context.uid == attr.uid)
        granted = (attr.mode >> 6) & 7;
    else if (context.gid == attr.gid)
        granted = (attr.mode >> 3) & 7;
    else
        granted = attr.mode & 7;
    if ((granted & mask) != mask)
        return Err(Error::EACCES);
    return {};
}

Result<void> check_writable_mount(const Mount* mount)
{
    if ((mount->flags & kMountReadOnly) || mount->sb->readonly)
        return Err(Error::EROFS);
    return {};
}

} // namespace keel::vfs
