// ext2 on the host: images made by e2fsprogs, a VFS with ext2 mounted
// from a file-backed block device, and trees compared entry by entry.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ext2_fs.h"
#include "host_bcache.h"
#include "host_platform.h"
#include "tmpfs_fs.h"
#include "vfs/vfs.h"

namespace ext2_test {

using namespace keel;

template<typename T> Error err(const Result<T>& result) { return result.is_ok() ? Error(0) : result.error(); }
inline Error err(const Result<void>& result) { return result.is_ok() ? Error(0) : result.error(); }

// Runs a shell command; its output (stdout and stderr) and exit status.
std::string run(const std::string& command, int* status = nullptr);
std::string make_temp_dir();
void remove_tree(const std::string& path);

// A temporary image file: mke2fs with `options` (e.g. "-b 1024") over
// `bytes`, filled from `tree` when given (mke2fs -d).
struct Image {
    std::string path;
    Image(uint64_t bytes, const std::string& options, const std::string& tree = "");
    ~Image();
    Image(const Image&) = delete;
    Image& operator=(const Image&) = delete;
    // e2fsck -fn: exit status 0 means clean; `report` gets its output.
    int fsck(std::string* report = nullptr) const;
    std::string debugfs(const std::string& request, bool writable = false) const;
    void rdump(const std::string& directory) const;
    std::vector<uint8_t> bytes(uint64_t offset, size_t length) const;
    void patch(uint64_t offset, const void* data, size_t length) const;
};

// Files larger than this are compared by size only (a sparse 5 GiB file);
// tests read their known parts.
inline constexpr uint64_t kCompareMax = 256ull << 20;

// One file as stat and read see it.
struct Entry {
    uint32_t mode = 0;
    uint32_t uid = 0, gid = 0;
    uint64_t size = 0;
    uint32_t nlink = 0;
    uint32_t rdev = 0;
    uint64_t mtime = 0; // seconds
    std::string data;   // a file's bytes, a symlink's target
    bool operator==(const Entry&) const = default;
};
using Tree = std::map<std::string, Entry>; // relative paths ("a/b"); "" is the root

struct CompareOptions {
    bool owners = true;
    bool links = true; // nlink (rdump copies hard links)
    bool times = true;
    bool devices = true;
    uint32_t mode_mask = 0177777; // rdump drops setuid, setgid and sticky (it chowns after chmod)
};
// Describes the first differences ("" when equal).
std::string compare(const Tree& expected, const Tree& actual, const CompareOptions& options = {});

// A host directory (lstat), without lost+found.
Tree scan_host(const std::string& root);

// The VFS with a tmpfs root, ext2 registered and the image as block device
// "vdz"; mount() puts it on /mnt. The destructor unmounts, tears the VFS
// down and checks that nothing is left allocated.
struct Mounted {
    VfsContext& ctx = *vfs_kernel_context();
    std::unique_ptr<bcache_test::FileDevice> device;
    long baseline = 0;
    bool mounted = false;

    explicit Mounted(const Image& image, uint32_t sector_size = 512, bool read_only_device = false);
    ~Mounted();
    Mounted(const Mounted&) = delete;
    Mounted& operator=(const Mounted&) = delete;

    Result<void> mount(const char* options = nullptr, uint32_t flags = 0);
    Result<void> unmount();
    Result<void> remount(const char* options, uint32_t flags);

    Tree scan(const std::string& root = "/mnt");
    // A whole file; with `error` null, failing fails the test.
    std::string read(const std::string& path, Error* error = nullptr);
    Result<void> write(const std::string& path, const std::string& data, uint64_t offset = 0, bool create = true);
    Result<void> write_new(const std::string& path, const std::string& data) { return write(path, data, 0, true); }
    std::vector<std::string> list(const std::string& path);
    Result<keel_vfs_statfs> statfs() { return vfs_statfs(ctx, "/mnt"); }
};

// Deterministic bytes for file contents.
std::string pattern(size_t length, uint32_t seed);

} // namespace ext2_test

namespace ext2_test {

// A tree with every file type and the shapes that matter: `wide` files in
// one directory, a directory chain `depth` deep, a big file, sparse files
// (one past 4 GiB), fast and slow symlinks, hard links, devices with old
// and new encodings, a fifo and a socket, odd modes, 32-bit owners, set
// times.
void make_sample_tree(const std::string& root, size_t wide, size_t depth, uint32_t block_size);

} // namespace ext2_test
