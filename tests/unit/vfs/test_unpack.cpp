// The initramfs unpacker: every file type, hard links with data in the
// last link, concatenated archives, checksums, and malformed archives
// reported precisely, with what came before kept.
#include "../cpio/newc_writer.h"
#include "fixture.h"
#include "vfs/unpack.h"

using namespace vfs_test;
using cpio_test::TestEntry;

namespace {

struct Unpacked {
    Result<void> result = Result<void>();
    UnpackReport report {};
    std::string message;
    std::vector<std::string> skipped;
};

Unpacked unpack(Fixture& f, const std::string& archive, const char* destination = "/")
{
    Unpacked out;
    UnpackOptions options;
    options.skip = [](void* context, const char* message) {
        static_cast<std::vector<std::string>*>(context)->push_back(message);
    };
    options.skip_context = &out.skipped;
    keel::Diagnostic diagnostic;
    char* const message = diagnostic.message;
    auto result = unpack_cpio(f.ctx, destination, archive.data(), archive.size(), options, out.report, diagnostic);
    out.result = result.is_ok() ? Result<void>() : Result<void>(result.error());
    out.message = message;
    return out;
}

TestEntry entry(const char* name, uint32_t mode, std::string data = "", uint32_t ino = 1)
{
    TestEntry e;
    e.name = name;
    e.mode = mode;
    e.data = data;
    e.ino = ino;
    return e;
}

} // namespace

TEST_CASE("unpack: every type, attributes and hard links")
{
    Fixture f;
    TestEntry link1 = entry("bin/sh", 0100755, "", 7);
    link1.nlink = 2;
    TestEntry link2 = entry("bin/busybox", 0100755, "#!binary", 7);
    link2.nlink = 2;
    TestEntry owned = entry("etc/owned", 0100600, "secret", 8);
    owned.uid = 1000;
    owned.gid = 50;
    owned.mtime = 1700000000;
    TestEntry device = entry("dev/console", 0020600, "", 9);
    device.rdev_major = 5;
    device.rdev_minor = 1;
    std::string archive = cpio_test::build({ entry(".", 040755, "", 2), entry("bin", 040755, "", 3),
        entry("etc", 040755, "", 4), entry("dev", 040755, "", 5), link1, link2, owned, device,
        entry("etc/name", 0120777, "owned", 10), entry("run", 040700, "", 11), entry("run/fifo", 010644, "", 12) });
    auto out = unpack(f, archive);
    REQUIRE(out.result.is_ok());
    CHECK(out.report.files == 2);
    CHECK(out.report.hard_links == 1);
    CHECK(out.report.directories == 5);
    CHECK(out.report.symlinks == 1);
    CHECK(out.report.special == 2);
    CHECK(out.skipped.empty());
    CHECK(f.read("/bin/sh") == "#!binary");
    CHECK(vfs_stat(f.ctx, "/bin/sh", true).value().attr.nlink == 2);
    auto stat = vfs_stat(f.ctx, "/etc/owned", true).value().attr;
    CHECK(stat.uid == 1000);
    CHECK(stat.gid == 50);
    CHECK((stat.mode & 07777) == 0600);
    CHECK(stat.mtime_ns == 1700000000ull * 1000000000ull);
    CHECK(f.read("/etc/name") == "secret");
    CHECK(vfs_stat(f.ctx, "/dev/console", true).value().attr.rdev == ((5u << 20) | 1));
    CHECK((vfs_stat(f.ctx, "/run", true).value().attr.mode & 07777) == 0700);
}

TEST_CASE("unpack: concatenated archives override, CRC archives verify")
{
    Fixture f;
    TestEntry crc = entry("file", 0100644, "second");
    crc.with_checksum = true;
    std::string archive = cpio_test::build({ entry("file", 0100644, "first"), entry("dir", 040755) });
    archive += std::string(512, '\0');
    archive += cpio_test::build({ crc });
    auto out = unpack(f, archive);
    REQUIRE(out.result.is_ok());
    CHECK(out.report.archives == 2);
    CHECK(f.read("/file") == "second");

    TestEntry bad = entry("bad", 0100644, "data");
    bad.with_checksum = true;
    bad.check = 1;
    out = unpack(f, cpio_test::build({ entry("good", 0100644, "ok"), bad }));
    CHECK(err(out.result) == Error::EBADMSG);
    CHECK(out.message.find("entry 2 (\"bad\")") != std::string::npos);
    CHECK(out.message.find("checksum mismatch") != std::string::npos);
    CHECK(f.read("/good") == "ok");
}

TEST_CASE("unpack: malformed archives are reported with the entry and the field")
{
    Fixture f;
    // Bad magic in the middle.
    TestEntry broken = entry("second", 0100644, "x");
    broken.magic = "07070X";
    auto out = unpack(f, cpio_test::build({ entry("first", 0100644, "1"), broken }));
    CHECK(err(out.result) == Error::EINVAL);
    CHECK(out.message.find("entry 2") != std::string::npos);
    CHECK(out.message.find("bad magic") != std::string::npos);
    CHECK(f.read("/first") == "1");

    // Truncated.
    std::string archive = cpio_test::build({ entry("whole", 0100644, std::string(100, 'w')) });
    out = unpack(f, archive.substr(0, 150));
    CHECK(err(out.result) == Error::EINVAL);
    CHECK(out.message.find("entry 1 (\"whole\")") != std::string::npos);

    // An entry the VFS refuses is skipped and named; the rest goes on.
    out = unpack(f, cpio_test::build({ entry("no/such/dir/file", 0100644, "x"), entry("after", 0100644, "a") }));
    REQUIRE(out.result.is_ok());
    REQUIRE(out.skipped.size() == 1);
    CHECK(out.skipped[0] == "entry 1 (\"no/such/dir/file\"): cannot write file: ENOENT");
    CHECK(f.read("/after") == "a");
}

