// Writes judged by e2fsprogs: every kind of change made through the VFS,
// then `e2fsck -fn` must find the image clean and `debugfs rdump` must
// give back what a model (the same operations on a host directory) holds.
// 1 KiB and 4 KiB blocks; large files; directories indexed by another
// driver; a full filesystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ext2_support.h"
#include "host_model.h"

using namespace ext2_test;

namespace {

CompareOptions rdump_view()
{
    // rdump copies hard links as separate files; new inodes carry the host
    // platform's clock (seconds since an imaginary boot), not the model's.
    CompareOptions options;
    options.links = false;
    options.times = false;
    options.mode_mask = 0170777;
    return options;
}

void expect_clean(const Image& image)
{
    std::string report;
    int status = image.fsck(&report);
    INFO(report);
    REQUIRE(status == 0);
}

// rdump of the image equals the model (devices and fifos, which rdump
// skips, are left out of both).
void expect_rdump_equals(const Image& image, const std::string& model)
{
    std::string out = make_temp_dir();
    image.rdump(out);
    Tree expected = without_specials(scan_host(model));
    Tree actual = without_specials(scan_host(out));
    CHECK(compare(expected, actual, rdump_view()) == "");
    remove_tree(out);
}

std::string stat_of(const Image& image, const std::string& path) { return image.debugfs("stat " + path); }

void every_kind_of_change(uint32_t block_size)
{
    std::string tree = make_temp_dir();
    make_small_tree(tree);
    std::string model = make_temp_dir();
    copy_tree(tree, model);
    Image image(64ull << 20, "-b " + std::to_string(block_size), tree);
    Model host(model);
    {
        Mounted mounted(image);
        REQUIRE(mounted.mount().is_ok());
        Both both(mounted, host);
        both.write("new-small", 0, pattern(10, 1));
        both.write("new-13k", 0, pattern(13 * 1024 + 5, 2));
        both.write("new-300k", 0, pattern(300 * 1024 + 7, 3)); // indirect blocks
        both.write("sparse", 70ull << 20, pattern(5000, 4));   // double indirect (1 KiB), holes before
        both.write("sparse", 4096, pattern(100, 5));
        both.mkdir("a");
        both.mkdir("a/b");
        both.mkdir("a/b/c");
        both.write("a/b/c/deep", 0, "deep\n");
        both.mkdir("gone");
        both.rmdir("gone");
        both.symlink("a/b/c/deep", "fast");
        both.symlink(std::string(block_size - 1, 's'), "slow");
        both.link("new-small", "a/hard");
        both.chmod("new-13k", 04751);
        both.truncate("new-300k", 5000);
        both.truncate("new-13k", 40000); // grows with a hole
        both.rename("a/b", "moved");     // a directory changes parent: ".." and the link counts
        both.write("victim", 0, "to be replaced");
        both.rename("new-small", "victim"); // over an existing name
        both.unlink("a/hard");
        both.unlink("dir/file-3");
        both.write("dir/file-4", 100, pattern(3000, 6)); // into the middle, extending
        REQUIRE(vfs_mknod(mounted.ctx, "/mnt/null", KEEL_S_IFCHR | 0666, 1u << 20 | 3).is_ok());
        REQUIRE(vfs_mknod(mounted.ctx, "/mnt/big-device", KEEL_S_IFBLK | 0600, 300u << 20 | 70000).is_ok());
        REQUIRE(vfs_mknod(mounted.ctx, "/mnt/fifo", KEEL_S_IFIFO | 0640, 0).is_ok());
        keel_vfs_attr attr {};
        attr.uid = 70000;
        attr.gid = 80000;
        attr.mtime_ns = 1234567890ull * 1000000000ull;
        REQUIRE(vfs_setattr(
            mounted.ctx, "/mnt/moved/c/deep", attr, KEEL_VFS_ATTR_UID | KEEL_VFS_ATTR_GID | KEEL_VFS_ATTR_MTIME)
                    .is_ok());
        REQUIRE(lchown((model + "/moved/c/deep").c_str(), 70000, 80000) == 0);
        auto stats = mounted.statfs();
        REQUIRE(stats.is_ok());
        REQUIRE(mounted.unmount().is_ok());
        expect_clean(image);
        expect_rdump_equals(image, model);
        std::string device = stat_of(image, "/null");
        CHECK(device.find("Type: character special") != std::string::npos);
        CHECK(device.find("Device major/minor number: 01:03") != std::string::npos);
        std::string big = stat_of(image, "/big-device");
        CHECK(big.find("Type: block special") != std::string::npos);
        CHECK(big.find("Device major/minor number: 300:70000") != std::string::npos);
        CHECK(stat_of(image, "/fifo").find("Type: FIFO") != std::string::npos);
        CHECK(stat_of(image, "/new-13k").find("Mode:  04751") != std::string::npos);
        std::string deep = stat_of(image, "/moved/c/deep");
        CHECK(deep.find("User: 70000   Group: 80000") != std::string::npos);
        CHECK(deep.find("mtime: 0x499602d2") != std::string::npos);
        // The counts statfs gave are the ones on the disk.
        std::string super = image.debugfs("stats");
        CHECK(super.find("Free blocks:              " + std::to_string(stats.value().blocks_free) + "\n")
            != std::string::npos);
        CHECK(super.find("Free inodes:              " + std::to_string(stats.value().files_free) + "\n")
            != std::string::npos);
        CHECK(super.find("Filesystem state:         clean\n") != std::string::npos);
        // And it mounts again, reading the same.
        REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
        CHECK(mounted.read("/mnt/moved/c/deep") == "deep\n");
        CHECK(mounted.read("/mnt/victim") == pattern(10, 1));
    }
    remove_tree(tree);
    remove_tree(model);
}

} // namespace

