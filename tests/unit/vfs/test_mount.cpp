// The mount tree: new mounts, stacking, bind (with MS_REC), move, remount
// read-only, umount with EBUSY and MNT_DETACH, pivot_root (with Linux's
// checks and the pivot_root(".", ".") idiom over nullfs), namespaces.
#include "fixture.h"

using namespace vfs_test;

TEST_CASE("mount: new mounts, crossing, '..' and busy umount")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/mnt", 0755).is_ok());
    f.write("/mnt/under", "hidden");
    REQUIRE(vfs_mount(f.ctx, "scratch", "/mnt", "tmpfs", 0, "size=64k").is_ok());
    CHECK(err(vfs_stat(f.ctx, "/mnt/under", true)) == Error::ENOENT);
    f.write("/mnt/over", "on top");
    auto over = vfs_stat(f.ctx, "/mnt/over", true);
    auto root = vfs_stat(f.ctx, "/", true);
    REQUIRE(over.is_ok());
    CHECK(over.value().mount_id != root.value().mount_id);
    CHECK(f.read("/mnt/../mnt/over") == "on top"); // ".." at a mount root goes to the parent mount
    REQUIRE(vfs_chdir(f.ctx, "/mnt").is_ok());
    CHECK(f.cwd() == "/mnt");
    REQUIRE(vfs_chdir(f.ctx, "..").is_ok());
    CHECK(f.cwd() == "/");

    CHECK(err(vfs_mount(f.ctx, "x", "/mnt", "nosuchfs", 0, nullptr)) == Error::ENODEV);
    CHECK(err(vfs_mount(f.ctx, "x", "/mnt/over", "tmpfs", 0, nullptr)) == Error::ENOTDIR);
    CHECK(err(vfs_mount(f.ctx, "x", "/mnt", "tmpfs", 0, "size=lots")) == Error::EINVAL);
    CHECK(std::string(host_last_log()).find("'lots'") != std::string::npos);
    CHECK(err(vfs_mount(f.ctx, "x", "/mnt", "tmpfs", 0, "colour=blue")) == Error::EINVAL);
    CHECK(std::string(host_last_log()).find("colour=blue") != std::string::npos);

    // Busy: an open file, a working directory, a submount.
    auto file = vfs_open(f.ctx, "/mnt/over", kOpenReadOnly, 0);
    REQUIRE(file.is_ok());
    CHECK(err(vfs_umount(f.ctx, "/mnt", 0)) == Error::EBUSY);
    vfs_close(file.value());
    REQUIRE(vfs_chdir(f.ctx, "/mnt").is_ok());
    CHECK(err(vfs_umount(f.ctx, "/mnt", 0)) == Error::EBUSY);
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    CHECK(err(vfs_rmdir(f.ctx, "/mnt")) == Error::EBUSY);
    CHECK(err(vfs_umount(f.ctx, "/mnt/over", 0)) == Error::EINVAL); // not a mount point
    CHECK(err(vfs_umount(f.ctx, "/", 0)) == Error::EINVAL);         // the namespace's root
    REQUIRE(vfs_umount(f.ctx, "/mnt", 0).is_ok());
    CHECK(f.read("/mnt/under") == "hidden");
    CHECK(err(vfs_umount(f.ctx, "/mnt", 0)) == Error::EINVAL);
    CHECK(vfs_counters().superblocks == 1);
}

TEST_CASE("mount: stacked mounts come off top first")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/m", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "one", "/m", "tmpfs", 0, nullptr).is_ok());
    f.write("/m/which", "one");
    REQUIRE(vfs_mount(f.ctx, "two", "/m", "tmpfs", 0, nullptr).is_ok());
    f.write("/m/which", "two");
    CHECK(f.mounts().size() == 3);
    REQUIRE(vfs_umount(f.ctx, "/m", 0).is_ok());
    CHECK(f.read("/m/which") == "one");
    REQUIRE(vfs_umount(f.ctx, "/m", 0).is_ok());
    CHECK(err(vfs_stat(f.ctx, "/m/which", true)) == Error::ENOENT);
}

