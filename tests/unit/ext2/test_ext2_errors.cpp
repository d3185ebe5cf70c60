// What the disk says is input: features the driver does not know, a
// filesystem left unclean or with errors, corrupt structures made by
// debugfs -w or byte edits. Each is refused, mounted read-only or fails
// one operation with a message naming the inode and the field; errors=
// decides what happens next; nothing leaks (Mounted checks).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ext2_support.h"
#include "host_model.h"

using namespace ext2_test;

namespace {

constexpr uint64_t kSuper = 1024;
constexpr uint64_t kState = kSuper + 58;
constexpr uint64_t kRoCompat = kSuper + 100;

bool logged(const std::string& logs, const std::string& text) { return logs.find(text) != std::string::npos; }

// An image of the small tree with 1 KiB blocks.
struct SmallImage {
    std::string tree = make_temp_dir();
    std::unique_ptr<Image> image;
    explicit SmallImage(const std::string& options = "-b 1024")
    {
        make_small_tree(tree);
        image = std::make_unique<Image>(16ull << 20, options, tree);
    }
    ~SmallImage() { remove_tree(tree); }
    void set_u16(uint64_t offset, uint16_t value) const { image->patch(offset, &value, sizeof(value)); }
    void or_u32(uint64_t offset, uint32_t bits) const
    {
        uint32_t value;
        memcpy(&value, image->bytes(offset, 4).data(), 4);
        value |= bits;
        image->patch(offset, &value, sizeof(value));
    }
    void debugfs_write(const std::string& request) const
    {
        std::string output = image->debugfs(request, true);
        INFO(output);
        REQUIRE(output.find("rror") == std::string::npos);
    }
    uint64_t block_of(const std::string& path, uint32_t block_size = 1024) const
    {
        std::string output = image->debugfs("bmap " + path + " 0");
        return std::stoull(output.substr(output.rfind('\n', output.size() - 2) + 1)) * block_size;
    }
    uint32_t ino_of(const std::string& path) const
    {
        std::string stat = image->debugfs("stat " + path);
        INFO(stat);
        REQUIRE(stat.find("Inode: ") != std::string::npos);
        return uint32_t(std::stoul(stat.substr(stat.find("Inode: ") + 7)));
    }
    // Gives the entry `from` in the first block of `directory` the name
    // `to` (of the same length), whatever else the directory holds.
    void rename_entry(const std::string& directory, const std::string& from, const std::string& to) const
    {
        REQUIRE(from.size() == to.size());
        uint64_t block = block_of(directory);
        std::vector<uint8_t> data = image->bytes(block, 1024);
        for (size_t offset = 0; offset + 8 <= data.size();) {
            uint16_t rec_len = uint16_t(data[offset + 4] | data[offset + 5] << 8);
            REQUIRE(rec_len >= 8);
            if (data[offset + 6] == from.size() && memcmp(&data[offset + 8], from.data(), from.size()) == 0) {
                image->patch(block + offset + 8, to.data(), to.size());
                return;
            }
            offset += rec_len;
        }
        FAIL("no entry " << from << " in " << directory);
    }
    uint64_t free_blocks() const
    {
        std::string stats = image->debugfs("stats");
        return std::stoull(stats.substr(stats.find("Free blocks:") + 12));
    }
};

template<typename T> Error code_of(const Result<T>& result) { return result.is_ok() ? Error(0) : result.error(); }

} // namespace

TEST_CASE("ext4's incompatible features are refused, each one named")
{
    Image image(16ull << 20, "-t ext4 -O ^has_journal");
    Mounted mounted(image);
    CHECK(code_of(mounted.mount(nullptr, kMountReadOnly)) == Error::EINVAL);
    std::string logs = host_take_logs();
    INFO(logs);
    CHECK(logged(logs, "unsupported incompatible features: extent, 64bit, flex_bg; not mounted"));
}

