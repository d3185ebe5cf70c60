// Images made by mke2fs -d from generated trees, read back through the
// VFS: every name, byte and attribute matches the tree. 1 KiB, 2 KiB and
// 4 KiB blocks, revision 0 and 1, with and without the filetype feature,
// sectors up to the block size.
#include "ext2_support.h"

#include "bcache/bcache.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ext2_test;

namespace {

void check_image(const std::string& options, uint32_t block_size, size_t wide, uint32_t sector_size = 512)
{
    std::string tree = make_temp_dir();
    make_sample_tree(tree, wide, 40, block_size);
    {
        Image image(96ull << 20, options, tree);
        Tree expected = scan_host(tree);
        Mounted mounted(image, sector_size);
        REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
        Tree actual = mounted.scan();
        INFO(options);
        CHECK(compare(expected, actual) == "");
        CHECK(actual.size() == expected.size());
        // The sparse file past 4 GiB, where its data is (the rest are holes).
        auto file = vfs_open(mounted.ctx, "/mnt/sparse", kOpenReadOnly, 0);
        REQUIRE(file.is_ok());
        char tail[16] = {};
        auto got = vfs_pread(*file.value(), (5ull << 30) - 12, tail, sizeof(tail));
        REQUIRE(got.is_ok());
        CHECK(got.value() == 9); // the file ends after "the end"
        CHECK(std::string(tail, 9) == std::string("\0\0the end", 9));
        std::string middle(9000, '\0');
        REQUIRE(vfs_pread(*file.value(), 70ull << 20, middle.data(), middle.size()).is_ok());
        CHECK(middle == pattern(9000, 13));
        vfs_close(file.value());
        auto stats = mounted.statfs();
        REQUIRE(stats.is_ok());
        CHECK(stats.value().magic == 0xef53);
        CHECK(stats.value().block_size == block_size);
        CHECK(stats.value().name_max == 255);
        CHECK(stats.value().files_free < stats.value().files);
        CHECK(stats.value().blocks_free < stats.value().blocks);
    }
    remove_tree(tree);
}

} // namespace

TEST_CASE("1 KiB blocks, revision 1 (mke2fs's defaults: sparse_super, large_file, filetype, dir_index, resize_inode)")
{
    check_image("-b 1024", 1024, 2500);
}

TEST_CASE("4 KiB blocks, 4 KiB sectors") { check_image("-b 4096", 4096, 2500, 4096); }

TEST_CASE("2 KiB blocks, 128-byte inodes, no filetype in directory entries")
{
    check_image("-b 2048 -I 128 -O ^filetype", 2048, 300);
}

TEST_CASE("revision 0")
{
    // Revision 0 has no features: no large files, so no 5 GiB sparse file.
    std::string tree = make_temp_dir();
    make_sample_tree(tree, 200, 10, 1024);
    REQUIRE(unlink((tree + "/sparse").c_str()) == 0);
    {
        Image image(32ull << 20, "-b 1024 -r 0", tree);
        Tree expected = scan_host(tree);
        Mounted mounted(image);
        REQUIRE(mounted.mount().is_ok());
        CHECK(compare(expected, mounted.scan()) == "");
    }
    remove_tree(tree);
}

TEST_CASE("a directory of thousands of names is listed in order of the blocks, and resumed")
{
    std::string tree = make_temp_dir();
    make_sample_tree(tree, 3000, 1, 4096);
    {
        Image image(64ull << 20, "-b 4096", tree);
        Mounted mounted(image);
        REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
        // One entry per readdir call: the cookie resumes in the middle of blocks.
        auto file = vfs_open(mounted.ctx, "/mnt/wide", kOpenReadOnly | kOpenDirectory, 0);
        REQUIRE(file.is_ok());
        std::vector<std::string> names;
        for (;;) {
            size_t before = names.size();
            auto one = [](void* context, const char* name, size_t length, uint64_t, uint32_t) {
                auto* list = static_cast<std::vector<std::string>*>(context);
                if (list->size() > 0 && list->back() == "") {
                    list->pop_back();
                    return 1;
                }
                list->emplace_back(name, length);
                list->emplace_back("");
                return 0;
            };
            REQUIRE(vfs_readdir(*file.value(), one, &names).is_ok());
            if (!names.empty() && names.back() == "")
                names.pop_back();
            if (names.size() == before)
                break;
        }
        vfs_close(file.value());
        std::sort(names.begin(), names.end());
        CHECK(names.size() == 3003); // . .. 3000 files and hard-b
        CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
    }
    remove_tree(tree);
}