TEST_CASE("mount: lazy umount keeps the tree usable until its last user goes")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/mnt", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "lazy", "/mnt", "tmpfs", 0, nullptr).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/mnt/sub", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "inner", "/mnt/sub", "tmpfs", 0, nullptr).is_ok());
    f.write("/mnt/sub/deep", "deep");
    f.write("/mnt/file", "still here");
    auto file = vfs_open(f.ctx, "/mnt/sub/deep", kOpenReadOnly, 0);
    REQUIRE(file.is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/mnt").is_ok());
    CHECK(err(vfs_umount(f.ctx, "/mnt", 0)) == Error::EBUSY);
    REQUIRE(vfs_umount(f.ctx, "/mnt", kUmountDetach).is_ok());
    CHECK(f.mounts().size() == 1);
    CHECK(vfs_counters().superblocks == 3);
    // The working directory still works, relative paths too; the submount
    // was disconnected, so "sub" is the plain directory again.
    CHECK(f.read("file") == "still here");
    CHECK(err(vfs_stat(f.ctx, "sub/deep", true)) == Error::ENOENT);
    char buffer[8];
    auto done = vfs_read(*file.value(), buffer, sizeof(buffer));
    REQUIRE(done.is_ok());
    CHECK(std::string(buffer, done.value()) == "deep");
    CHECK(f.cwd().rfind("(unreachable)", 0) == 0);
    REQUIRE(vfs_chdir(f.ctx, "..").is_ok()); // ".." at a detached root stays
    f.write("made-after", "x");
    vfs_close(file.value());
    CHECK(vfs_counters().superblocks == 2); // the inner tmpfs went with the file
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    CHECK(vfs_counters().superblocks == 1); // and the lazy one with the cwd
    CHECK(vfs_counters().mounts == 1);
}