TEST_CASE("an unknown read-only-compatible feature mounts read-only, named")
{
    SmallImage small;
    small.or_u32(kRoCompat, 0x80000000u);
    Mounted mounted(*small.image);
    REQUIRE(mounted.mount().is_ok());
    std::string logs = host_take_logs();
    INFO(logs);
    CHECK(logged(logs, "unsupported read-only-compatible features: unknown 0x80000000; read-only"));
    CHECK(logged(logs, "mounted read-only"));
    CHECK(code_of(mounted.write("/mnt/new", "x")) == Error::EROFS);
    CHECK(mounted.read("/mnt/dir/sub/inner") == "inner\n");
    CHECK(code_of(mounted.remount(nullptr, 0)) == Error::EROFS);
}

TEST_CASE("a filesystem not cleanly unmounted mounts with a warning, and keeps its state")
{
    SmallImage small;
    small.set_u16(kState, 0);
    Mounted mounted(*small.image);
    REQUIRE(mounted.mount().is_ok());
    CHECK(logged(host_take_logs(), "was not cleanly unmounted; running e2fsck is recommended"));
    REQUIRE(mounted.write("/mnt/new", "x").is_ok());
    REQUIRE(mounted.unmount().is_ok());
    CHECK(small.image->debugfs("stats").find("Filesystem state:         not clean\n") != std::string::npos);
}

TEST_CASE("a filesystem with errors: a warning, and read-only unless errors=continue")
{
    SmallImage small;
    small.set_u16(kState, 3); // valid, with errors
    Mounted mounted(*small.image);
    // mke2fs's s_errors is "continue": writable, with a warning.
    REQUIRE(mounted.mount().is_ok());
    CHECK(logged(host_take_logs(), "has errors; running e2fsck is recommended"));
    REQUIRE(mounted.write("/mnt/new", "x").is_ok());
    REQUIRE(mounted.unmount().is_ok());
    REQUIRE(mounted.mount("errors=remount-ro").is_ok());
    std::string logs = host_take_logs();
    INFO(logs);
    CHECK(logged(logs, "has errors; read-only until e2fsck repairs it (errors=remount-ro)"));
    CHECK(code_of(mounted.write("/mnt/other", "x")) == Error::EROFS);
    REQUIRE(mounted.unmount().is_ok());
    CHECK(small.image->debugfs("stats").find("Filesystem state:         clean with errors\n") != std::string::npos);
}

TEST_CASE("mount options: bad ones refused, sb= reads a backup superblock")
{
    SmallImage small;
    Mounted mounted(*small.image);
    CHECK(code_of(mounted.mount("errors=sometimes")) == Error::EINVAL);
    CHECK(logged(host_take_logs(), "bad value 'sometimes' for mount option 'errors'"));
    CHECK(code_of(mounted.mount("colour=blue")) == Error::EINVAL);
    CHECK(logged(host_take_logs(), "unknown mount option 'colour=blue'"));
    CHECK(code_of(mounted.mount("sb=x")) == Error::EINVAL);
    // The primary superblock gone: only sb= finds the filesystem.
    uint8_t zero[2] = {};
    small.image->patch(kSuper + 56, zero, sizeof(zero));
    CHECK(code_of(mounted.mount(nullptr, kMountReadOnly)) == Error::EINVAL);
    CHECK(logged(host_take_logs(), "no ext2 filesystem (magic 0x0000, not 0xef53)"));
    REQUIRE(mounted.mount("sb=8193", kMountReadOnly).is_ok());
    CHECK(mounted.read("/mnt/dir/sub/inner") == "inner\n");
    CHECK(code_of(mounted.remount("sb=1", kMountReadOnly)) == Error::EINVAL);
}

TEST_CASE("a read-only device mounts only read-only")
{
    SmallImage small;
    Mounted mounted(*small.image, 512, true);
    CHECK(code_of(mounted.mount()) == Error::EROFS);
    CHECK(logged(host_take_logs(), "is read-only; mount it read-only"));
    REQUIRE(mounted.mount(nullptr, kMountReadOnly).is_ok());
    CHECK(code_of(mounted.remount(nullptr, 0)) == Error::EROFS);
}

