// The virtual filesystem: the kernel-internal API. Paths follow Linux's
// rules and errors are Linux's errno values, so the syscall layer that
// comes later maps onto these functions one to one (docs/vfs.md).
//
//     VfsContext& ctx = *vfs_kernel_context();
//     TRY(vfs_mkdir(ctx, "/etc", 0755));
//     File* file = TRY(vfs_open(ctx, "/etc/hostname", kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0644));
//     TRY(vfs_write(*file, "keel\n", 5));
//     vfs_close(file);
//
// A VfsContext is what a process will own: its mount namespace, root and
// working directory, and credentials. Every call takes the VFS lock itself.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel {

// Limits (Linux's NAME_MAX, PATH_MAX and MAXSYMLINKS).
inline constexpr size_t kVfsNameMax = 255;
inline constexpr size_t kVfsPathMax = 4096;
inline constexpr unsigned kVfsMaxSymlinks = 40;

// open() flags: Linux's values, under names that cannot collide with the
// C library's macros in hosted builds (O_CREAT is kOpenCreate, ...).
inline constexpr uint32_t kOpenReadOnly = 0;    // O_RDONLY
inline constexpr uint32_t kOpenWriteOnly = 01;  // O_WRONLY
inline constexpr uint32_t kOpenReadWrite = 02;  // O_RDWR
inline constexpr uint32_t kOpenAccessMode = 03; // O_ACCMODE
inline constexpr uint32_t kOpenCreate = 0100;   // O_CREAT
inline constexpr uint32_t kOpenExclusive = 0200;
inline constexpr uint32_t kOpenTruncate = 01000;
inline constexpr uint32_t kOpenAppend = 02000;
inline constexpr uint32_t kOpenDirectory = 0200000;
inline constexpr uint32_t kOpenNoFollow = 0400000;

// mount() flags (MS_*), Linux's values.
inline constexpr uint32_t kMountReadOnly = 1;
inline constexpr uint32_t kMountNoSuid = 2;
inline constexpr uint32_t kMountNoDev = 4;
inline constexpr uint32_t kMountNoExec = 8;
inline constexpr uint32_t kMountRemount = 32;
inline constexpr uint32_t kMountBind = 4096;
inline constexpr uint32_t kMountMove = 8192;
inline constexpr uint32_t kMountRecursive = 16384;
inline constexpr uint32_t kMountPrivate = 1 << 18;
// umount2() flags (MNT_FORCE, MNT_DETACH).
inline constexpr uint32_t kUmountForce = 1;
inline constexpr uint32_t kUmountDetach = 2;
// unshare() flag (CLONE_NEWNS).
inline constexpr uint32_t kCloneNewNamespace = 0x00020000;

// lseek() whence (SEEK_SET, SEEK_CUR, SEEK_END).
enum class Whence { Set = 0, Current = 1, End = 2 };

inline constexpr uint32_t kModeTypeMask = 0170000; // S_IFMT
inline constexpr uint32_t kModeDirectory = 0040000;
inline constexpr uint32_t kModeRegular = 0100000;
inline constexpr uint32_t kModeSymlink = 0120000;
inline constexpr bool mode_is_directory(uint32_t mode) { return (mode & kModeTypeMask) == kModeDirectory; }
inline constexpr bool mode_is_regular(uint32_t mode) { return (mode & kModeTypeMask) == kModeRegular; }
inline constexpr bool mode_is_symlink(uint32_t mode) { return (mode & kModeTypeMask) == kModeSymlink; }

struct VfsContext;
struct File;

// stat(): the filesystem's attributes plus where the file is.
struct VfsStat {
    keel_vfs_attr attr;
    uint32_t dev;      // the superblock's number
    uint32_t mount_id; // the mount the path resolved on
};

// ---- contexts

// The context of kernel threads: the initial namespace, root "/".
VfsContext* vfs_kernel_context();
// A new context sharing `from`'s namespace, root and working directory.
Result<VfsContext*> vfs_context_clone(VfsContext& from);
void vfs_context_release(VfsContext* context);
// unshare(CLONE_NEWNS): `context` gets a private copy of its mount tree;
// its root and working directory move to the copies of their mounts.
Result<void> vfs_unshare(VfsContext& context, uint32_t flags);
Result<void> vfs_chdir(VfsContext& context, const char* path);
Result<void> vfs_chroot(VfsContext& context, const char* path);
// The working directory as a path from the context's root (Linux's
// getcwd: "(unreachable)/..." when it is outside the root).
Result<size_t> vfs_getcwd(VfsContext& context, char* buffer, size_t size);
void vfs_set_credentials(VfsContext& context, uint32_t uid, uint32_t gid);

// ---- files

Result<File*> vfs_open(VfsContext& context, const char* path, uint32_t flags, uint32_t mode);
void vfs_close(File* file);
Result<size_t> vfs_read(File& file, void* buffer, size_t size);
Result<size_t> vfs_write(File& file, const void* buffer, size_t size);
Result<size_t> vfs_pread(File& file, uint64_t offset, void* buffer, size_t size);
Result<size_t> vfs_pwrite(File& file, uint64_t offset, const void* buffer, size_t size);
Result<uint64_t> vfs_seek(File& file, int64_t offset, Whence whence);
Result<VfsStat> vfs_fstat(File& file);
// Reads a directory: `visit` gets every entry, "." and ".." first; return
// nonzero from it to stop (the next call resumes there).
using VfsDirVisitor = int (*)(void* context, const char* name, size_t name_length, uint64_t ino, uint32_t mode);
Result<void> vfs_readdir(File& file, VfsDirVisitor visit, void* visit_context);
// fchdir(): make an open directory the working directory.
Result<void> vfs_fchdir(VfsContext& context, File& file);