TEST_CASE("unpack: into a subdirectory, and out of memory at every step")
{
    Fixture f;
    REQUIRE(vfs_mkdir(f.ctx, "/initramfs", 0755).is_ok());
    std::string archive = cpio_test::build(
        { entry("d", 040755, "", 2), entry("d/f", 0100644, "content", 3), entry("d/l", 0120777, "f", 4) });
    auto out = unpack(f, archive, "/initramfs/");
    REQUIRE(out.result.is_ok());
    CHECK(f.read("/initramfs/d/l") == "content");
    // Every allocation failing in turn: errors, never leaks or crashes.
    for (long budget = 0; budget < 60; budget++) {
        host_platform_stats().fail_allocations_after = budget;
        UnpackReport report {};
        UnpackOptions options;
        keel::Diagnostic diagnostic;
        (void)unpack_cpio(f.ctx, "/initramfs", archive.data(), archive.size(), options, report, diagnostic);
        host_platform_stats().fail_allocations_after = -1;
    }
    CHECK(f.read("/initramfs/d/f") == "content");
}

TEST_CASE("unpack: every entry keeps the archive's mtime, directories too")
{
    Fixture f;
    auto stamped = [](const char* name, uint32_t mode, uint32_t mtime, std::string data = "", uint32_t ino = 1) {
        TestEntry e = entry(name, mode, data, ino);
        e.mtime = mtime;
        e.uid = 7;
        e.gid = 8;
        return e;
    };
    TestEntry first_link = stamped("d/sub/hard1", 0100644, 1500000005, "", 20);
    first_link.nlink = 2;
    TestEntry last_link = stamped("d/sub/hard2", 0100644, 1500000006, "shared", 20);
    last_link.nlink = 2;
    // Directories come before their contents, which would change their
    // mtime if it were set at creation only.
    std::string archive = cpio_test::build({ stamped("d", 040755, 1500000001, "", 2),
        stamped("d/sub", 040700, 1500000002, "", 3), stamped("d/sub/file", 0100644, 1500000003, "data", 4),
        stamped("d/link", 0120777, 1500000004, "sub/file", 5), first_link, last_link,
        stamped("d/fifo", 010644, 1500000007, "", 6) });
    auto out = unpack(f, archive);
    REQUIRE(out.result.is_ok());
    REQUIRE(out.skipped.empty());
    auto mtime_of = [&](const char* path) {
        auto stat = vfs_stat(f.ctx, path, false);
        REQUIRE(stat.is_ok());
        return stat.value().attr.mtime_ns / 1000000000ull;
    };
    CHECK(mtime_of("/d") == 1500000001);
    CHECK(mtime_of("/d/sub") == 1500000002);
    CHECK(mtime_of("/d/sub/file") == 1500000003);
    CHECK(mtime_of("/d/link") == 1500000004);      // the link itself, not its target
    CHECK(mtime_of("/d/sub/hard1") == 1500000006); // one inode: the last link's entry wins
    CHECK(mtime_of("/d/fifo") == 1500000007);
    auto link = vfs_stat(f.ctx, "/d/link", false).value().attr;
    CHECK(link.uid == 7);
    CHECK(link.gid == 8);
    CHECK((link.mode & 0777) == 0777);

    // A malformed entry stops the unpacking; what came before keeps its times.
    TestEntry broken = entry("e/broken", 0100644, "x");
    broken.magic = "07070X";
    out = unpack(
        f, cpio_test::build({ stamped("e", 040755, 1600000000, "", 2), stamped("e/f", 0100644, 1, "x", 3), broken }));
    CHECK(err(out.result) == Error::EINVAL);
    CHECK(mtime_of("/e") == 1600000000);
}

TEST_CASE("unpack: a file that does not fit leaves no partial copy")
{
    // A 36 MB file that met ENOMEM after 28 MB used to stay in the tree,
    // cut short. Here the limit is tmpfs's size= (two pages).
    Fixture f(false, "size=8k");
    std::string big(3 * 4096, 'x');
    TestEntry link1 = entry("first-link", 0100644, "", 7);
    link1.nlink = 2;
    TestEntry link2 = entry("second-link", 0100644, big, 7);
    link2.nlink = 2;
    std::string archive
        = cpio_test::build({ entry("big", 0100644, big, 2), entry("small", 0100644, "fits", 3), link1, link2 });
    auto out = unpack(f, archive);
    REQUIRE(out.result.is_ok());
    REQUIRE(out.skipped.size() == 2);
    CHECK(out.skipped[0] == "entry 1 (\"big\"): cannot write file: ENOSPC");
    CHECK(out.skipped[1] == "entry 4 (\"second-link\"): cannot write: ENOSPC");
    CHECK(vfs_stat(f.ctx, "/big", false).error() == Error::ENOENT);
    CHECK(f.read("/small") == "fits");
    // The link whose data did not fit is gone; the earlier name keeps the
    // size it had (0), with one link.
    CHECK(vfs_stat(f.ctx, "/second-link", false).error() == Error::ENOENT);
    auto first = vfs_stat(f.ctx, "/first-link", false);
    REQUIRE(first.is_ok());
    CHECK(first.value().attr.size == 0);
    CHECK(first.value().attr.nlink == 1);
    CHECK(out.report.files == 2); // "small" and "first-link"
    CHECK(out.report.hard_links == 0);
}