TEST_CASE("a corrupt directory entry: EUCLEAN naming the inode and field; errors= decides the rest")
{
    SmallImage small;
    // The third entry of /dir's first block (after "." and "..") gets a
    // rec_len that is not a multiple of 4.
    small.set_u16(small.block_of("/dir") + 24 + 4, 3);
    std::string stat = small.image->debugfs("stat /dir");
    std::string ino = std::to_string(std::stoul(stat.substr(stat.find("Inode: ") + 7)));
    {
        Mounted mounted(*small.image);
        REQUIRE(mounted.mount("errors=continue").is_ok());
        auto opened = vfs_open(mounted.ctx, "/mnt/dir/file-1", kOpenReadOnly, 0);
        CHECK(code_of(opened) == Error::EUCLEAN);
        std::string logs = host_take_logs();
        INFO(logs);
        CHECK(logged(logs, "inode " + ino + ": directory block 0: entry at offset 24: rec_len 3"));
        REQUIRE(mounted.write("/mnt/still-writable", "yes").is_ok());
        REQUIRE(mounted.unmount().is_ok());
        CHECK(small.image->debugfs("stats").find("clean with errors") != std::string::npos);
    }
    small.set_u16(kState, 1); // clean again, for the next mount
    {
        Mounted mounted(*small.image);
        REQUIRE(mounted.mount().is_ok()); // mke2fs's s_errors: continue
        REQUIRE(mounted.remount("errors=remount-ro", 0).is_ok());
        CHECK(mounted.list("/mnt").size() > 0);
        CHECK(code_of(vfs_stat(mounted.ctx, "/mnt/dir/file-1")) == Error::EUCLEAN);
        CHECK(logged(host_take_logs(), "remounting read-only (errors=remount-ro)"));
        CHECK(code_of(mounted.write("/mnt/not-now", "no")) == Error::EROFS);
    }
}

TEST_CASE("errors=panic stops the kernel")
{
    SmallImage small;
    small.set_u16(small.block_of("/dir") + 24 + 4, 3);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        signal(SIGABRT, SIG_DFL); // the test framework's handler would report it as a failure
        {
            Mounted mounted(*small.image);
            if (mounted.mount("errors=panic").is_ok())
                (void)vfs_stat(mounted.ctx, "/mnt/dir/file-1");
        }
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
}

TEST_CASE("corrupt inodes and block maps fail the operation that meets them, naming inode and field")
{
    SmallImage small;
    small.debugfs_write("sif /bigger block[0] 2");          // a group descriptor block
    small.debugfs_write("sif /dir/file-5 mode 0170644");    // no file type
    small.debugfs_write("sif /dir/file-6 links_count 0");   // deleted, still named
    small.debugfs_write("sif /dir/file-7 size 0x7fffffff"); // fine: a sparse tail
    small.debugfs_write("sif /link size 5000");             // a symlink longer than a block
    small.debugfs_write("link /dir /dir/sub/loop");         // a second name for a directory
    std::string report;
    CHECK(small.image->fsck(&report) != 0); // e2fsck agrees these are errors
    Mounted mounted(*small.image);
    REQUIRE(mounted.mount("errors=continue").is_ok());
    host_take_logs();
    Error error;
    mounted.read("/mnt/bigger", &error);
    CHECK(error == Error::EUCLEAN);
    CHECK(logged(host_take_logs(), "logical block 0: a data block pointer 2 is outside the data blocks"));
    CHECK(code_of(vfs_stat(mounted.ctx, "/mnt/dir/file-5")) == Error::EUCLEAN);
    CHECK(logged(host_take_logs(), "i_mode 0170644 has no valid file type"));
    CHECK(vfs_stat(mounted.ctx, "/mnt/dir/file-6").is_error());
    CHECK(logged(host_take_logs(), "i_links_count is 0"));
    CHECK(vfs_stat(mounted.ctx, "/mnt/link", false).is_error());
    CHECK(logged(host_take_logs(), "symlink i_size 5000 is not 1 to 4095"));
    CHECK(vfs_stat(mounted.ctx, "/mnt/dir/sub/loop").is_error());
    CHECK(logged(host_take_logs(), "\"..\" is inode"));
    // The rest of the filesystem works.
    CHECK(mounted.read("/mnt/dir/sub/inner") == "inner\n");
    REQUIRE(mounted.write("/mnt/dir/new", "fine").is_ok());
}