TEST_CASE("every kind of change, 1 KiB blocks") { every_kind_of_change(1024); }
TEST_CASE("every kind of change, 4 KiB blocks") { every_kind_of_change(4096); }

TEST_CASE("random operation sequences on the image and on a model")
{
    for (uint32_t block_size : { 1024u, 4096u }) {
        std::string tree = make_temp_dir();
        make_small_tree(tree);
        std::string model = make_temp_dir();
        copy_tree(tree, model);
        Image image(48ull << 20, "-b " + std::to_string(block_size), tree);
        Model host(model);
        for (uint32_t sequence = 0; sequence < 4; sequence++) {
            INFO("block size " << block_size << ", sequence " << sequence);
            {
                Mounted mounted(image);
                REQUIRE(mounted.mount().is_ok());
                Both both(mounted, host);
                random_operations(both, block_size * 131 + sequence, 150);
                REQUIRE(mounted.unmount().is_ok());
            }
            expect_clean(image);
            expect_rdump_equals(image, model);
        }
        remove_tree(tree);
        remove_tree(model);
    }
}

TEST_CASE("a file past 4 GiB (large_file), and revision 0's 2 GiB limit")
{
    {
        Image image(16ull << 20, "-b 1024");
        Mounted mounted(image);
        REQUIRE(mounted.mount().is_ok());
        REQUIRE(mounted.write("/mnt/huge", "past four", (9ull << 29)).is_ok());
        auto stat = vfs_stat(mounted.ctx, "/mnt/huge");
        REQUIRE(stat.is_ok());
        CHECK(stat.value().attr.size == (9ull << 29) + 9);
        REQUIRE(mounted.unmount().is_ok());
        expect_clean(image);
        CHECK(stat_of(image, "/huge").find("Size: " + std::to_string((9ull << 29) + 9)) != std::string::npos);
        REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
        auto file = vfs_open(mounted.ctx, "/mnt/huge", kOpenReadOnly, 0);
        REQUIRE(file.is_ok());
        char data[16] = {};
        auto got = vfs_pread(*file.value(), (9ull << 29) - 2, data, sizeof(data));
        REQUIRE(got.is_ok());
        CHECK(std::string(data, got.value()) == std::string("\0\0past four", 11));
        vfs_close(file.value());
    }
    {
        Image image(8ull << 20, "-b 1024 -r 0");
        Mounted mounted(image);
        REQUIRE(mounted.mount().is_ok());
        auto result = mounted.write("/mnt/big", "x", 3ull << 30);
        REQUIRE(result.is_error());
        CHECK(result.error() == Error::EFBIG);
        REQUIRE(mounted.write("/mnt/fits", "y", (2ull << 30) - 2).is_ok());
        REQUIRE(mounted.unmount().is_ok());
        expect_clean(image);
    }
}

