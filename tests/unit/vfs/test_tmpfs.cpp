// tmpfs semantics through the VFS: sparse files, truncate, hard links,
// rename rules, readdir, size= and nr_inodes= limits with ENOSPC, memory
// returned when files go, mode=/uid=/gid=.
#include "fixture.h"

using namespace vfs_test;

TEST_CASE("tmpfs: sparse files and truncate")
{
    Fixture f;
    auto file = vfs_open(f.ctx, "/sparse", kOpenReadWrite | kOpenCreate, 0600);
    REQUIRE(file.is_ok());
    File& sparse = *file.value();
    REQUIRE(vfs_pwrite(sparse, 1 << 20, "end", 3).is_ok());
    auto stat = vfs_fstat(sparse);
    REQUIRE(stat.is_ok());
    CHECK(stat.value().attr.size == (1 << 20) + 3);
    CHECK(stat.value().attr.blocks == 8); // one page
    CHECK(tmpfs_pages_in_use() == 1);
    char buffer[16];
    REQUIRE(vfs_pread(sparse, 4096 * 10, buffer, sizeof(buffer)).value() == 16);
    CHECK(std::string(buffer, 16) == std::string(16, '\0'));
    REQUIRE(vfs_pread(sparse, 1 << 20, buffer, sizeof(buffer)).value() == 3);
    CHECK(std::string(buffer, 3) == "end");

    // Shrink into a page, grow again: the tail reads as zeros.
    REQUIRE(vfs_pwrite(sparse, 0, "0123456789", 10).is_ok());
    CHECK(tmpfs_pages_in_use() == 2);
    REQUIRE(vfs_truncate(f.ctx, "/sparse", 4).is_ok());
    CHECK(tmpfs_pages_in_use() == 1);
    REQUIRE(vfs_truncate(f.ctx, "/sparse", 10).is_ok());
    REQUIRE(vfs_pread(sparse, 0, buffer, 10).value() == 10);
    CHECK(std::string(buffer, 10) == std::string("0123") + std::string(6, '\0'));
    CHECK(err(vfs_truncate(f.ctx, "/", 0)) == Error::EISDIR);

    // A write that covers a new page whole gets it unzeroed (it copies
    // over all of it); the pages it covers in part read as zeros around
    // what it wrote. Under ASan a fresh allocation is filled with 0xbe.
    {
        auto spanning = vfs_open(f.ctx, "/spanning", kOpenReadWrite | kOpenCreate, 0600);
        REQUIRE(spanning.is_ok());
        std::string data(4096 + 100, 'x');
        REQUIRE(vfs_pwrite(*spanning.value(), 2 * 4096 - 50, data.data(), data.size()).value() == data.size());
        std::string back(3 * 4096, '?');
        REQUIRE(vfs_pread(*spanning.value(), 4096, back.data(), back.size()).value() == 4096 - 50 + data.size());
        back.resize(4096 - 50 + data.size());
        CHECK(back == std::string(4096 - 50, '\0') + data);
        CHECK(tmpfs_pages_in_use() == 1 + 3);
        vfs_close(spanning.value());
        REQUIRE(vfs_unlink(f.ctx, "/spanning").is_ok());
    }

    REQUIRE(vfs_seek(sparse, 0, Whence::End).value() == 10);
    REQUIRE(vfs_write(sparse, "!", 1).is_ok());
    CHECK(vfs_seek(sparse, -1, Whence::Current).value() == 10);
    CHECK(err(vfs_seek(sparse, -100, Whence::Current)) == Error::EINVAL);
    vfs_close(&sparse);

    f.write("/append", "a");
    f.write("/append", "b", kOpenWriteOnly | kOpenAppend);
    CHECK(f.read("/append") == "ab");
    CHECK(err(vfs_open(f.ctx, "/append", kOpenWriteOnly | kOpenCreate | kOpenExclusive, 0644)) == Error::EEXIST);
    CHECK(err(vfs_open(f.ctx, "/", kOpenWriteOnly, 0)) == Error::EISDIR);
    CHECK(err(vfs_open(f.ctx, "/append", kOpenReadOnly | kOpenDirectory, 0)) == Error::ENOTDIR);
    CHECK(err(vfs_open(f.ctx, "/new/", kOpenWriteOnly | kOpenCreate, 0644)) == Error::EISDIR);
}

TEST_CASE("tmpfs: hard links, unlink while open")
{
    Fixture f;
    f.write("/a", "shared");
    REQUIRE(vfs_link(f.ctx, "/a", "/b").is_ok());
    CHECK(vfs_stat(f.ctx, "/a", true).value().attr.nlink == 2);
    CHECK(vfs_stat(f.ctx, "/a", true).value().attr.ino == vfs_stat(f.ctx, "/b", true).value().attr.ino);
    f.write("/b", "changed");
    CHECK(f.read("/a") == "changed");
    CHECK(err(vfs_link(f.ctx, "/", "/dirlink")) == Error::EPERM);
    CHECK(err(vfs_link(f.ctx, "/a", "/b")) == Error::EEXIST);

    auto file = vfs_open(f.ctx, "/a", kOpenReadOnly, 0);
    REQUIRE(file.is_ok());
    REQUIRE(vfs_unlink(f.ctx, "/a").is_ok());
    REQUIRE(vfs_unlink(f.ctx, "/b").is_ok());
    CHECK(tmpfs_pages_in_use() == 1); // still open
    char buffer[16];
    CHECK(vfs_read(*file.value(), buffer, sizeof(buffer)).value() == 7);
    vfs_close(file.value());
    CHECK(tmpfs_pages_in_use() == 0);
    CHECK(err(vfs_unlink(f.ctx, "/a")) == Error::ENOENT);
    CHECK(err(vfs_unlink(f.ctx, "/")) == Error::EISDIR);
}

