// Path walk: ".", "..", symlinks (relative, absolute, loops, the 40-link
// limit), trailing slashes, name and path limits, permissions.
#include "fixture.h"

using namespace vfs_test;

TEST_CASE("walk: dots, slashes and symlinks")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/a", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/a/b", 0755).is_ok());
    f.write("/a/b/file", "data");
    CHECK(f.read("//a/./b/../b///file") == "data");
    CHECK(f.read("/../../a/b/file") == "data"); // ".." at the root stays there
    REQUIRE(vfs_symlink(f.ctx, "b/file", "/a/rel").is_ok());
    REQUIRE(vfs_symlink(f.ctx, "/a/b", "/abs").is_ok());
    REQUIRE(vfs_symlink(f.ctx, "../a/b/", "/a/up").is_ok());
    CHECK(f.read("/a/rel") == "data");
    CHECK(f.read("/abs/file") == "data");
    CHECK(f.read("/a/up/file") == "data");
    CHECK(f.read("/abs/../b/file") == "data"); // ".." after a symlink is the target's parent

    auto link_stat = vfs_stat(f.ctx, "/abs", false);
    REQUIRE(link_stat.is_ok());
    CHECK(mode_is_symlink(link_stat.value().attr.mode));
    auto dir_stat = vfs_stat(f.ctx, "/abs", true);
    REQUIRE(dir_stat.is_ok());
    CHECK(mode_is_directory(dir_stat.value().attr.mode));

    char target[64];
    auto length = vfs_readlink(f.ctx, "/a/rel", target, sizeof(target));
    REQUIRE(length.is_ok());
    CHECK(std::string(target, length.value()) == "b/file");
    CHECK(err(vfs_readlink(f.ctx, "/a", target, sizeof(target))) == Error::EINVAL);

    CHECK(err(vfs_stat(f.ctx, "/a/b/file/", true)) == Error::ENOTDIR);
    CHECK(err(vfs_stat(f.ctx, "/a/b/file/x", true)) == Error::ENOTDIR);
    CHECK(err(vfs_stat(f.ctx, "/a/missing/x", true)) == Error::ENOENT);
    CHECK(err(vfs_stat(f.ctx, "", true)) == Error::ENOENT);
    CHECK(vfs_stat(f.ctx, "/a/b/", true).is_ok());
}

TEST_CASE("walk: before a root is mounted, \"/\" names nothing")
{
    // Early boot, or a context whose root was never set: every walk says
    // ENOENT, the parent walk of "/" included (it took a null path).
    VfsContext& ctx = *vfs_kernel_context();
    CHECK(err(vfs_stat(ctx, "/", true)) == Error::ENOENT);
    CHECK(err(vfs_mkdir(ctx, "/", 0755)) == Error::ENOENT);
    CHECK(err(vfs_mkdir(ctx, "//", 0755)) == Error::ENOENT);
    CHECK(err(vfs_unlink(ctx, "/")) == Error::ENOENT);
}

TEST_CASE("walk: symlink loops and the 40-link limit")
{
    Fixture f;
    REQUIRE(vfs_symlink(f.ctx, "loop2", "/loop1").is_ok());
    REQUIRE(vfs_symlink(f.ctx, "loop1", "/loop2").is_ok());
    CHECK(err(vfs_stat(f.ctx, "/loop1", true)) == Error::ELOOP);
    CHECK(vfs_stat(f.ctx, "/loop1", false).is_ok());
    REQUIRE(vfs_symlink(f.ctx, "/self/x", "/self").is_ok());
    CHECK(err(vfs_stat(f.ctx, "/self", true)) == Error::ELOOP);

    // A chain of exactly 40 links resolves; 41 does not.
    f.write("/end", "end");
    std::string previous = "/end";
    for (int i = 1; i <= 41; i++) {
        std::string name = "/l" + std::to_string(i);
        REQUIRE(vfs_symlink(f.ctx, previous.c_str(), name.c_str()).is_ok());
        previous = name;
    }
    CHECK(f.read("/l40") == "end");
    CHECK(err(vfs_stat(f.ctx, "/l41", true)) == Error::ELOOP);
    CHECK(err(vfs_open(f.ctx, "/l1", kOpenReadOnly | kOpenNoFollow, 0)) == Error::ELOOP);
}