// ---- names

Result<void> vfs_mkdir(VfsContext& context, const char* path, uint32_t mode);
// mknod(): regular files, fifos, sockets and devices (mode carries the type).
Result<void> vfs_mknod(VfsContext& context, const char* path, uint32_t mode, uint32_t rdev);
Result<void> vfs_unlink(VfsContext& context, const char* path);
Result<void> vfs_rmdir(VfsContext& context, const char* path);
Result<void> vfs_rename(VfsContext& context, const char* old_path, const char* new_path);
Result<void> vfs_link(VfsContext& context, const char* old_path, const char* new_path);
Result<void> vfs_symlink(VfsContext& context, const char* target, const char* link_path);
Result<size_t> vfs_readlink(VfsContext& context, const char* path, char* buffer, size_t size);
Result<void> vfs_truncate(VfsContext& context, const char* path, uint64_t size);
Result<VfsStat> vfs_stat(VfsContext& context, const char* path, bool follow_last_symlink = true);
// chmod/chown/utimes: the KEEL_VFS_ATTR_* bits of `mask` select fields.
// Without `follow_last_symlink` a symlink itself changes (lchown, and
// utimensat with AT_SYMLINK_NOFOLLOW).
Result<void> vfs_setattr(
    VfsContext& context, const char* path, const keel_vfs_attr& attr, uint32_t mask, bool follow_last_symlink = true);
Result<keel_vfs_statfs> vfs_statfs(VfsContext& context, const char* path);

// A whole regular file in a buffer from platform memory (kmalloc in the
// kernel; the caller frees it with kfree): for insmod and the like.
// Refuses files larger than `max_size` with EFBIG.
struct VfsFileData {
    uint8_t* data;
    size_t size;
};
Result<VfsFileData> vfs_read_whole_file(VfsContext& context, const char* path, size_t max_size);

// ---- mounts

// mount(2): MS_BIND (with MS_REC), MS_MOVE, MS_REMOUNT (with MS_BIND: the
// mount's flags only), MS_RDONLY; otherwise a new mount of `fstype`.
// MS_PRIVATE alone (the only propagation type) is accepted and changes nothing.
Result<void> vfs_mount(
    VfsContext& context, const char* source, const char* target, const char* fstype, uint32_t flags, const char* data);
// umount2(2): EBUSY while in use unless MNT_DETACH (lazy).
Result<void> vfs_umount(VfsContext& context, const char* target, uint32_t flags);
// pivot_root(2), with Linux's checks (docs/vfs.md).
Result<void> vfs_pivot_root(VfsContext& context, const char* new_root, const char* put_old);
// The first mount of the initial namespace (boot): `fstype` becomes "/",
// and the kernel context's root and working directory.
Result<void> vfs_mount_root(const char* fstype, const char* source, const char* data);

// Drops the kernel context's namespace, root and working directory, so that
// everything no one else uses is freed and vfs_mount_root starts afresh.
// For tests (each starts from an empty VFS) and shutdown.
void vfs_reset_initial_namespace();

// One mount as a /proc/self/mountinfo line has it.
struct VfsMountInfo {
    uint32_t id;
    uint32_t parent_id; // its own id for a namespace's root or a detached mount
    uint32_t dev;
    const char* fstype;
    const char* source;
    const char* mountpoint; // from the context's root
    const char* root;       // the mount's root inside its filesystem ("/" unless bind-mounted)
    bool readonly;          // the mount's flag
    const char* options;    // the superblock's, as given at mount
};
// Visits the mounts of the context's namespace that are visible from its
// root, in mount order (/proc/mounts).
Result<void> vfs_for_each_mount(VfsContext& context, void (*visit)(const VfsMountInfo& mount, void* arg), void* arg);

// ---- filesystem types (the kernel side of keel_register_filesystem)

// `owner`: what platform_pin_owner gets while a superblock of the type
// exists (the registering module). A refused table is described in
// `diagnostic` (field and value).
Result<void> vfs_register_filesystem(const keel_fs_type_ops* ops, void* owner, Diagnostic* diagnostic = nullptr);
Result<void> vfs_unregister_filesystem(const keel_fs_type_ops* ops);
// A module is going (unloaded, or its init failed): drop the filesystem
// types it left registered, calling `report` for each. Returns how many.
size_t vfs_forget_owner(void* owner, void (*report)(const char* type_name, bool mounted, void* arg), void* arg);
bool vfs_filesystem_registered(const char* name);
void vfs_for_each_filesystem(void (*visit)(const char* name, uint32_t superblocks, void* arg), void* arg);

// Counters for tests and `mem`-style reports.
struct VfsCounters {
    size_t mounts;       // alive, attached or detached
    size_t superblocks;  // alive
    size_t dentries;     // cached or in use
    size_t files;        // open
    size_t hashed;       // dentries found by name (all but the roots and removed names)
    size_t hash_buckets; // the dentry hash's size (docs/vfs.md)
};
VfsCounters vfs_counters();

} // namespace keel