TEST_CASE("tmpfs: rename rules")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/d1", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d1/sub", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/d2", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/empty", 0755).is_ok());
    f.write("/d1/f", "f");
    f.write("/g", "g");

    CHECK(err(vfs_rename(f.ctx, "/d1", "/d1/sub/inside")) == Error::EINVAL);
    CHECK(err(vfs_rename(f.ctx, "/d1", "/d1")) == Error(0));
    CHECK(err(vfs_rename(f.ctx, "/g", "/d2")) == Error::EISDIR);
    CHECK(err(vfs_rename(f.ctx, "/d2", "/g")) == Error::ENOTDIR);
    CHECK(err(vfs_rename(f.ctx, "/d2", "/d1")) == Error::ENOTEMPTY);
    CHECK(err(vfs_rename(f.ctx, "/missing", "/x")) == Error::ENOENT);
    CHECK(err(vfs_rename(f.ctx, "/d1/sub", "/d1/sub/..")) == Error::EBUSY);

    CHECK(vfs_stat(f.ctx, "/d1", true).value().attr.nlink == 3);
    REQUIRE(vfs_rename(f.ctx, "/d1/sub", "/d2/moved-with-a-much-longer-name").is_ok());
    CHECK(vfs_stat(f.ctx, "/d1", true).value().attr.nlink == 2);
    CHECK(vfs_stat(f.ctx, "/d2", true).value().attr.nlink == 3);
    REQUIRE(vfs_rename(f.ctx, "/d2/moved-with-a-much-longer-name", "/empty").is_ok()); // over an empty directory
    CHECK(err(vfs_stat(f.ctx, "/d2/moved-with-a-much-longer-name", true)) == Error::ENOENT);
    REQUIRE(vfs_rename(f.ctx, "/g", "/d1/f").is_ok()); // over a file
    CHECK(f.read("/d1/f") == "g");
    CHECK(f.list("/d1") == std::vector<std::string> { ".", "..", "f" });

    // A working directory follows its directory.
    REQUIRE(vfs_chdir(f.ctx, "/empty").is_ok());
    REQUIRE(vfs_rename(f.ctx, "/empty", "/renamed").is_ok());
    CHECK(f.cwd() == "/renamed");
    REQUIRE(vfs_chdir(f.ctx, "/").is_ok());
}

TEST_CASE("tmpfs: readdir resumes where it stopped")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/d", 0755).is_ok());
    for (int i = 0; i < 10; i++)
        f.write(("/d/f" + std::to_string(i)).c_str(), "x");
    auto file = vfs_open(f.ctx, "/d", kOpenReadOnly | kOpenDirectory, 0);
    REQUIRE(file.is_ok());
    std::vector<std::string> names;
    struct Two {
        std::vector<std::string>* names;
        int left;
    };
    for (int round = 0; round < 10; round++) {
        Two two { &names, 3 };
        auto visit = [](void* context, const char* name, size_t length, uint64_t, uint32_t) {
            auto* t = static_cast<Two*>(context);
            if (t->left-- == 0)
                return 1;
            t->names->emplace_back(name, length);
            return 0;
        };
        REQUIRE(vfs_readdir(*file.value(), visit, &two).is_ok());
    }
    vfs_close(file.value());
    REQUIRE(names.size() == 12);
    CHECK(names[0] == ".");
    CHECK(names[1] == "..");
    CHECK(names[2] == "f0");
    CHECK(names[11] == "f9");
}

TEST_CASE("tmpfs: a file's array of page pointers counts against size=")
{
    // One byte at 1 GiB takes 2 MiB of page pointers: on a mount of 64 KiB
    // that no longer fits, where before only the byte's page was counted.
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/small", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "small", "/small", "tmpfs", 0, "size=64k").is_ok());
    auto file = vfs_open(f.ctx, "/small/sparse", kOpenReadWrite | kOpenCreate, 0644);
    REQUIRE(file.is_ok());
    CHECK(err(vfs_pwrite(*file.value(), uint64_t(1) << 30, "x", 1)) == Error::ENOSPC);
    CHECK(vfs_statfs(f.ctx, "/small").value().blocks_free == 16);
    // The array doubles as the file grows, and whole pages of it count: at
    // 256 KiB (128 pointers) nothing, at 1 MiB (512) one page, at 8 MiB
    // (4,096) eight.
    REQUIRE(vfs_pwrite(*file.value(), 256 << 10, "x", 1).value() == 1);
    CHECK(vfs_statfs(f.ctx, "/small").value().blocks_free == 16 - 1);
    REQUIRE(vfs_pwrite(*file.value(), 1 << 20, "x", 1).value() == 1);
    CHECK(vfs_statfs(f.ctx, "/small").value().blocks_free == 16 - 2 - 1);
    REQUIRE(vfs_pwrite(*file.value(), 8 << 20, "x", 1).value() == 1);
    CHECK(vfs_statfs(f.ctx, "/small").value().blocks_free == 16 - 3 - 8);
    vfs_close(file.value());
    REQUIRE(vfs_unlink(f.ctx, "/small/sparse").is_ok());
    CHECK(vfs_statfs(f.ctx, "/small").value().blocks_free == 16);
}