TEST_CASE("walk: name and path limits")
{
    Fixture f;
    std::string name255(255, 'n'), name256(256, 'n');
    REQUIRE(vfs_mkdir(f.ctx, ("/" + name255).c_str(), 0755).is_ok());
    CHECK(err(vfs_mkdir(f.ctx, ("/" + name256).c_str(), 0755)) == Error::ENAMETOOLONG);
    CHECK(err(vfs_stat(f.ctx, ("/" + name256 + "/x").c_str(), true)) == Error::ENAMETOOLONG);

    std::string long_path;
    while (long_path.size() < 4095)
        long_path += "/.";
    long_path.resize(4095);
    CHECK(vfs_stat(f.ctx, long_path.c_str(), true).is_ok()); // 4095 bytes + NUL fits
    long_path += "/";
    CHECK(err(vfs_stat(f.ctx, long_path.c_str(), true)) == Error::ENAMETOOLONG);

    // A symlink expansion that grows the path past the limit.
    std::string target(3000, '/');
    target += "x";
    REQUIRE(vfs_symlink(f.ctx, target.c_str(), "/big").is_ok());
    std::string through = "/big" + std::string(1200, '/') + "y";
    CHECK(err(vfs_stat(f.ctx, through.c_str(), true)) == Error::ENAMETOOLONG);
}

TEST_CASE("walk: working directory, removed directories and getcwd")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/d", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d/e", 0755).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "/d/e").is_ok());
    CHECK(f.cwd() == "/d/e");
    f.write("here", "x");
    CHECK(f.read("/d/e/here") == "x");
    REQUIRE(vfs_chdir(f.ctx, "..").is_ok());
    CHECK(f.cwd() == "/d");
    CHECK(err(vfs_chdir(f.ctx, "e/here")) == Error::ENOTDIR);
    REQUIRE(vfs_mkdir(f.ctx, "gone", 0755).is_ok());
    REQUIRE(vfs_chdir(f.ctx, "gone").is_ok());
    REQUIRE(vfs_rmdir(f.ctx, "/d/gone").is_ok());
    CHECK(f.cwd() == "error:ENOENT");
    CHECK(err(vfs_mkdir(f.ctx, "x", 0755)) == Error::ENOENT); // nothing is created in a removed directory
    CHECK(f.list(".") == std::vector<std::string> { ".", ".." });
    REQUIRE(vfs_chdir(f.ctx, "..").is_ok());
    CHECK(f.cwd() == "/d");
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
}

