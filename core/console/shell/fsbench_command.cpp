// fsbench: filesystem figures measured inside the guest with the TSC, for
// scripts/bench-ext2.py (the same work Linux is timed doing with busybox):
//
//     fsbench read FILE        read FILE to its end, 1 MiB at a time (dd bs=1M)
//     fsbench create DIR N     mkdir DIR, N files DIR/fI of 6 bytes each, then sync
//     fsbench stat DIR         lstat everything under DIR, depth first (du -s)
#include "bcache/bcache.h"
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "mm/heap.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr uint64_t kMaxFiles = 100000;
constexpr size_t kMaxDepth = 16;
constexpr size_t kPathMax = 256;

uint64_t microseconds_since(uint64_t start)
{
    uint64_t cycles = time::cycles() - start;
    uint64_t rate = time::cycles_per_second();
    return cycles / rate * 1000000 + cycles % rate * 1000000 / rate;
}

int read_file(VfsContext& ctx, const char* path)
{
    auto* buffer = static_cast<uint8_t*>(kmalloc(kReadChunk));
    if (!buffer) {
        console_print("fsbench: no memory for a %zu-byte buffer\n", kReadChunk);
        return 1;
    }
    uint64_t start = time::cycles();
    auto file = vfs_open(ctx, path, kOpenReadOnly, 0);
    if (file.is_error()) {
        kfree(buffer);
        return console_vfs_failure("fsbench", "cannot open", path, file.error());
    }
    uint64_t total = 0;
    int status = 0;
    for (;;) {
        auto done = vfs_read(*file.value(), buffer, kReadChunk);
        if (done.is_error()) {
            status = console_vfs_failure("fsbench", "cannot read", path, done.error());
            break;
        }
        if (done.value() == 0)
            break;
        total += done.value();
    }
    vfs_close(file.value());
    uint64_t us = microseconds_since(start);
    kfree(buffer);
    if (status == 0)
        console_print("fsbench: read %llu bytes of %s in %llu us: %llu KB/s\n", (unsigned long long)total, path,
            (unsigned long long)us, (unsigned long long)(us ? total * 1000 / us : 0));
    return status;
}

int create_files(VfsContext& ctx, const char* directory, const char* count_text)
{
    auto count = parse_uint(count_text, strlen(count_text));
    if (count.is_error() || count.value() == 0 || count.value() > kMaxFiles) {
        console_print("fsbench: bad file count '%s' (1 to %llu)\n", count_text, (unsigned long long)kMaxFiles);
        return 2;
    }
    uint64_t start = time::cycles();
    if (auto made = vfs_mkdir(ctx, directory, 0755); made.is_error())
        return console_vfs_failure("fsbench", "cannot create", directory, made.error());
    char path[kPathMax];
    for (uint64_t i = 0; i < count.value(); i++) {
        if (format(path, sizeof(path), "%s/f%llu", directory, (unsigned long long)i) >= sizeof(path)) {
            console_print("fsbench: %s: names too long\n", directory);
            return 2;
        }
        auto file = vfs_open(ctx, path, kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0644);
        if (file.is_error())
            return console_vfs_failure("fsbench", "cannot create", path, file.error());
        auto written = vfs_write(*file.value(), "hello\n", 6);
        vfs_close(file.value());
        if (written.is_error())
            return console_vfs_failure("fsbench", "cannot write", path, written.error());
    }
    if (auto synced = bcache_sync_all(); synced.is_error())
        return console_vfs_failure("fsbench", "cannot sync after writing", directory, synced.error());
    console_print("fsbench: created %llu files in %s and synced in %llu us\n", (unsigned long long)count.value(),
        directory, (unsigned long long)microseconds_since(start));
    return 0;
}

// One directory's names, gathered a batch at a time: the directory is read
// with nothing else held, then each name is looked up.
struct NameBatch {
    static constexpr size_t kBytes = 8192;
    char names[kBytes];
    size_t used;
};

int gather_name(void* context, const char* name, size_t length, uint64_t, uint32_t)
{
    auto& batch = *static_cast<NameBatch*>(context);
    if ((length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.'))
        return 0;
    if (batch.used + length + 1 > NameBatch::kBytes)
        return 1; // full: the next readdir resumes at this entry
    memcpy(batch.names + batch.used, name, length);
    batch.names[batch.used + length] = '\0';
    batch.used += length + 1;
    return 0;
}

struct StatWalk {
    VfsContext& ctx;
    uint64_t entries = 0;
};

int stat_tree(StatWalk& walk, char* path, size_t depth)
{
    if (depth > kMaxDepth) {
        console_print("fsbench: %s: deeper than %zu directories\n", path, kMaxDepth);
        return 1;
    }
    auto directory = vfs_open(walk.ctx, path, kOpenDirectory, 0);
    if (directory.is_error())
        return console_vfs_failure("fsbench", "cannot open", path, directory.error());
    auto* batch = static_cast<NameBatch*>(kmalloc(sizeof(NameBatch)));
    int status = batch ? 0 : 1;
    if (!batch)
        console_print("fsbench: no memory to read %s\n", path);
    size_t length = strlen(path);
    while (status == 0) {
        batch->used = 0;
        if (auto read = vfs_readdir(*directory.value(), gather_name, batch); read.is_error()) {
            status = console_vfs_failure("fsbench", "cannot read", path, read.error());
            break;
        }
        if (batch->used == 0)
            break;
        for (size_t at = 0; at < batch->used && status == 0; at += strlen(batch->names + at) + 1) {
            if (format(path + length, kPathMax - length, "/%s", batch->names + at) >= kPathMax - length) {
                console_print("fsbench: a path under %s is too long\n", path);
                status = 1;
                break;
            }
            auto stat = vfs_stat(walk.ctx, path, false);
            if (stat.is_error()) {
                status = console_vfs_failure("fsbench", "cannot stat", path, stat.error());
            } else {
                walk.entries++;
                if (mode_is_directory(stat.value().attr.mode))
                    status = stat_tree(walk, path, depth + 1);
            }
            path[length] = '\0';
        }
    }
    kfree(batch);
    vfs_close(directory.value());
    return status;
}

int stat_all(VfsContext& ctx, const char* directory)
{
    char path[kPathMax];
    if (format(path, sizeof(path), "%s", directory) >= sizeof(path)) {
        console_print("fsbench: %s: too long\n", directory);
        return 2;
    }
    StatWalk walk { ctx };
    uint64_t start = time::cycles();
    if (int status = stat_tree(walk, path, 0); status != 0)
        return status;
    console_print("fsbench: stat of %llu entries under %s in %llu us\n", (unsigned long long)walk.entries, directory,
        (unsigned long long)microseconds_since(start));
    return 0;
}

int fsbench_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("fsbench");
    if (!ctx)
        return 1;
    if (time::cycles_per_second() == 0) {
        console_print("fsbench: the TSC is not calibrated\n");
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return read_file(*ctx, argv[2]);
    if (argc == 4 && strcmp(argv[1], "create") == 0)
        return create_files(*ctx, argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "stat") == 0)
        return stat_all(*ctx, argv[2]);
    console_print("usage: fsbench read FILE | create DIR N | stat DIR\n");
    return 2;
}
KEEL_CONSOLE_COMMAND(fsbench, "fsbench", "read FILE | create DIR N | stat DIR",
    "time a whole-file read, N small files created and synced, or a stat of a tree", fsbench_command);

} // namespace

} // namespace keel
