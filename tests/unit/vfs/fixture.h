// A fresh VFS per test: tmpfs and nullfs registered, a tmpfs (or nullfs
// with a tmpfs on top) as the root, and at the end a check that tearing it
// all down frees every object and every byte.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "host_platform.h"
#include "nullfs_fs.h"
#include "tmpfs_fs.h"
#include "vfs/vfs.h"

namespace vfs_test {

using namespace keel;

// Owner tokens, so pins are counted per type.
inline int g_tmpfs_owner, g_nullfs_owner;

struct Fixture {
    VfsContext& ctx = *vfs_kernel_context();

    explicit Fixture(bool nullfs_root = false, const char* root_options = nullptr)
    {
        REQUIRE(vfs_register_filesystem(&tmpfs_type_ops, &g_tmpfs_owner).is_ok());
        REQUIRE(vfs_register_filesystem(&nullfs_type_ops, &g_nullfs_owner).is_ok());
        if (nullfs_root)
            REQUIRE(vfs_mount_root("nullfs", "none", nullptr).is_ok());
        REQUIRE(vfs_mount_root("tmpfs", "rootfs", root_options).is_ok());
    }

    ~Fixture()
    {
        vfs_reset_initial_namespace();
        VfsCounters counters = vfs_counters();
        CHECK(counters.mounts == 0);
        CHECK(counters.superblocks == 0);
        CHECK(counters.dentries == 0);
        CHECK(counters.files == 0);
        CHECK(tmpfs_nodes_in_use() == 0);
        CHECK(tmpfs_pages_in_use() == 0);
        CHECK(host_platform_stats().pins == 0);
        CHECK(vfs_unregister_filesystem(&tmpfs_type_ops).is_ok());
        CHECK(vfs_unregister_filesystem(&nullfs_type_ops).is_ok());
        CHECK(host_platform_stats().allocations == 0);
    }

    void write(const char* path, const std::string& text, uint32_t flags = kOpenWriteOnly | kOpenCreate | kOpenTruncate)
    {
        auto file = vfs_open(ctx, path, flags, 0644);
        REQUIRE(file.is_ok());
        auto done = vfs_write(*file.value(), text.data(), text.size());
        REQUIRE(done.is_ok());
        REQUIRE(done.value() == text.size());
        vfs_close(file.value());
    }

    std::string read(const char* path)
    {
        auto file = vfs_open(ctx, path, kOpenReadOnly, 0);
        REQUIRE(file.is_ok());
        std::string text;
        char buffer[1000];
        for (;;) {
            auto done = vfs_read(*file.value(), buffer, sizeof(buffer));
            REQUIRE(done.is_ok());
            if (done.value() == 0)
                break;
            text.append(buffer, done.value());
        }
        vfs_close(file.value());
        return text;
    }

    std::vector<std::string> list(const char* path)
    {
        auto file = vfs_open(ctx, path, kOpenReadOnly | kOpenDirectory, 0);
        REQUIRE(file.is_ok());
        std::vector<std::string> names;
        auto visit = [](void* context, const char* name, size_t length, uint64_t, uint32_t) {
            static_cast<std::vector<std::string>*>(context)->emplace_back(name, length);
            return 0;
        };
        REQUIRE(vfs_readdir(*file.value(), visit, &names).is_ok());
        vfs_close(file.value());
        return names;
    }

    std::string cwd()
    {
        char buffer[kVfsPathMax];
        auto length = vfs_getcwd(ctx, buffer, sizeof(buffer));
        if (length.is_error())
            return std::string("error:") + error_name(length.error());
        return std::string(buffer, length.value());
    }

    struct MountLine {
        uint32_t id, parent;
        std::string fstype, source, mountpoint, root;
        bool readonly;
    };
    std::vector<MountLine> mounts(VfsContext* context = nullptr)
    {
        std::vector<MountLine> lines;
        auto visit = [](const VfsMountInfo& info, void* arg) {
            static_cast<std::vector<MountLine>*>(arg)->push_back(
                { info.id, info.parent_id, info.fstype, info.source, info.mountpoint, info.root, info.readonly });
        };
        REQUIRE(vfs_for_each_mount(context ? *context : ctx, visit, &lines).is_ok());
        return lines;
    }

    Error error_of(Result<void> result) { return result.is_ok() ? Error(0) : result.error(); }
};

inline Error err(Result<void> result) { return result.is_ok() ? Error(0) : result.error(); }
template<typename T> Error err(const Result<T>& result) { return result.is_ok() ? Error(0) : result.error(); }

} // namespace vfs_test