TEST_CASE("walk: permissions for other users")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/private", 0700).is_ok());
    f.write("/private/secret", "s");
    REQUIRE(vfs_mkdir(f.ctx, "/open", 0777).is_ok());
    f.write("/readonly", "r");
    keel_vfs_attr attr {};
    attr.mode = 0444;
    REQUIRE(vfs_setattr(f.ctx, "/readonly", attr, KEEL_VFS_ATTR_MODE).is_ok());

    auto user = vfs_context_clone(f.ctx);
    REQUIRE(user.is_ok());
    VfsContext& u = *user.value();
    vfs_set_credentials(u, 1000, 1000);
    CHECK(err(vfs_stat(u, "/private/secret", true)) == Error::EACCES);
    CHECK(err(vfs_chdir(u, "/private")) == Error::EACCES);
    CHECK(err(vfs_open(u, "/readonly", kOpenWriteOnly, 0)) == Error::EACCES);
    auto readable = vfs_open(u, "/readonly", kOpenReadOnly, 0);
    REQUIRE(readable.is_ok());
    vfs_close(readable.value());
    CHECK(vfs_mkdir(u, "/open/mine", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/rootonly", 0755).is_ok());
    CHECK(err(vfs_mkdir(u, "/rootonly/not-mine", 0755)) == Error::EACCES);
    CHECK(err(vfs_mount(u, "none", "/open", "tmpfs", 0, nullptr)) == Error::EPERM);
    CHECK(err(vfs_setattr(u, "/readonly", attr, KEEL_VFS_ATTR_MODE)) == Error::EPERM);
    // A file the user may write but does not own: a size with a mode is
    // refused whole, the size included (it used to truncate, then fail).
    f.write("/open/shared", "shared");
    attr.mode = 0666;
    REQUIRE(vfs_setattr(f.ctx, "/open/shared", attr, KEEL_VFS_ATTR_MODE).is_ok());
    attr.size = 0;
    CHECK(err(vfs_setattr(u, "/open/shared", attr, KEEL_VFS_ATTR_SIZE | KEEL_VFS_ATTR_MODE)) == Error::EPERM);
    CHECK(f.read("/open/shared") == "shared");
    CHECK(vfs_setattr(u, "/open/shared", attr, KEEL_VFS_ATTR_SIZE).is_ok()); // the size alone is a write
    CHECK(f.read("/open/shared").empty());
    vfs_context_release(user.value());
}

TEST_CASE("walk: the sticky bit guards a name against rename over it too")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/tmp", 01777).is_ok());
    auto alice = vfs_context_clone(f.ctx);
    auto bob = vfs_context_clone(f.ctx);
    REQUIRE(alice.is_ok());
    REQUIRE(bob.is_ok());
    vfs_set_credentials(*alice.value(), 1000, 1000);
    vfs_set_credentials(*bob.value(), 1001, 1001);
    auto victim = vfs_open(*alice.value(), "/tmp/victim", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(victim.is_ok());
    vfs_close(victim.value());
    auto mine = vfs_open(*bob.value(), "/tmp/mine", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(mine.is_ok());
    vfs_close(mine.value());
    CHECK(err(vfs_unlink(*bob.value(), "/tmp/victim")) == Error::EPERM);
    CHECK(err(vfs_rename(*bob.value(), "/tmp/mine", "/tmp/victim")) == Error::EPERM);
    CHECK(vfs_stat(f.ctx, "/tmp/victim", true).value().attr.uid == 1000);
    CHECK(vfs_rename(*bob.value(), "/tmp/mine", "/tmp/bobs").is_ok());      // a new name is his to make
    CHECK(vfs_rename(*alice.value(), "/tmp/victim", "/tmp/bobs2").is_ok()); // her own moves
    vfs_context_release(alice.value());
    vfs_context_release(bob.value());
}

TEST_CASE("walk: a file open(O_CREAT) made is the creator's to use, whatever its mode")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/open", 0777).is_ok());
    auto user = vfs_context_clone(f.ctx);
    REQUIRE(user.is_ok());
    vfs_set_credentials(*user.value(), 1000, 1000);
    auto made = vfs_open(*user.value(), "/open/ro", kOpenWriteOnly | kOpenCreate | kOpenExclusive, 0444);
    REQUIRE(made.is_ok()); // was EACCES, with the file left behind
    CHECK(vfs_write(*made.value(), "x", 1).value() == 1);
    vfs_close(made.value());
    // Opening it again is checked as ever.
    CHECK(err(vfs_open(*user.value(), "/open/ro", kOpenWriteOnly, 0)) == Error::EACCES);
    // With O_TRUNC too (a shell's `>`): the new file is empty, and its
    // truncate is no second permission check. This was EACCES, with the
    // file left behind.
    auto truncating = vfs_open(*user.value(), "/open/ro-trunc", kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0444);
    REQUIRE(truncating.is_ok());
    CHECK(vfs_write(*truncating.value(), "y", 1).value() == 1);
    vfs_close(truncating.value());
    CHECK(err(vfs_open(*user.value(), "/open/ro-trunc", kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0444))
        == Error::EACCES); // it exists now: checked, and not truncated
    CHECK(vfs_stat(f.ctx, "/open/ro-trunc", true).value().attr.size == 1);
    vfs_context_release(user.value());
}

TEST_CASE("walk: open(O_CREAT) through a dangling symlink creates its target")
{
    // As Linux: the last name is followed, link after link, each target
    // walked from its link's directory; O_EXCL refuses a symlink there
    // (EEXIST) and O_NOFOLLOW one (ELOOP). This was EEXIST.
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/d", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d/sub", 0755).is_ok());
    REQUIRE(vfs_symlink(f.ctx, "sub/made", "/d/rel").is_ok());              // relative to /d
    REQUIRE(vfs_symlink(f.ctx, "/d/rel", "/abs").is_ok());                  // a chain: /abs -> /d/rel -> /d/sub/made
    REQUIRE(vfs_symlink(f.ctx, "/nowhere/x", "/deep").is_ok());             // its directory is missing
    REQUIRE(vfs_symlink(f.ctx, "sub/new/", "/d/slash").is_ok());            // names a directory to be
    REQUIRE(vfs_symlink(f.ctx, "../../d/./sub/up", "/d/sub/dots").is_ok()); // ".." from the link's directory
    REQUIRE(vfs_symlink(f.ctx, "self", "/self").is_ok());
    CHECK(err(vfs_open(f.ctx, "/abs", kOpenWriteOnly | kOpenCreate | kOpenExclusive, 0644)) == Error::EEXIST);
    CHECK(err(vfs_open(f.ctx, "/abs", kOpenWriteOnly | kOpenCreate | kOpenNoFollow, 0644)) == Error::ELOOP);
    CHECK(err(vfs_stat(f.ctx, "/d/sub/made", true)) == Error::ENOENT);
    auto made = vfs_open(f.ctx, "/abs", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(made.is_ok());
    CHECK(vfs_write(*made.value(), "via", 3).value() == 3);
    vfs_close(made.value());
    CHECK(f.read("/d/sub/made") == "via");
    CHECK(f.read("/abs") == "via");
    auto link = vfs_stat(f.ctx, "/abs", false);
    REQUIRE(link.is_ok());
    CHECK(mode_is_symlink(link.value().attr.mode)); // the links stay links
    CHECK(err(vfs_open(f.ctx, "/deep", kOpenWriteOnly | kOpenCreate, 0644)) == Error::ENOENT);
    CHECK(err(vfs_open(f.ctx, "/d/slash", kOpenWriteOnly | kOpenCreate, 0644)) == Error::EISDIR);
    CHECK(err(vfs_open(f.ctx, "/self", kOpenWriteOnly | kOpenCreate, 0644)) == Error::ELOOP);
    auto dots = vfs_open(f.ctx, "/d/sub/dots", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(dots.is_ok());
    vfs_close(dots.value());
    CHECK(vfs_stat(f.ctx, "/d/sub/up", false).is_ok());
    // In a chroot the target's "/" and ".." stop at the new root.
    REQUIRE(vfs_mkdir(f.ctx, "/jail", 0755).is_ok());
    REQUIRE(vfs_symlink(f.ctx, "/../inside", "/jail/out").is_ok());
    auto jailed = vfs_context_clone(f.ctx);
    REQUIRE(jailed.is_ok());
    REQUIRE(vfs_chroot(*jailed.value(), "/jail").is_ok());
    auto inside = vfs_open(*jailed.value(), "/out", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(inside.is_ok());
    vfs_close(inside.value());
    vfs_context_release(jailed.value());
    CHECK(vfs_stat(f.ctx, "/jail/inside", false).is_ok());
    CHECK(err(vfs_stat(f.ctx, "/inside", false)) == Error::ENOENT);
    // (The fixture checks at its end that every allocation went back.)
}

TEST_CASE("walk: a rename that finds no memory for the new name changes nothing")
{
    // The filesystem renamed first and the name's storage came after: a
    // failure left the disk renamed, the cache not, and the call saying
    // it worked; the next umount read freed memory.
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/a", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/a/b", 0755).is_ok());
    f.write("/a/b/file", "kept");
    REQUIRE(vfs_stat(f.ctx, "/a/b/file", true).is_ok()); // the subtree is cached
    host_platform_stats().fail_allocations_after = 0;
    CHECK(err(vfs_rename(f.ctx, "/a", "/a_name_longer_than_any_inline_storage_for_names")) == Error::ENOMEM);
    host_platform_stats().fail_allocations_after = -1;
    CHECK(f.read("/a/b/file") == "kept");
    CHECK(err(vfs_stat(f.ctx, "/a_name_longer_than_any_inline_storage_for_names", true)) == Error::ENOENT);
    REQUIRE(vfs_rename(f.ctx, "/a", "/a_name_longer_than_any_inline_storage_for_names").is_ok());
    CHECK(f.read("/a_name_longer_than_any_inline_storage_for_names/b/file") == "kept");
}

