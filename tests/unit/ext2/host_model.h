// The model the write tests compare ext2 with: the same operations on a
// host directory. `Both` applies each operation to the mounted image
// (through the VFS) and to the model, and requires the same outcome.
#pragma once

#include <string>
#include <vector>

#include "ext2_support.h"

namespace ext2_test {

// A small tree to start from: a directory of files, a subdirectory, a
// bigger file, a symlink and a hard link.
void make_small_tree(const std::string& root);
// cp -a of a tree's contents into an existing directory.
void copy_tree(const std::string& from, const std::string& to);
// Leaves out devices, fifos and sockets (rdump skips them) and the root.
Tree without_specials(const Tree& tree);

struct Model {
    std::string root;
    explicit Model(std::string directory);
    // Each returns 0 or the errno the host gave.
    int write(const std::string& path, uint64_t offset, const std::string& data);
    int mkdir(const std::string& path);
    int rmdir(const std::string& path);
    int unlink(const std::string& path);
    int symlink(const std::string& target, const std::string& path);
    int link(const std::string& from, const std::string& to);
    int rename(const std::string& from, const std::string& to);
    int chmod(const std::string& path, uint32_t mode);
    int truncate(const std::string& path, uint64_t size);

    struct Item {
        std::string path; // relative
        uint32_t mode;
        uint64_t size;
    };
    // Everything below the root (lost+found left out).
    std::vector<Item> list() const;
};

struct Both {
    Mounted& mounted;
    Model& model;
    Both(Mounted& image, Model& host)
        : mounted(image)
        , model(host)
    {
    }
    // Each applies the operation to both, requires the same result (0 or
    // the same errno) and returns it; `expect_ok` requires success too.
    int write(const std::string& path, uint64_t offset, const std::string& data, bool expect_ok = true);
    int mkdir(const std::string& path, bool expect_ok = true);
    int rmdir(const std::string& path, bool expect_ok = true);
    int unlink(const std::string& path, bool expect_ok = true);
    int symlink(const std::string& target, const std::string& path, bool expect_ok = true);
    int link(const std::string& from, const std::string& to, bool expect_ok = true);
    int rename(const std::string& from, const std::string& to, bool expect_ok = true);
    int chmod(const std::string& path, uint32_t mode, bool expect_ok = true);
    int truncate(const std::string& path, uint64_t size, bool expect_ok = true);
};

// `count` operations chosen from `seed`: create, write, truncate, rename,
// link, unlink, mkdir, rmdir, symlink, chmod; each outcome checked on the
// way, and the contents of a few files read back.
void random_operations(Both& both, uint32_t seed, int count);

} // namespace ext2_test
