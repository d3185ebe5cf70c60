// Path lookups per second on the host: the kernel's VFS and tmpfs sources,
// built natively without sanitizers (host_platform.cpp's allocator and
// lock). Not a test: scripts/bench-vfs.py runs it beside the guest's
// `vfsbench lookups` and prints both.
//
//     bench-vfs-lookup [RUNS]
//
// Trees: "deep", 32 nested directories with 8 siblings at every level and
// a file at the bottom; "wide", one directory of 4096 files (the dentry
// cache scans a directory's children, so this is its worst case). Each
// line is the median of RUNS timed batches, e.g.
//
//     deep 33 components: 1234567 lookups/s, 810.0 ns each, 24.5 ns per component (median of 7)
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "host_platform.h"
#include "nullfs_fs.h"
#include "tmpfs_fs.h"
#include "vfs/vfs.h"

using namespace keel;

namespace {

constexpr int kDepth = 32;
constexpr int kSiblings = 8;
constexpr int kWide = 4096;
int g_owner;

void must(bool ok, const char* what)
{
    if (!ok) {
        fprintf(stderr, "bench-vfs-lookup: %s failed\n", what);
        exit(1);
    }
}

void make_file(VfsContext& ctx, const std::string& path)
{
    auto file = vfs_open(ctx, path.c_str(), kOpenWriteOnly | kOpenCreate, 0644);
    must(file.is_ok(), path.c_str());
    vfs_close(file.value());
}

std::string build_deep_tree(VfsContext& ctx)
{
    std::string path = "/deep";
    must(vfs_mkdir(ctx, path.c_str(), 0755).is_ok(), "mkdir /deep");
    for (int level = 0; level < kDepth; level++) {
        for (int sibling = 0; sibling < kSiblings; sibling++)
            must(vfs_mkdir(ctx, (path + "/d" + std::to_string(sibling)).c_str(), 0755).is_ok(), "mkdir");
        path += "/d" + std::to_string(kSiblings - 1); // the last sibling: the longest cache scan
    }
    path += "/leaf";
    make_file(ctx, path);
    return path;
}

std::string build_wide_directory(VfsContext& ctx)
{
    must(vfs_mkdir(ctx, "/wide", 0755).is_ok(), "mkdir /wide");
    for (int i = 0; i < kWide; i++)
        make_file(ctx, "/wide/f" + std::to_string(i));
    return "/wide/f" + std::to_string(kWide - 1);
}

// Nanoseconds per lookup of `path`, batches sized to take ~50 ms each.
double time_lookups(VfsContext& ctx, const std::string& path, int runs)
{
    using Clock = std::chrono::steady_clock;
    must(vfs_stat(ctx, path.c_str(), true).is_ok(), path.c_str()); // and warm the dentry cache
    long batch = 1000;
    for (;;) {
        auto start = Clock::now();
        for (long i = 0; i < batch; i++)
            (void)vfs_stat(ctx, path.c_str(), true);
        double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (seconds > 0.05 || batch > 100000000)
            break;
        batch *= 4;
    }
    std::vector<double> per_lookup;
    for (int run = 0; run < runs; run++) {
        auto start = Clock::now();
        for (long i = 0; i < batch; i++)
            must(vfs_stat(ctx, path.c_str(), true).is_ok(), "lookup");
        double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        per_lookup.push_back(ns / double(batch));
    }
    std::sort(per_lookup.begin(), per_lookup.end());
    return per_lookup[per_lookup.size() / 2];
}

void report(const char* name, const std::string& path, double ns, int runs)
{
    size_t components = size_t(std::count(path.begin(), path.end(), '/'));
    printf("%s %zu components: %.0f lookups/s, %.1f ns each, %.1f ns per component (median of %d)\n", name, components,
        1e9 / ns, ns, ns / double(components), runs);
}

} // namespace

int main(int argc, char** argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1)
        runs = 1;
    must(vfs_register_filesystem(&tmpfs_type_ops, &g_owner).is_ok(), "register tmpfs");
    must(vfs_register_filesystem(&nullfs_type_ops, &g_owner).is_ok(), "register nullfs");
    // The boot layout: nullfs with the root tmpfs on top.
    must(vfs_mount_root("nullfs", "none", nullptr).is_ok(), "mount nullfs");
    must(vfs_mount_root("tmpfs", "rootfs", nullptr).is_ok(), "mount tmpfs");
    VfsContext& ctx = *vfs_kernel_context();
    std::string deep = build_deep_tree(ctx);
    std::string wide = build_wide_directory(ctx);
    report("deep", deep, time_lookups(ctx, deep, runs), runs);
    report("wide", wide, time_lookups(ctx, wide, runs), runs);
    report("short", "/deep", time_lookups(ctx, "/deep", runs), runs);
    vfs_reset_initial_namespace();
    return 0;
}