TEST_CASE("walk: a create that runs out of memory at any step makes nothing, or makes it whole")
{
    // The filesystem made the node and the dentry came after: a failure
    // there reported ENOMEM with the name left on the disk.
    Fixture f;
    for (long allowed = 0; allowed < 8; allowed++) {
        INFO("allocations allowed: " << allowed);
        std::string dir = "/dir" + std::to_string(allowed), file = "/file" + std::to_string(allowed),
                    link = "/link" + std::to_string(allowed);
        host_platform_stats().fail_allocations_after = allowed;
        auto made_dir = vfs_mkdir(f.ctx, dir.c_str(), 0755);
        host_platform_stats().fail_allocations_after = allowed;
        auto made_file = vfs_open(f.ctx, file.c_str(), kOpenWriteOnly | kOpenCreate | kOpenExclusive, 0644);
        host_platform_stats().fail_allocations_after = allowed;
        auto made_link = vfs_symlink(f.ctx, "target", link.c_str());
        host_platform_stats().fail_allocations_after = -1;
        CHECK((made_dir.is_ok() || made_dir.error() == Error::ENOMEM));
        CHECK(vfs_stat(f.ctx, dir.c_str(), false).is_ok() == made_dir.is_ok());
        if (made_file.is_ok())
            vfs_close(made_file.value());
        CHECK(vfs_stat(f.ctx, file.c_str(), false).is_ok() == made_file.is_ok());
        CHECK(vfs_stat(f.ctx, link.c_str(), false).is_ok() == made_link.is_ok());
    }
}