TEST_CASE("tmpfs: size= and nr_inodes= limits, memory returned")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/small", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "small", "/small", "tmpfs", 0, "size=16k,nr_inodes=4").is_ok());
    std::string page(4096, 'p');
    auto file = vfs_open(f.ctx, "/small/big", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(file.is_ok());
    for (int i = 0; i < 4; i++)
        REQUIRE(vfs_write(*file.value(), page.data(), page.size()).value() == 4096);
    CHECK(err(vfs_write(*file.value(), "x", 1)) == Error::ENOSPC);
    vfs_close(file.value());
    auto stats = vfs_statfs(f.ctx, "/small");
    REQUIRE(stats.is_ok());
    CHECK(stats.value().blocks == 4);
    CHECK(stats.value().blocks_free == 0);
    CHECK(tmpfs_pages_in_use() == 4);
    REQUIRE(vfs_unlink(f.ctx, "/small/big").is_ok());
    CHECK(tmpfs_pages_in_use() == 0);

    // A write that crosses the limit is short, not refused.
    auto short_file = vfs_open(f.ctx, "/small/short", kOpenWriteOnly | kOpenCreate, 0644);
    REQUIRE(short_file.is_ok());
    std::string five(5 * 4096, 'q');
    CHECK(vfs_write(*short_file.value(), five.data(), five.size()).value() == 4 * 4096);
    vfs_close(short_file.value());
    REQUIRE(vfs_unlink(f.ctx, "/small/short").is_ok());

    REQUIRE(vfs_mkdir(f.ctx, "/small/1", 0755).is_ok());
    REQUIRE(vfs_mkdir(f.ctx, "/small/2", 0755).is_ok());
    REQUIRE(vfs_symlink(f.ctx, "x", "/small/3").is_ok());
    CHECK(err(vfs_mkdir(f.ctx, "/small/4", 0755)) == Error::ENOSPC); // root + 3
    REQUIRE(vfs_rmdir(f.ctx, "/small/1").is_ok());
    CHECK(vfs_mkdir(f.ctx, "/small/4", 0755).is_ok());
    REQUIRE(vfs_umount(f.ctx, "/small", 0).is_ok());
    CHECK(tmpfs_nodes_in_use() == 2); // "/" and "/small" of the root tmpfs
}

TEST_CASE("tmpfs: mode=, uid=, gid= and bad options")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/m", 0755).is_ok());
    REQUIRE(vfs_mount(f.ctx, "m", "/m", "tmpfs", 0, "mode=0750,uid=1000,gid=100").is_ok());
    auto stat = vfs_stat(f.ctx, "/m", true);
    REQUIRE(stat.is_ok());
    CHECK((stat.value().attr.mode & 07777) == 0750);
    CHECK(stat.value().attr.uid == 1000);
    CHECK(stat.value().attr.gid == 100);
    REQUIRE(vfs_umount(f.ctx, "/m", 0).is_ok());
    for (const char* bad :
        { "mode=99", "mode=77777", "uid=-1", "size=1q", "nr_inodes=", "size=99999999999999999999" }) {
        CHECK(err(vfs_mount(f.ctx, "m", "/m", "tmpfs", 0, bad)) == Error::EINVAL);
        CHECK(std::string(host_last_log()).find("tmpfs:") == 0);
    }
    CHECK(vfs_counters().superblocks == 1);
}

TEST_CASE("tmpfs: devices, fifos and sockets")
{
    Fixture f;
    REQUIRE(vfs_mknod(f.ctx, "/null", 0020666, (1 << 20) | 3).is_ok());
    REQUIRE(vfs_mknod(f.ctx, "/fifo", 0010644, 0).is_ok());
    auto stat = vfs_stat(f.ctx, "/null", true);
    REQUIRE(stat.is_ok());
    CHECK(stat.value().attr.rdev == ((1u << 20) | 3));
    CHECK(err(vfs_mknod(f.ctx, "/dir", 0040755, 0)) == Error::EINVAL);
    auto file = vfs_open(f.ctx, "/null", kOpenReadOnly, 0);
    REQUIRE(file.is_ok());
    char byte;
    CHECK(err(vfs_read(*file.value(), &byte, 1)) == Error::ENXIO); // no device drivers yet
    vfs_close(file.value());
}