TEST_CASE("a directory indexed by another driver is read, changed, and left linear")
{
    std::string tree = make_temp_dir();
    REQUIRE(mkdir((tree + "/many").c_str(), 0755) == 0);
    for (int i = 0; i < 400; i++)
        REQUIRE(close(open((tree + "/many/name-" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY, 0644)) == 0);
    Image image(16ull << 20, "-b 1024 -O dir_index", tree);
    int status;
    run("e2fsck -fyD '" + image.path + "'", &status); // builds the index
    REQUIRE(status <= 1);
    REQUIRE(stat_of(image, "/many").find("Flags: 0x1000") != std::string::npos);
    {
        Mounted mounted(image);
        REQUIRE(mounted.mount().is_ok());
        CHECK(mounted.list("/mnt/many").size() == 402);
        REQUIRE(mounted.write("/mnt/many/added", "new").is_ok());
        REQUIRE(vfs_unlink(mounted.ctx, "/mnt/many/name-7").is_ok());
        REQUIRE(mounted.unmount().is_ok());
    }
    expect_clean(image);
    CHECK(stat_of(image, "/many").find("Flags: 0x0") != std::string::npos);
    CHECK(image.debugfs("ls -l /many").find("added") != std::string::npos);
    remove_tree(tree);
}

TEST_CASE("a full filesystem: ENOSPC for blocks and inodes, and consistent counts after")
{
    for (uint32_t block_size : { 1024u, 4096u }) {
        Image image(block_size == 1024 ? (3ull << 20) : (8ull << 20), "-b " + std::to_string(block_size) + " -N 64");
        Mounted mounted(image);
        REQUIRE(mounted.mount().is_ok());
        // Blocks: one file grows until the disk is full.
        std::string chunk = pattern(50000, 9);
        uint64_t offset = 0;
        for (;;) {
            auto result = mounted.write("/mnt/filler", chunk, offset);
            if (result.is_error()) {
                CHECK(result.error() == Error::ENOSPC);
                break;
            }
            offset += chunk.size();
            REQUIRE(offset < (64ull << 20));
        }
        auto full = mounted.statfs();
        REQUIRE(full.is_ok());
        CHECK(full.value().blocks_free == 0);
        auto result = vfs_mkdir(mounted.ctx, "/mnt/no-room", 0755);
        CHECK((result.is_error() && result.error() == Error::ENOSPC));
        REQUIRE(mounted.unmount().is_ok());
        expect_clean(image);
        // Inodes: names until none is left (the blocks freed first).
        REQUIRE(mounted.mount().is_ok());
        REQUIRE(vfs_truncate(mounted.ctx, "/mnt/filler", block_size * 3).is_ok());
        int created = 0;
        for (;; created++) {
            auto made = mounted.write("/mnt/f" + std::to_string(created), "");
            if (made.is_error()) {
                CHECK(made.error() == Error::ENOSPC);
                break;
            }
            REQUIRE(created < 100);
        }
        CHECK(created == 64 - 12); // 11 reserved inodes and the filler
        REQUIRE(vfs_unlink(mounted.ctx, "/mnt/f3").is_ok());
        REQUIRE(mounted.write("/mnt/again", "x").is_ok());
        REQUIRE(mounted.unmount().is_ok());
        expect_clean(image);
    }
}