TEST_CASE("walk: lookups, removals and unmounts need no memory")
{
    // A full tmpfs must be emptied with memory exhausted: every path walk
    // once allocated 8 KiB, so rm, rmdir, stat and umount all failed with
    // ENOMEM and the memory could never come back.
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/d", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d/sub", 0755).is_ok());
    f.write("/d/file", "data");
    REQUIRE(vfs_symlink(f.ctx, "d/file", "/link").is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/mnt", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "scratch", "/mnt", "tmpfs", 0, nullptr).is_ok());
    f.write("/mnt/x", "y");

    host_platform_stats().fail_allocations_after = 0;
    CHECK(vfs_stat(f.ctx, "/link", true).is_ok()); // through a symlink
    CHECK(vfs_stat(f.ctx, "/d/../d/./sub/", true).is_ok());
    CHECK(vfs_unlink(f.ctx, "/link").is_ok());
    CHECK(vfs_unlink(f.ctx, "/d/file").is_ok());
    CHECK(vfs_rmdir(f.ctx, "/d/sub").is_ok());
    CHECK(vfs_rmdir(f.ctx, "/d").is_ok());
    CHECK(vfs_umount(f.ctx, "/mnt", 0).is_ok());
    CHECK(vfs_rmdir(f.ctx, "/mnt").is_ok());
    int mounts = 0;
    auto listed = vfs_for_each_mount(
        f.ctx, [](const VfsMountInfo&, void* count) { ++*static_cast<int*>(count); }, &mounts);
    CHECK(listed.is_ok());
    CHECK(mounts == 1);
    // Making things still needs memory, and says so.
    CHECK(vfs_mkdir(f.ctx, "/new", 0755).error() == Error::ENOMEM);
    host_platform_stats().fail_allocations_after = -1;
}

TEST_CASE("walk: the dentry hash finds every cached name, follows renames and shrinks back")
{
    // Thousands of cached names in one directory are each found again by
    // the hash (a lookup that missed would make a second dentry for the
    // node: the count would grow), the table grows for them and gives its
    // memory back as they go.
    constexpr int kFiles = 3000;
    Fixture f;
    size_t static_buckets = vfs_counters().hash_buckets;
    REQUIRE(vfs_mkdir(f.ctx, "/d", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/e", 0755).is_ok());
    for (int i = 0; i < kFiles; i++)
        f.write(("/d/f" + std::to_string(i)).c_str(), std::to_string(i));
    VfsCounters grown = vfs_counters();
    CHECK(grown.hash_buckets > static_buckets);
    CHECK(grown.hashed == grown.dentries - 1); // all but the root
    for (int i = 0; i < kFiles; i++) {
        auto stat = vfs_stat(f.ctx, ("/d/f" + std::to_string(i)).c_str(), false);
        REQUIRE(stat.is_ok());
        CHECK(stat.value().attr.size == std::to_string(i).size());
    }
    CHECK(vfs_counters().dentries == grown.dentries);

    // Renamed in its directory and into another: found under the new name
    // (the same dentry), not under the old one.
    REQUIRE(vfs_rename(f.ctx, "/d/f7", "/d/seven").is_ok());
    REQUIRE(vfs_rename(f.ctx, "/d/f8", "/e/eight").is_ok());
    CHECK(err(vfs_stat(f.ctx, "/d/f7", false)) == Error::ENOENT);
    CHECK(err(vfs_stat(f.ctx, "/d/f8", false)) == Error::ENOENT);
    size_t before = vfs_counters().dentries;
    CHECK(f.read("/d/seven") == "7");
    CHECK(f.read("/e/eight") == "8");
    CHECK(vfs_counters().dentries == before);
    // A name replaced by a rename over it.
    REQUIRE(vfs_rename(f.ctx, "/d/f9", "/d/f10").is_ok());
    CHECK(f.read("/d/f10") == "9");

    for (int i = 0; i < kFiles; i++) {
        if (i == 7 || i == 8 || i == 9)
            continue;
        REQUIRE(vfs_unlink(f.ctx, ("/d/f" + std::to_string(i)).c_str()).is_ok());
    }
    REQUIRE(vfs_unlink(f.ctx, "/d/seven").is_ok());
    REQUIRE(vfs_unlink(f.ctx, "/e/eight").is_ok());
    VfsCounters emptied = vfs_counters();
    CHECK(emptied.hash_buckets == static_buckets);
    CHECK(emptied.hashed == emptied.dentries - 1);
    CHECK(f.list("/d").size() == 2); // "." and ".."
}