TEST_CASE("a block that is a directory's and a file's: a write through the file makes the next lookup check it again")
{
    // A directory block is checked once and then trusted while it stays
    // unchanged; a bad disk that also gives the block to a file must not
    // let the file's bytes be read as entries unchecked.
    SmallImage small;
    uint64_t dir_block = small.block_of("/dir") / 1024;
    small.debugfs_write("sif /dir/file-3 block[0] " + std::to_string(dir_block));
    Mounted mounted(*small.image);
    REQUIRE(mounted.mount("errors=continue").is_ok());
    host_take_logs();
    REQUIRE(vfs_stat(mounted.ctx, "/mnt/dir/file-1").is_ok()); // the block is checked and remembered
    REQUIRE(vfs_stat(mounted.ctx, "/mnt/dir/file-3").is_ok());
    // The first entry ("."), rewritten through the file: rec_len 3.
    std::string bytes(16, '\0');
    bytes[4] = 3;
    REQUIRE(mounted.write("/mnt/dir/file-3", bytes, 0, false).is_ok());
    CHECK(code_of(vfs_stat(mounted.ctx, "/mnt/dir/file-2")) == Error::EUCLEAN);
    std::string logs = host_take_logs();
    INFO(logs);
    CHECK(logged(logs, "directory block 0: entry at offset 0: rec_len 3"));
}