TEST_CASE("mount: bind, recursive bind, move and read-only")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/src", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/src/inner", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "sub", "/src/inner", "tmpfs", 0, nullptr).is_ok());
    f.write("/src/inner/x", "x");
    f.write("/src/file", "f");
    REQUIRE(vfs_mkdir(f.ctx, "/plain", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/rec", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "/src", "/plain", nullptr, kMountBind, nullptr).is_ok());
    REQUIRE(vfs_mount(f.ctx, "/src", "/rec", nullptr, kMountBind | kMountRecursive, nullptr).is_ok());
    CHECK(f.read("/plain/file") == "f");
    CHECK(err(vfs_stat(f.ctx, "/plain/inner/x", true)) == Error::ENOENT);
    CHECK(f.read("/rec/inner/x") == "x");
    f.write("/plain/new", "shared");
    CHECK(f.read("/src/new") == "shared"); // the same filesystem

    auto lines = f.mounts();
    REQUIRE(lines.size() == 5);
    CHECK(lines[2].mountpoint == "/plain");
    CHECK(lines[2].root == "/src");

    // Bind a file onto a file; type mismatch fails.
    f.write("/target-file", "t");
    REQUIRE(vfs_mount(f.ctx, "/src/file", "/target-file", nullptr, kMountBind, nullptr).is_ok());
    CHECK(f.read("/target-file") == "f");
    CHECK(err(vfs_mount(f.ctx, "/src/file", "/rec", nullptr, kMountBind, nullptr)) == Error::ENOTDIR);

    // Read-only bind remount.
    REQUIRE(vfs_mount(f.ctx, nullptr, "/plain", nullptr, kMountRemount | kMountBind | kMountReadOnly, nullptr).is_ok());
    CHECK(err(vfs_mkdir(f.ctx, "/plain/no", 0755)) == Error::EROFS);
    CHECK(err(vfs_open(f.ctx, "/plain/file", kOpenWriteOnly, 0)) == Error::EROFS);
    CHECK(vfs_mkdir(f.ctx, "/src/yes", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, nullptr, "/plain", nullptr, kMountRemount | kMountBind, nullptr).is_ok());
    CHECK(vfs_mkdir(f.ctx, "/plain/no", 0755).is_ok());

    // Move: the inner mount from /src/inner to /moved.
    REQUIRE(vfs_mkdir(f.ctx, "/moved", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "/src/inner", "/moved", nullptr, kMountMove, nullptr).is_ok());
    CHECK(f.read("/moved/x") == "x");
    CHECK(err(vfs_stat(f.ctx, "/src/inner/x", true)) == Error::ENOENT);
    CHECK(err(vfs_mount(f.ctx, "/src", "/moved", nullptr, kMountMove, nullptr)) == Error::EINVAL); // not a mount
    REQUIRE(vfs_mkdir(f.ctx, "/moved/below", 0755).is_ok());
    CHECK(err(vfs_mount(f.ctx, "/moved", "/moved/below", nullptr, kMountMove, nullptr)) == Error::ELOOP);

    // Superblock remount read-only, then back.
    REQUIRE(vfs_mount(f.ctx, nullptr, "/moved", nullptr, kMountRemount | kMountReadOnly, nullptr).is_ok());
    CHECK(err(vfs_unlink(f.ctx, "/moved/x")) == Error::EROFS);
    REQUIRE(vfs_mount(f.ctx, nullptr, "/moved", nullptr, kMountRemount, "size=1m").is_ok());
    CHECK(vfs_unlink(f.ctx, "/moved/x").is_ok());
}

TEST_CASE("mount: a move into the moved mount's own tree is refused by mount, not by dentry")
{
    // The working directory is a directory a rename carried out of the
    // bind mount's root: its dentry is no longer under that root, but its
    // mount is the bind mount itself. Moving the bind mount there would
    // make it its own parent (and a later umount -l walk it for ever).
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/a", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/a/s", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/a/s/d", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/m", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "/a/s", "/m", nullptr, kMountBind, nullptr).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/m/d").is_ok());
    REQUIRE(vfs_rename(f.ctx, "/a/s/d", "/a/d").is_ok());
    CHECK(err(vfs_mount(f.ctx, "/m", ".", nullptr, kMountMove, nullptr)) == Error::ELOOP);
    // A child of the bind mount whose mountpoint went the same way.
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/a/s/e", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/a/s/e/f", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "inner", "/m/e/f", "tmpfs", 0, nullptr).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/m/e/f/g", 0755).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/m/e/f/g").is_ok());
    REQUIRE(vfs_rename(f.ctx, "/a/s/e", "/a/e").is_ok());
    CHECK(err(vfs_mount(f.ctx, "/m", ".", nullptr, kMountMove, nullptr)) == Error::ELOOP);
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    // Everything still comes apart.
    CHECK(vfs_umount(f.ctx, "/m", kUmountDetach).is_ok());
    CHECK(f.mounts().size() == 1);
}

TEST_CASE("mount: pivot_root over nullfs, then lazily unmount the old root")
{
    Fixture f(true);
    auto lines = f.mounts();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].fstype == "nullfs");
    CHECK(lines[0].mountpoint == "/");
    CHECK(lines[1].fstype == "tmpfs");
    CHECK(lines[1].mountpoint == "/");
    CHECK(lines[1].parent == lines[0].id);

    f.write("/old-file", "old");
    REQUIRE(vfs_mkdir(f.ctx, "/newroot", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "new", "/newroot", "tmpfs", 0, nullptr).is_ok());
    f.write("/newroot/new-file", "new");
    REQUIRE(vfs_chdir(f.ctx, "/newroot").is_ok());
    CHECK(err(vfs_pivot_root(f.ctx, "/old-file", ".")) == Error::ENOTDIR);
    REQUIRE(vfs_mkdir(f.ctx, "/plain", 0755).is_ok());
    CHECK(err(vfs_pivot_root(f.ctx, "/plain", "/plain")) == Error::EBUSY); // same mount as the root
    REQUIRE(vfs_pivot_root(f.ctx, ".", ".").is_ok());
    CHECK(f.read("/new-file") == "new");
    CHECK(f.cwd() == "/");
    REQUIRE(vfs_umount(f.ctx, ".", kUmountDetach).is_ok());
    CHECK(err(vfs_stat(f.ctx, "/old-file", true)) == Error::ENOENT);
    lines = f.mounts();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].source == "new");
    CHECK(vfs_counters().superblocks == 2); // the old root's tmpfs is gone
    CHECK(f.read("/../new-file") == "new");
}

