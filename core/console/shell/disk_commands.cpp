// Disks and the block cache: sync, df, ramdisk (RAM disks for filesystems
// before there are real disks) and bcache (the cache's state).
#include "bcache/bcache.h"
#include "bcache/ramdisk.h"
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"

namespace keel {

namespace {

int sync_command(int, char**)
{
    if (auto synced = bcache_sync_all(); synced.is_error()) {
        console_print("sync: %s (%s)\n", vfs_error_text(synced.error()), error_name(synced.error()));
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(sync, "sync", "", "write every dirty cached block to its disk", sync_command);

// ---- df

struct MountPoints {
    static constexpr size_t kMax = 64;
    char text[4096];
    size_t used = 0;
    const char* paths[kMax];
    const char* sources[kMax];
    const char* types[kMax];
    size_t count = 0;

    const char* keep(const char* string)
    {
        size_t length = strlen(string) + 1;
        if (used + length > sizeof(text))
            return nullptr;
        char* copy = text + used;
        memcpy(copy, string, length);
        used += length;
        return copy;
    }
};

void collect_mount(const VfsMountInfo& info, void* arg)
{
    auto& points = *static_cast<MountPoints*>(arg);
    if (points.count == MountPoints::kMax)
        return;
    const char* path = points.keep(info.mountpoint);
    const char* source = points.keep(info.source);
    const char* type = points.keep(info.fstype);
    if (path && source && type) {
        points.paths[points.count] = path;
        points.sources[points.count] = source;
        points.types[points.count] = type;
        points.count++;
    }
}

void print_df_line(const char* source, const char* type, const char* path, const keel_vfs_statfs& stats)
{
    uint64_t kib = stats.block_size / 1024 ? stats.block_size / 1024 : 1;
    uint64_t total = stats.blocks * kib;
    uint64_t available = stats.blocks_free * kib;
    uint64_t used = total - available;
    char percent[8] = "-";
    if (total)
        format(percent, sizeof(percent), "%llu%%", (unsigned long long)((used * 100 + total - 1) / total));
    console_print("%-16s %-7s %10llu %10llu %10llu %4s %s\n", source, type, (unsigned long long)total,
        (unsigned long long)used, (unsigned long long)available, percent, path);
}

int df_command(int argc, char** argv)
{
    VfsContext* ctx = console_vfs_context_or_complain("df");
    if (!ctx)
        return 1;
    static MountPoints points;
    points.used = points.count = 0;
    if (auto listed = vfs_for_each_mount(*ctx, collect_mount, &points); listed.is_error())
        return console_vfs_failure("df", "cannot list", "mounts", listed.error());
    console_print("%-16s %-7s %10s %10s %10s %4s %s\n", "Filesystem", "Type", "1K-blocks", "Used", "Available", "Use%",
        "Mounted on");
    int status = 0;
    for (size_t i = 0; i < points.count; i++) {
        // A mount covered by a later one on the same path cannot be named.
        bool covered = false;
        for (size_t j = i + 1; j < points.count; j++)
            covered |= strcmp(points.paths[i], points.paths[j]) == 0;
        bool wanted = argc < 2;
        for (int k = 1; k < argc; k++)
            wanted |= strcmp(argv[k], points.paths[i]) == 0;
        if (covered || !wanted)
            continue;
        auto stats = vfs_statfs(*ctx, points.paths[i]);
        if (stats.is_error()) {
            if (stats.error() != Error::ENOSYS)
                status = console_vfs_failure("df", "cannot read", points.paths[i], stats.error());
            continue;
        }
        print_df_line(points.sources[i], points.types[i], points.paths[i], stats.value());
    }
    return status;
}
KEEL_CONSOLE_COMMAND(df, "df", "[MOUNTPOINT...]", "filesystem space (1K blocks)", df_command);

// ---- ramdisk

bool parse_bytes(const char* text, uint64_t& bytes)
{
    size_t digits = 0;
    while (text[digits] >= '0' && text[digits] <= '9')
        digits++;
    auto value = parse_uint(text, digits);
    if (digits == 0 || value.is_error())
        return false;
    unsigned shift = 0;
    const char* suffix = text + digits;
    if (*suffix) {
        const char* units = "KMG";
        const char* unit = strchr(units, *suffix);
        if (!unit || suffix[1])
            return false;
        shift = 10 * unsigned(unit - units + 1);
    }
    if (value.value() > (UINT64_MAX >> shift))
        return false;
    bytes = value.value() << shift;
    return true;
}

// Copies FILE into the new disk DISK.
int fill_from_file(VfsContext& ctx, BlockDevice& disk, const char* path, uint64_t size)
{
    auto file = vfs_open(ctx, path, kOpenReadOnly, 0);
    if (file.is_error())
        return console_vfs_failure("ramdisk", "cannot open", path, file.error());
    uint8_t* data = ramdisk_data(disk);
    uint64_t done = 0;
    while (done < size) {
        auto read = vfs_read(*file.value(), data + done, size - done > (1 << 20) ? (1 << 20) : size_t(size - done));
        if (read.is_error() || read.value() == 0) {
            vfs_close(file.value());
            return console_vfs_failure("ramdisk", "cannot read", path, read.is_error() ? read.error() : Error::EIO);
        }
        done += read.value();
    }
    vfs_close(file.value());
    return 0;
}

// The disk's bytes in hex, 64 to a line after their offset, all-zero
// lines left out: how a test carries an image out over the console (the
// disk must be synced first: the cache may hold newer blocks).
int dump_disk(const char* name)
{
    BlockDevice* disk = ramdisk_find(name);
    if (!disk) {
        console_print("ramdisk: no RAM disk '%s'\n", name);
        return 1;
    }
    constexpr size_t kLine = 64;
    const uint8_t* data = ramdisk_data(*disk);
    uint64_t size = disk->sector_count * disk->sector_size;
    for (uint64_t offset = 0; offset < size; offset += kLine) {
        bool zero = true;
        for (size_t i = 0; i < kLine && zero; i++)
            zero = data[offset + i] == 0;
        if (zero)
            continue;
        char hex[2 * kLine + 1];
        for (size_t i = 0; i < kLine; i++) {
            hex[2 * i] = "0123456789abcdef"[data[offset + i] >> 4];
            hex[2 * i + 1] = "0123456789abcdef"[data[offset + i] & 15];
        }
        hex[2 * kLine] = '\0';
        console_print("%llx %s\n", (unsigned long long)offset, hex);
        if (console_interrupted())
            return 130;
    }
    console_print("end %llu\n", (unsigned long long)size);
    return 0;
}

int ramdisk_command(int argc, char** argv)
{
    constexpr const char* kUsage
        = "usage: ramdisk create NAME SIZE|FILE [ro] | ramdisk destroy NAME | ramdisk dump NAME\n";
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump_disk(argv[2]);
    if (argc == 3 && strcmp(argv[1], "destroy") == 0) {
        if (auto destroyed = ramdisk_destroy(argv[2]); destroyed.is_error()) {
            console_print("ramdisk: cannot destroy '%s': %s (%s)\n", argv[2], vfs_error_text(destroyed.error()),
                error_name(destroyed.error()));
            return 1;
        }
        return 0;
    }
    bool read_only = argc == 5 && strcmp(argv[4], "ro") == 0;
    if ((argc != 4 && !read_only) || strcmp(argv[1], "create") != 0) {
        console_print("%s", kUsage);
        return 2;
    }
    const char* name = argv[2];
    uint64_t size = 0;
    const char* file = nullptr;
    VfsContext* ctx = nullptr;
    if (!parse_bytes(argv[3], size)) {
        file = argv[3];
        ctx = console_vfs_context_or_complain("ramdisk");
        if (!ctx)
            return 1;
        auto stat = vfs_stat(*ctx, file);
        if (stat.is_error())
            return console_vfs_failure("ramdisk", "cannot stat", file, stat.error());
        size = stat.value().attr.size;
    }
    Diagnostic problem;
    auto disk = ramdisk_create(name, size, read_only, &problem);
    if (disk.is_error()) {
        console_print("ramdisk: cannot create '%s': %s (%s)%s%s\n", name, vfs_error_text(disk.error()),
            error_name(disk.error()), problem.empty() ? "" : ": ", problem.message);
        return 1;
    }
    if (file && fill_from_file(*ctx, *disk.value(), file, size) != 0) {
        (void)ramdisk_destroy(name);
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(ramdisk, "ramdisk", "create NAME SIZE|FILE [ro] | destroy NAME | dump NAME",
    "a block device in memory, empty or a copy of FILE; dump prints its bytes in hex", ramdisk_command);

// ---- bcache

void print_device(const BlockDevice& device, uint32_t opens, void*)
{
    console_print("  %-12s %10llu KiB  sector %4u  %s  open %u\n", device.name,
        (unsigned long long)(device.sector_count * device.sector_size / 1024), device.sector_size,
        device.read_only ? "ro" : "rw", opens);
}

int bcache_command(int, char**)
{
    BcacheStats stats = bcache_stats();
    console_print("block cache: %zu KiB in %zu blocks (limit %zu KiB), %zu dirty, %zu held, %zu in flight\n",
        stats.bytes / 1024, stats.buffers, stats.limit / 1024, stats.dirty, stats.held, stats.in_flight);
    console_print("  hits %llu  misses %llu  read ahead %llu  written %llu  reclaimed %llu\n",
        (unsigned long long)stats.hits, (unsigned long long)stats.misses, (unsigned long long)stats.readahead,
        (unsigned long long)stats.writes, (unsigned long long)stats.reclaimed);
    console_print("devices:\n");
    block_device_for_each(print_device, nullptr);
    return 0;
}
KEEL_CONSOLE_COMMAND(bcache, "bcache", "", "the block cache's use and the block devices", bcache_command);

} // namespace

} // namespace keel