namespace {

uint64_t number_after(const std::string& text, const std::string& label)
{
    size_t at = text.find(label);
    INFO(text);
    REQUIRE(at != std::string::npos);
    return std::stoull(text.substr(at + label.size()));
}

// debugfs's output (its banner first) ends with `tail`.
bool ends_with(const std::string& text, const std::string& tail)
{
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

} // namespace

TEST_CASE("an inode its bitmap calls free while a file uses it is not given out again")
{
    // A bitmap write lost in a crash: the bit of a live inode is clear and
    // the counts agree with the bitmap.
    for (bool held : { false, true }) {
        INFO("the file open meanwhile: " << held);
        SmallImage small;
        uint32_t live = small.ino_of("/dir/file-4");
        std::string stats = small.image->debugfs("stats");
        REQUIRE(live <= number_after(stats, "Inodes per group:")); // group 0, where a new file in /dir goes
        small.debugfs_write("freei <" + std::to_string(live) + ">");
        stats = small.image->debugfs("stats");
        uint64_t group_free = number_after(stats.substr(stats.find("Group  0:")), "free blocks, ");
        uint64_t total_free = number_after(stats, "Free inodes:");
        small.debugfs_write("set_bg 0 free_inodes_count " + std::to_string(group_free + 1));
        small.debugfs_write("ssv free_inodes_count " + std::to_string(total_free + 1));
        {
            Mounted mounted(*small.image);
            REQUIRE(mounted.mount("errors=continue").is_ok());
            File* file = nullptr;
            if (held) {
                auto opened = vfs_open(mounted.ctx, "/mnt/dir/file-4", kOpenReadOnly, 0);
                REQUIRE(opened.is_ok());
                file = opened.value();
            }
            REQUIRE(mounted.write("/mnt/dir/new", "new").is_ok());
            std::string logs = host_take_logs();
            INFO(logs);
            CHECK(logged(logs, "inode " + std::to_string(live) + ": the inode bitmap calls it free, but it is in use"));
            auto made = vfs_stat(mounted.ctx, "/mnt/dir/new");
            REQUIRE(made.is_ok());
            CHECK(made.value().attr.ino != live);
            if (file)
                vfs_close(file);
            CHECK(mounted.read("/mnt/dir/file-4") == pattern(4 * 700, 4));
            REQUIRE(mounted.unmount().is_ok());
        }
        std::string report;
        CHECK(small.image->fsck(&report) == 0);
        INFO(report);
        CHECK(small.ino_of("/dir/file-4") == live);
        CHECK(ends_with(small.image->debugfs("cat /dir/new"), "new"));
    }
}

namespace {

// /dup holding "a" (inode x), "b" (z) and "a" again (y), in that order:
// three files (or directories) made with other names, the third renamed
// "a" by hand (e2fsck's "duplicate entry").
struct DuplicateNames {
    SmallImage small;
    uint32_t x = 0, y = 0, z = 0;
    explicit DuplicateNames(bool directories)
    {
        small.debugfs_write("mkdir /dup");
        const char* names[][2] = { { "file-1", "a" }, { "file-3", "b" }, { "file-4", "q" } };
        for (auto& [from, to] : names) {
            if (directories) {
                small.debugfs_write(std::string("mkdir /dup/") + to);
                continue;
            }
            uint32_t ino = small.ino_of(std::string("/dir/") + from);
            small.debugfs_write(std::string("unlink /dir/") + from);
            small.debugfs_write("link <" + std::to_string(ino) + "> /dup/" + to);
        }
        x = small.ino_of("/dup/a");
        z = small.ino_of("/dup/b");
        y = small.ino_of("/dup/q");
        small.rename_entry("/dup", "q", "a");
    }
    // Looks "b" up, then "a": the lookup of "a" starts after "b" and finds y.
    void look_up_b_then_a(Mounted& mounted) const
    {
        REQUIRE(vfs_stat(mounted.ctx, "/mnt/dup/b").is_ok());
        auto a = vfs_stat(mounted.ctx, "/mnt/dup/a");
        REQUIRE(a.is_ok());
        REQUIRE(a.value().attr.ino == y);
    }
};

} // namespace

TEST_CASE("a name twice in one directory: unlink and rmdir remove the entry of the inode they were given")
{
    for (bool directories : { false, true }) {
        INFO("directories: " << directories);
        DuplicateNames dup(directories);
        {
            Mounted mounted(*dup.small.image);
            REQUIRE(mounted.mount("errors=continue").is_ok());
            dup.look_up_b_then_a(mounted);
            if (directories)
                REQUIRE(vfs_rmdir(mounted.ctx, "/mnt/dup/a").is_ok());
            else
                REQUIRE(vfs_unlink(mounted.ctx, "/mnt/dup/a").is_ok());
            REQUIRE(mounted.unmount().is_ok());
        }
        // y lost its only name and is free; x and z keep theirs.
        std::string report;
        CHECK(dup.small.image->fsck(&report) == 0);
        INFO(report);
        CHECK(dup.small.ino_of("/dup/a") == dup.x);
        CHECK(dup.small.ino_of("/dup/b") == dup.z);
        CHECK(dup.small.image->debugfs("stat <" + std::to_string(dup.y) + ">").find("Links: 0") != std::string::npos);
        if (!directories)
            CHECK(ends_with(dup.small.image->debugfs("cat /dup/a"), pattern(700, 1)));
    }
}

TEST_CASE("a name twice in one directory: rename refuses it, and moves nothing")
{
    DuplicateNames dup(false);
    {
        Mounted mounted(*dup.small.image);
        REQUIRE(mounted.mount("errors=continue").is_ok());
        dup.look_up_b_then_a(mounted);
        CHECK(code_of(vfs_rename(mounted.ctx, "/mnt/dup/a", "/mnt/moved")) == Error::EUCLEAN);
        std::string logs = host_take_logs();
        INFO(logs);
        CHECK(logged(logs, "\"a\" names more than one entry"));
        CHECK(code_of(vfs_rename(mounted.ctx, "/mnt/dir/file-5", "/mnt/dup/a")) == Error::EUCLEAN);
        CHECK(vfs_rename(mounted.ctx, "/mnt/dup/b", "/mnt/dup/c").is_ok()); // a name there once still moves
        REQUIRE(mounted.unmount().is_ok());
    }
    std::string listing = dup.small.image->debugfs("ls -p /dup");
    INFO(listing);
    CHECK(listing.find("/" + std::to_string(dup.x) + "/100644/0/0/a/") != std::string::npos);
    CHECK(listing.find("/" + std::to_string(dup.y) + "/100644/0/0/a/") != std::string::npos);
    CHECK(dup.small.ino_of("/dup/c") == dup.z);
    CHECK(dup.small.image->debugfs("stat /moved").find("File not found") != std::string::npos);
    CHECK(dup.small.image->debugfs("stat /dir/file-5").find("Links: 1") != std::string::npos);
}

TEST_CASE("a superblock whose group descriptors cannot fit in a group is refused (no 32-bit wrap)")
{
    // 2^27 + 32 groups of 8 blocks: their descriptors take 2^32 + 1024
    // bytes, which 32 bits would count as one block. The device is a sparse
    // file of just over 1 TiB.
    Image image(1ull << 20, "-b 1024 -r 0");
    auto set_u32 = [&](uint64_t field, uint32_t value) { image.patch(kSuper + field, &value, sizeof(value)); };
    const uint32_t groups = (1u << 27) + 32;
    set_u32(0, groups * 8);     // s_inodes_count
    set_u32(4, 1 + groups * 8); // s_blocks_count
    set_u32(32, 8);             // s_blocks_per_group
    set_u32(36, 8);             // s_frags_per_group
    set_u32(40, 8);             // s_inodes_per_group: one inode-table block
    // The first block of descriptors right for its 32 groups (superblock,
    // descriptors, bitmaps, inode table, three free blocks), so that only
    // group 32, in the block the wrap left out, is past the end.
    for (uint32_t g = 0; g < 32; g++) {
        uint32_t first = 1 + g * 8;
        uint32_t descriptor[8] = { first + 2, first + 3, first + 4, 3, 0, 0, 0, 0 }; // 3 free blocks, no inodes
        image.patch(2 * 1024 + g * 32, descriptor, sizeof(descriptor));
    }
    REQUIRE(truncate(image.path.c_str(), off_t(uint64_t(1 + groups * 8) * 1024)) == 0);
    Mounted mounted(image);
    CHECK(code_of(mounted.mount(nullptr, kMountReadOnly)) == Error::EUCLEAN);
    std::string logs = host_take_logs();
    INFO(logs);
    CHECK(logged(logs, "superblock: 134217760 groups need 4194305 blocks of descriptors, more than a group's 8"));
}

TEST_CASE("sb= must name where a group's superblock lies; with 4 KiB blocks the first backup is sb=131072")
{
    {
        // The superblock and the descriptors copied into group 0's data blocks.
        SmallImage small;
        std::vector<uint8_t> head = small.image->bytes(1024, 2 * 1024);
        small.image->patch(5000 * 1024, head.data(), head.size());
        Mounted mounted(*small.image);
        CHECK(code_of(mounted.mount("sb=5000", kMountReadOnly)) == Error::EINVAL);
        std::string logs = host_take_logs();
        INFO(logs);
        CHECK(logged(logs, "sb=5000: block 5000 is not where any group's superblock lies"));
        REQUIRE(mounted.mount("sb=8193", kMountReadOnly).is_ok());
        CHECK(mounted.read("/mnt/dir/sub/inner") == "inner\n");
    }
    {
        Image image(160ull << 20, "-b 4096");
        uint8_t zero[2] = {};
        image.patch(kSuper + 56, zero, sizeof(zero)); // the primary superblock gone
        Mounted mounted(image);
        CHECK(code_of(mounted.mount("sb=32768", kMountReadOnly)) == Error::EINVAL);
        REQUIRE(mounted.mount("sb=131072", kMountReadOnly).is_ok());
        auto names = mounted.list("/mnt");
        CHECK(std::find(names.begin(), names.end(), "lost+found") != names.end());
    }
}

TEST_CASE("a directory with two names in one parent cannot be renamed below itself")
{
    SmallImage small;
    small.debugfs_write("mkdir /p");
    small.debugfs_write("mkdir /p/a");
    small.debugfs_write("link /p/a /p/b"); // a second name, whose ".." is right too
    {
        Mounted mounted(*small.image);
        REQUIRE(mounted.mount("errors=continue").is_ok());
        REQUIRE(vfs_mkdir(mounted.ctx, "/mnt/p/a/c", 0755).is_ok());
        // Different names to the VFS; one directory on the disk.
        CHECK(code_of(vfs_rename(mounted.ctx, "/mnt/p/a", "/mnt/p/b/x")) == Error::EINVAL);
        CHECK(code_of(vfs_rename(mounted.ctx, "/mnt/p/a", "/mnt/p/b/c/x")) == Error::EINVAL);
        CHECK(vfs_rename(mounted.ctx, "/mnt/p/b/c", "/mnt/p/c").is_ok()); // out of it is fine
        REQUIRE(mounted.unmount().is_ok());
    }
    CHECK(small.ino_of("/p/a") == small.ino_of("/p/b"));
    std::string listing = small.image->debugfs("ls -p /p/a");
    INFO(listing);
    CHECK(listing.find("/x/") == std::string::npos);
    CHECK(small.image->debugfs("ls -p /p").find("/c/") != std::string::npos);
}

TEST_CASE("a read-write mount refused for its root inode leaves the disk as it was")
{
    for (const char* damage : { "sif <2> links_count 0", "sif <2> mode 0100644" }) {
        INFO(damage);
        SmallImage small;
        small.debugfs_write(damage);
        std::vector<uint8_t> before = small.image->bytes(0, 16 << 20);
        {
            Mounted mounted(*small.image);
            CHECK(code_of(mounted.mount()) == Error::EUCLEAN);
        }
        CHECK((small.image->bytes(0, 16 << 20) == before));
    }
}

TEST_CASE("a short symlink kept in a block (i_blocks says so) frees its block when removed")
{
    SmallImage small;
    std::string bytes = small.tree + "/target-bytes";
    FILE* file = fopen(bytes.c_str(), "w");
    REQUIRE(file);
    fputs("dir/file-1", file);
    fclose(file);
    small.debugfs_write("write " + bytes + " /short-slow");
    small.debugfs_write("sif /short-slow mode 0120777");
    {
        Mounted mounted(*small.image);
        REQUIRE(mounted.mount().is_ok());
        char target[64];
        auto length = vfs_readlink(mounted.ctx, "/mnt/short-slow", target, sizeof(target));
        REQUIRE(length.is_ok());
        CHECK(std::string(target, length.value()) == "dir/file-1");
        REQUIRE(vfs_unlink(mounted.ctx, "/mnt/short-slow").is_ok());
        REQUIRE(mounted.unmount().is_ok());
    }
    std::string report;
    CHECK(small.image->fsck(&report) == 0);
    INFO(report);
}

TEST_CASE("a file whose first block pointer is bad still frees its other blocks when removed")
{
    SmallImage small;
    uint64_t sectors = number_after(small.image->debugfs("stat /bigger"), "Blockcount: ");
    small.debugfs_write("sif /bigger block[0] 2"); // a group descriptor block
    uint64_t free_before = small.free_blocks();
    {
        Mounted mounted(*small.image);
        REQUIRE(mounted.mount("errors=continue").is_ok());
        REQUIRE(vfs_unlink(mounted.ctx, "/mnt/bigger").is_ok());
        REQUIRE(mounted.unmount().is_ok());
        std::string logs = host_take_logs();
        INFO(logs);
        CHECK(logged(logs, "a data block pointer 2 is outside the data blocks (dropped)"));
    }
    // Every block but the one whose pointer was overwritten.
    CHECK(small.free_blocks() == free_before + sectors / 2 - 1);
}