TEST_CASE("mount: '..' does not leave a bind mount, or a chroot in it, from a directory moved out of it")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/d", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d/sub", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d/sub/x", 0755).is_ok());
    f.write("/secret", "outside");
    REQUIRE(vfs_mkdir(f.ctx, "/m", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "/d/sub", "/m", nullptr, kMountBind, nullptr).is_ok());
    auto jail = vfs_context_clone(f.ctx);
    REQUIRE(jail.is_ok());
    VfsContext& j = *jail.value();
    REQUIRE(vfs_chroot(j, "/m").is_ok());
    REQUIRE(vfs_chdir(j, "/x").is_ok());
    CHECK(err(vfs_stat(j, "/secret", true)) == Error::ENOENT);
    // The jail's working directory moves out of the bound subtree.
    REQUIRE(vfs_rename(f.ctx, "/d/sub/x", "/d/x").is_ok());
    CHECK(err(vfs_chdir(j, "../../..")) == Error::ENOENT);
    char cwd[256];
    auto length = vfs_getcwd(j, cwd, sizeof(cwd));
    REQUIRE(length.is_ok()); // was ENAMETOOLONG: "/" prepended at the filesystem's root for ever
    CHECK(std::string(cwd).rfind("(unreachable)", 0) == 0);
    CHECK(err(vfs_stat(j, "../../../secret", true)) == Error::ENOENT);
    CHECK(err(vfs_stat(j, "../secret", true)) == Error::ENOENT);
    // Down from it names still resolve, up they do not; from the jail's
    // root nothing changed.
    REQUIRE(vfs_mkdir(f.ctx, "/d/x/y", 0755).is_ok());
    CHECK(vfs_stat(j, "y", true).is_ok());
    CHECK(err(vfs_stat(j, "y/..", true)) == Error::ENOENT);
    CHECK(vfs_stat(j, "/..", true).is_ok());
    CHECK(err(vfs_stat(j, "/../secret", true)) == Error::ENOENT);
    vfs_context_release(jail.value());
    REQUIRE(vfs_umount(f.ctx, "/m", 0).is_ok());
}

TEST_CASE("mount: pivot_root refuses a put_old that was removed")
{
    // The working directory can be a removed directory: put there, the
    // old root would be mounted where no path reaches it, for good.
    Fixture f(true);
    REQUIRE(vfs_mkdir(f.ctx, "/newroot", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "new", "/newroot", "tmpfs", 0, nullptr).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/newroot/gone", 0755).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/newroot/gone").is_ok());
    REQUIRE(vfs_rmdir(f.ctx, "/newroot/gone").is_ok());
    CHECK(err(vfs_pivot_root(f.ctx, "/newroot", ".")) == Error::ENOENT);
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    CHECK(f.mounts().size() == 3); // nothing moved
}

TEST_CASE("mount: pivot_root keeping the old root at put_old")
{
    Fixture f(true);
    f.write("/old-file", "old");
    REQUIRE(vfs_mkdir(f.ctx, "/newroot", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "new", "/newroot", "tmpfs", 0, nullptr).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/newroot/initramfs", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/elsewhere", 0755).is_ok());
    CHECK(err(vfs_pivot_root(f.ctx, "/newroot", "/elsewhere")) == Error::EBUSY); // put_old on the root mount
    REQUIRE(vfs_mount(f.ctx, "other", "/elsewhere", "tmpfs", 0, nullptr).is_ok());
    CHECK(err(vfs_pivot_root(f.ctx, "/newroot", "/elsewhere")) == Error::EINVAL); // put_old not under new_root
    CHECK(err(vfs_pivot_root(f.ctx, "/elsewhere", "/newroot")) == Error::EINVAL); // put_old not under new_root
    REQUIRE(vfs_umount(f.ctx, "/elsewhere", 0).is_ok());
    REQUIRE(vfs_pivot_root(f.ctx, "/newroot", "/newroot/initramfs").is_ok());
    CHECK(f.read("/initramfs/old-file") == "old");
    CHECK(f.cwd() == "/"); // the working directory was the old root: moved to the new one
    // Linux's order: the list is not reordered, only the tree.
    auto lines = f.mounts();
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].source == "rootfs");
    CHECK(lines[1].mountpoint == "/initramfs");
    CHECK(lines[2].source == "new");
    CHECK(lines[2].mountpoint == "/");
    REQUIRE(vfs_umount(f.ctx, "/initramfs", 0).is_ok());
}