TEST_CASE("thousands of inodes in use at once: a second name finds its inode's node, and all go at unmount")
{
    // Every file of a/ has a second name in b/: looking b/ up after a/
    // finds each node already in use (in a table grown far past its
    // first size), not a second copy of it.
    constexpr int kFiles = 2000;
    std::string tree = make_temp_dir();
    REQUIRE(mkdir((tree + "/a").c_str(), 0755) == 0);
    REQUIRE(mkdir((tree + "/b").c_str(), 0755) == 0);
    for (int i = 0; i < kFiles; i++) {
        std::string name = "/f" + std::to_string(i);
        FILE* file = fopen((tree + "/a" + name).c_str(), "w");
        REQUIRE(file);
        fputs(name.c_str(), file);
        fclose(file);
        REQUIRE(link((tree + "/a" + name).c_str(), (tree + "/b" + name).c_str()) == 0);
    }
    {
        Image image(32ull << 20, "-b 1024", tree);
        Mounted mounted(image);
        REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
        uint64_t before = ext2_nodes_in_use();
        std::vector<uint64_t> inodes;
        for (int i = 0; i < kFiles; i++) {
            auto stat = vfs_stat(mounted.ctx, ("/mnt/a/f" + std::to_string(i)).c_str(), false);
            REQUIRE(stat.is_ok());
            inodes.push_back(stat.value().attr.ino);
        }
        CHECK(ext2_nodes_in_use() == before + kFiles + 1);
        for (int i = 0; i < kFiles; i++) {
            auto stat = vfs_stat(mounted.ctx, ("/mnt/b/f" + std::to_string(i)).c_str(), false);
            REQUIRE(stat.is_ok());
            CHECK(stat.value().attr.ino == inodes[i]);
            CHECK(stat.value().attr.nlink == 2);
        }
        CHECK(ext2_nodes_in_use() == before + kFiles + 2); // only b/ is new
        CHECK(mounted.read("/mnt/b/f1234") == "/f1234");
        // The destructor unmounts and checks that no node is left.
    }
    remove_tree(tree);
}

TEST_CASE("a sequential reader has its next read on the way; one that jumps gets only the blocks it asked for")
{
    // 1 MiB reads of an 8 MiB file, 4 KiB blocks (256 a read), counted by
    // the cache's read-ahead counter (blocks started without a wait).
    constexpr size_t kRead = 1 << 20;
    std::string tree = make_temp_dir();
    std::string expected = pattern(8 * kRead, 5);
    {
        FILE* file = fopen((tree + "/big").c_str(), "w");
        REQUIRE(file);
        REQUIRE(fwrite(expected.data(), 1, expected.size(), file) == expected.size());
        fclose(file);
    }
    {
        Image image(32ull << 20, "-b 4096", tree);
        Mounted mounted(image);
        REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
        auto file = vfs_open(mounted.ctx, "/mnt/big", kOpenReadOnly, 0);
        REQUIRE(file.is_ok());
        std::string data(kRead, '\0');
        auto started_by = [&](uint64_t offset) {
            uint64_t before = keel::bcache_stats().readahead;
            auto got = vfs_pread(*file.value(), offset, data.data(), data.size());
            REQUIRE(got.is_ok());
            CHECK(got.value() == kRead);
            CHECK(data == expected.substr(offset, kRead));
            return keel::bcache_stats().readahead - before;
        };
        // From the start: its own blocks and the next read's.
        CHECK(started_by(0) == 256 + 256);
        // Reading on: the read after it.
        CHECK(started_by(kRead) == 256);
        CHECK(started_by(2 * kRead) == 256);
        // A jump: its own blocks only, none past them.
        CHECK(started_by(5 * kRead) == 256);
        // Reading on from there: its own and the next read's again; the
        // next read, the file's last, then has nothing left to start.
        CHECK(started_by(6 * kRead) == 256 + 256);
        CHECK(started_by(7 * kRead) == 0);
        vfs_close(file.value());
    }
    remove_tree(tree);
}