TEST_CASE("mount: pivot_root on the absolute root fails with EINVAL")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/newroot", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "new", "/newroot", "tmpfs", 0, nullptr).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/newroot").is_ok());
    CHECK(err(vfs_pivot_root(f.ctx, ".", ".")) == Error::EINVAL);
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
}

TEST_CASE("mount: unshare copies the tree; later mounts stay private")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/shared", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "before", "/shared", "tmpfs", 0, nullptr).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/shared").is_ok());
    auto clone = vfs_context_clone(f.ctx);
    REQUIRE(clone.is_ok());
    VfsContext& other = *clone.value();
    REQUIRE(vfs_unshare(other, kCloneNewNamespace).is_ok());
    CHECK(f.mounts(&other).size() == 2);
    char cwd[64];
    auto length = vfs_getcwd(other, cwd, sizeof(cwd));
    REQUIRE(length.is_ok());
    CHECK(std::string(cwd, length.value()) == "/shared");

    REQUIRE(vfs_mkdir(f.ctx, "/private", 0755).is_ok());
    REQUIRE(vfs_mount(other, "mine", "/private", "tmpfs", 0, nullptr).is_ok());
    f.write("/private/file", "host view");
    CHECK(err(vfs_stat(other, "/private/file", true)) == Error::ENOENT);
    CHECK(f.mounts(&other).size() == 3);
    CHECK(f.mounts().size() == 2);
    REQUIRE(vfs_chdir(other, "/").is_ok());
    REQUIRE(vfs_umount(other, "/shared", 0).is_ok()); // only in the copy
    CHECK(f.mounts().size() == 2);
    CHECK(f.mounts(&other).size() == 2);
    // A mount of the other namespace cannot be unmounted from this one.
    vfs_context_release(clone.value());
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
    CHECK(vfs_counters().superblocks == 2);
}

TEST_CASE("mount: filesystem types and module pins")
{
    Fixture f;
    CHECK(host_platform_stats().pins == 1); // the root tmpfs
    REQUIRE(vfs_mkdir(f.ctx, "/n", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "none", "/n", "nullfs", 0, nullptr).is_ok());
    CHECK(host_platform_stats().pins == 2);
    CHECK(err(vfs_unregister_filesystem(&nullfs_type_ops)) == Error::EBUSY);
    CHECK(err(vfs_register_filesystem(&tmpfs_type_ops, nullptr)) == Error::EEXIST);
    // nullfs refuses every change.
    CHECK(err(vfs_mkdir(f.ctx, "/n/x", 0755)) == Error::EPERM);
    CHECK(err(vfs_open(f.ctx, "/n/f", kOpenWriteOnly | kOpenCreate, 0644)) == Error::EPERM);
    CHECK(err(vfs_symlink(f.ctx, "x", "/n/l")) == Error::EPERM);
    CHECK(err(vfs_mknod(f.ctx, "/n/p", 0010644, 0)) == Error::EPERM);
    keel_vfs_attr attr {};
    CHECK(err(vfs_setattr(f.ctx, "/n", attr, KEEL_VFS_ATTR_MODE)) == Error::EPERM);
    CHECK(err(vfs_rmdir(f.ctx, "/n/x")) == Error::ENOENT);
    CHECK(f.list("/n") == std::vector<std::string> { ".", ".." });
    auto stats = vfs_statfs(f.ctx, "/n");
    REQUIRE(stats.is_ok());
    CHECK(stats.value().magic == 0x4e554c4c);
    // A second mount of the one nullfs shares its superblock and pin.
    REQUIRE(vfs_mkdir(f.ctx, "/m", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "none", "/m", "nullfs", 0, nullptr).is_ok());
    CHECK(host_platform_stats().pins == 2);
    CHECK(vfs_counters().superblocks == 2);
    REQUIRE(vfs_umount(f.ctx, "/m", 0).is_ok());
    REQUIRE(vfs_umount(f.ctx, "/n", 0).is_ok());
    CHECK(host_platform_stats().pins == 1);
    // A type whose module is being unloaded refuses the pin: the mount
    // fails before the type's code runs, and takes nothing.
    long allocations = host_platform_stats().allocations;
    host_platform_stats().refuse_pins = true;
    CHECK(err(vfs_mount(f.ctx, "none", "/n", "nullfs", 0, nullptr)) == Error::ENODEV);
    host_platform_stats().refuse_pins = false;
    CHECK(host_platform_stats().pins == 1);
    CHECK(host_platform_stats().allocations == allocations);
    CHECK(vfs_counters().superblocks == 1);

    // Tables from modules are checked field by field.
    keel_fs_type_ops bad = tmpfs_type_ops;
    keel::Diagnostic diagnostic;
    bad.name = "Bad Name";
    CHECK(err(vfs_register_filesystem(&bad, nullptr, &diagnostic)) == Error::EINVAL);
    CHECK(std::string(diagnostic.message).find("\"Bad Name\"") != std::string::npos);
    bad = tmpfs_type_ops;
    bad.version = 99;
    CHECK(err(vfs_register_filesystem(&bad, nullptr, &diagnostic)) == Error::EINVAL);
    CHECK(std::string(diagnostic.message).find("version 99") != std::string::npos);
    bad = tmpfs_type_ops;
    bad.lookup = nullptr;
    CHECK(err(vfs_register_filesystem(&bad, nullptr, &diagnostic)) == Error::EINVAL);
    CHECK(std::string(diagnostic.message).find("lookup") != std::string::npos);
    bad = tmpfs_type_ops;
    bad.size = 12;
    CHECK(err(vfs_register_filesystem(&bad, nullptr, &diagnostic)) == Error::EINVAL);
    CHECK(std::string(diagnostic.message).find("size 12") != std::string::npos);

    // An older, smaller table (no readdir and later): accepted, and what
    // it lacks is absent.
    keel_fs_type_ops old = tmpfs_type_ops;
    old.name = "oldfs";
    old.size = offsetof(keel_fs_type_ops, readdir);
    old.readdir = reinterpret_cast<keel_fs_readdir_fn>(0x1); // past `size`: never read
    REQUIRE(vfs_register_filesystem(&old, nullptr).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/o", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "o", "/o", "oldfs", 0, nullptr).is_ok());
    auto dir = vfs_open(f.ctx, "/o", kOpenReadOnly | kOpenDirectory, 0);
    REQUIRE(dir.is_ok());
    auto visit = [](void*, const char*, size_t, uint64_t, uint32_t) { return 0; };
    CHECK(err(vfs_readdir(*dir.value(), visit, nullptr)) == Error::ENOSYS);
    vfs_close(dir.value());
    REQUIRE(vfs_umount(f.ctx, "/o", 0).is_ok());
    REQUIRE(vfs_unregister_filesystem(&old).is_ok());
}

TEST_CASE("mount: every nullfs mount shares the one superblock")
{
    Fixture f(true); // nullfs is mount 1, under the root tmpfs
    CHECK(vfs_counters().superblocks == 2);
    REQUIRE(vfs_mkdir(f.ctx, "/a", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/b", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "none", "/a", "nullfs", 0, nullptr).is_ok());
    REQUIRE(vfs_mount(f.ctx, "none", "/b", "nullfs", kMountReadOnly, nullptr).is_ok());
    CHECK(vfs_counters().superblocks == 2);
    CHECK(host_platform_stats().pins == 2); // one per superblock
    auto a = vfs_stat(f.ctx, "/a", true).value();
    auto b = vfs_stat(f.ctx, "/b", true).value();
    CHECK(a.dev == b.dev);
    CHECK(a.mount_id != b.mount_id);
    std::vector<uint32_t> devs;
    auto visit = [](const VfsMountInfo& info, void* arg) {
        if (std::string(info.fstype) == "nullfs")
            static_cast<std::vector<uint32_t>*>(arg)->push_back(info.dev);
    };
    REQUIRE(vfs_for_each_mount(f.ctx, visit, &devs).is_ok());
    CHECK(devs == std::vector<uint32_t> { a.dev, a.dev, a.dev });
    // The read-only flag is the mount's, not the shared superblock's.
    auto lines = f.mounts();
    REQUIRE(lines.size() == 4);
    CHECK(!lines[2].readonly);
    CHECK(lines[3].readonly);
    // Options are refused on every mount, the first or a later one.
    REQUIRE(vfs_mkdir(f.ctx, "/c", 0755).is_ok());
    CHECK(err(vfs_mount(f.ctx, "none", "/c", "nullfs", 0, "size=1")) == Error::EINVAL);
    // Still every change refused, through any of the mounts.
    CHECK(err(vfs_mkdir(f.ctx, "/a/x", 0755)) == Error::EPERM);
    CHECK(err(vfs_mkdir(f.ctx, "/b/x", 0755)) == Error::EROFS);
    // Unmounting one leaves the others (and mount 1) on the superblock.
    REQUIRE(vfs_umount(f.ctx, "/a", 0).is_ok());
    CHECK(vfs_counters().superblocks == 2);
    CHECK(vfs_stat(f.ctx, "/b", true).value().dev == b.dev);
    REQUIRE(vfs_umount(f.ctx, "/b", 0).is_ok());
    CHECK(f.list("/") == std::vector<std::string> { ".", "..", "a", "b", "c" });
}

TEST_CASE("mount: a lone nullfs mount takes its superblock with it")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/n", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "none", "/n", "nullfs", 0, nullptr).is_ok());
    REQUIRE(vfs_mount(f.ctx, "none", "/n", "nullfs", 0, nullptr).is_ok()); // stacked on itself
    CHECK(vfs_counters().superblocks == 2);
    REQUIRE(vfs_umount(f.ctx, "/n", 0).is_ok());
    CHECK(vfs_counters().superblocks == 2);
    REQUIRE(vfs_umount(f.ctx, "/n", 0).is_ok());
    CHECK(vfs_counters().superblocks == 1);
    CHECK(host_platform_stats().pins == 1);
    // Mounted again after the last one went: a fresh superblock.
    REQUIRE(vfs_mount(f.ctx, "none", "/n", "nullfs", 0, nullptr).is_ok());
    CHECK(vfs_counters().superblocks == 2);
    REQUIRE(vfs_umount(f.ctx, "/n", 0).is_ok());
}

TEST_CASE("mount: a going module's filesystem types are forgotten unless mounted")
{
    Fixture f;
    static int owner;
    keel_fs_type_ops left = tmpfs_type_ops;
    left.name = "leftfs";
    REQUIRE(vfs_register_filesystem(&left, &owner).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/l", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "l", "/l", "leftfs", 0, nullptr).is_ok());

    struct Seen {
        std::vector<std::string> names;
        std::vector<bool> mounted;
    } seen;
    auto report = [](const char* name, bool mounted, void* arg) {
        auto* s = static_cast<Seen*>(arg);
        s->names.push_back(name);
        s->mounted.push_back(mounted);
    };
    // Mounted: reported, kept (its module is pinned and cannot really go).
    CHECK(vfs_forget_owner(&owner, report, &seen) == 0);
    CHECK(seen.names == std::vector<std::string> { "leftfs" });
    CHECK(seen.mounted == std::vector<bool> { true });
    CHECK(vfs_filesystem_registered("leftfs"));

    REQUIRE(vfs_umount(f.ctx, "/l", 0).is_ok());
    // Unmounted: dropped; other owners' types stay.
    CHECK(vfs_forget_owner(&owner, report, &seen) == 1);
    CHECK(!vfs_filesystem_registered("leftfs"));
    CHECK(vfs_filesystem_registered("tmpfs"));
    CHECK(err(vfs_mount(f.ctx, "l", "/l", "leftfs", 0, nullptr)) == Error::ENODEV);
    CHECK(vfs_forget_owner(nullptr, report, &seen) == 0);
}
