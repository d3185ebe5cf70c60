// The block layer at the console: lsblk; blkread, blkwrite and blkbench,
// which go to a disk or partition without the cache (as O_DIRECT does), for
// tests and the benchmark. Each opens the device through the registry, so
// the driver stays pinned while it works.
#include "arch/memory_layout.h"
#include "bcache/bcache.h"
#include "block/block.h"
#include "console/console.h"
#include "lib/base/crc32.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "mm/pmm.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr uint32_t kMaxTransfer = 1u << 20; // bytes in one request
constexpr uint32_t kMaxSamples = 4096;      // latencies kept for the median

void print_disk(const DiskInfo& info, void*)
{
    uint64_t bytes = info.sectors * info.sector_size;
    if (info.partition)
        console_print("%-8s %12llu %8llu MiB %4s part  start %llu\n", info.name, (unsigned long long)info.sectors,
            (unsigned long long)(bytes >> 20), info.read_only ? "ro" : "rw", (unsigned long long)info.first_sector);
    else
        console_print("%-8s %12llu %8llu MiB %4s disk  %u-byte sectors, depth %u, %llu requests, on %s\n", info.name,
            (unsigned long long)info.sectors, (unsigned long long)(bytes >> 20), info.read_only ? "ro" : "rw",
            info.sector_size, info.queue_depth, (unsigned long long)info.requests, info.device);
}

// lsblk -f: every block device (disks, partitions, RAM disks) with what
// blkid would say of it. The names are gathered first: no device is opened
// under the registry's walk.
int lsblk_filesystems()
{
    BlockDeviceName names[32];
    size_t count = block_device_names(names, 32);
    console_print("%-8s %-6s %-16s %s\n", "NAME", "FSTYPE", "LABEL", "UUID");
    for (size_t i = 0; i < count; i++) {
        fsprobe::Identity identity;
        if (bcache_identify(names[i], identity))
            console_print("%-8s %-6s %-16s %s\n", names[i], identity.type, identity.label, identity.uuid);
        else
            console_print("%s\n", names[i]);
    }
    return 0;
}

int lsblk_command(int argc, char** argv)
{
    if (argc == 2 && strcmp(argv[1], "-f") == 0)
        return lsblk_filesystems();
    if (argc != 1) {
        console_print("usage: lsblk [-f]\n");
        return 2;
    }
    console_print("%-8s %12s %12s %4s type\n", "NAME", "SECTORS", "SIZE", "MODE");
    disk_for_each(print_disk, nullptr);
    return 0;
}
KEEL_CONSOLE_COMMAND(lsblk, "lsblk", "[-f]",
    "list disks and their partitions; -f: their filesystems (type, label, UUID)", lsblk_command);

bool number(const char* command, const char* what, const char* text, uint64_t& value)
{
    auto parsed = parse_uint(text, strlen(text));
    if (parsed.is_error()) {
        console_print("%s: %s '%s' is not a number\n", command, what, text);
        return false;
    }
    value = parsed.value();
    return true;
}

// An open device and a physically contiguous buffer, released together.
class Session {
public:
    ~Session()
    {
        if (m_buffer_phys)
            free_pages(m_buffer_phys);
        if (m_handle)
            (void)bcache_close(m_handle);
    }
    bool open(const char* command, const char* name, bool write, uint32_t buffer_bytes)
    {
        auto handle = bcache_open(name, write ? kBlockOpenWrite : 0);
        if (handle.is_error()) {
            console_print("%s: %s: cannot open: %s\n", command, name, error_name(handle.error()));
            return false;
        }
        m_handle = handle.value();
        struct Search {
            const char* name;
            BlockDevice* found;
        } search { bcache_info(*m_handle).name, nullptr };
        block_device_for_each(
            [](const BlockDevice& device, uint32_t, void* arg) {
                auto* search = static_cast<Search*>(arg);
                if (strcmp(device.name, search->name) == 0)
                    search->found = const_cast<BlockDevice*>(&device);
            },
            &search);
        m_device = search.found;
        unsigned order = 0;
        while ((4096u << order) < buffer_bytes)
            order++;
        auto pages = alloc_pages(order);
        if (!m_device || pages.is_error()) {
            console_print("%s: out of memory\n", command);
            return false;
        }
        m_buffer_phys = pages.value();
        m_buffer = static_cast<uint8_t*>(arch::phys_to_virt(m_buffer_phys));
        return true;
    }
    BlockDevice& device() { return *m_device; }
    uint8_t* buffer() { return m_buffer; }

private:
    BlockHandle* m_handle = nullptr;
    BlockDevice* m_device = nullptr;
    uint64_t m_buffer_phys = 0;
    uint8_t* m_buffer = nullptr;
};

// blkread DEV OFFSET LEN: up to 512 bytes are dumped in hex, more are
// summed up by their CRC-32 (what the host can compute of the image).
int blkread_command(int argc, char** argv)
{
    if (argc != 4) {
        console_print("usage: blkread DEV OFFSET LEN\n");
        return 1;
    }
    uint64_t offset, length;
    if (!number("blkread", "offset", argv[2], offset) || !number("blkread", "length", argv[3], length))
        return 1;
    if (length == 0 || length > kMaxTransfer) {
        console_print("blkread: length must be 1 to %u bytes\n", kMaxTransfer);
        return 1;
    }
    Session session;
    if (!session.open("blkread", argv[1], false, kMaxTransfer + 4096))
        return 1;
    BlockDevice& device = session.device();
    uint32_t sector_size = device.sector_size;
    uint64_t first = offset / sector_size;
    uint64_t last = (offset + length - 1) / sector_size;
    if (offset + length < offset || last >= device.sector_count) {
        console_print("blkread: %s: bytes %llu..%llu lie past its end (%llu bytes)\n", argv[1],
            (unsigned long long)offset, (unsigned long long)(offset + length - 1),
            (unsigned long long)(device.sector_count * sector_size));
        return 1;
    }
    uint32_t sectors = uint32_t(last - first + 1);
    if (auto read = block_io(device, BlockOp::Read, first, sectors, session.buffer()); read.is_error()) {
        console_print("blkread: %s: %s\n", argv[1], error_name(read.error()));
        return 1;
    }
    const uint8_t* bytes = session.buffer() + (offset - first * sector_size);
    if (length > 512) {
        console_print("%llu bytes at %llu: crc32 %08x\n", (unsigned long long)length, (unsigned long long)offset,
            crc32(bytes, size_t(length)));
        return 0;
    }
    for (uint64_t i = 0; i < length; i += 16) {
        console_print("%08llx:", (unsigned long long)offset + i);
        for (uint64_t j = i; j < i + 16 && j < length; j++)
            console_print(" %02x", bytes[j]);
        console_print("\n");
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(
    blkread, "blkread", "DEV OFFSET LEN", "read bytes from a disk, bypassing the cache", blkread_command);

// The pattern of a test disk: every 8-byte word of a 512-byte sector holds
// the sector's number (little-endian); blkwrite adds a mark in the first word.
constexpr uint64_t kWriteMark = 0x5752000000000000ull; // "RW" in the top bytes

void fill_pattern(uint8_t* sector, uint64_t lba, uint64_t mark)
{
    for (size_t i = 0; i < 512; i += 8) {
        uint64_t word = lba | mark;
        memcpy(sector + i, &word, 8);
    }
}

bool check_pattern(const uint8_t* sector, uint64_t lba)
{
    for (size_t i = 0; i < 512; i += 8) {
        uint64_t word;
        memcpy(&word, sector + i, 8);
        if (word != lba)
            return false;
    }
    return true;
}

// blkwrite DEV SECTOR COUNT: writes the pattern, marked, to 512-byte
// sectors SECTOR.., then flushes.
int blkwrite_command(int argc, char** argv)
{
    if (argc != 4) {
        console_print("usage: blkwrite DEV SECTOR COUNT\n");
        return 1;
    }
    uint64_t sector, count;
    if (!number("blkwrite", "sector", argv[2], sector) || !number("blkwrite", "count", argv[3], count))
        return 1;
    if (count == 0 || count > kMaxTransfer / 512) {
        console_print("blkwrite: count must be 1 to %u\n", kMaxTransfer / 512);
        return 1;
    }
    Session session;
    if (!session.open("blkwrite", argv[1], true, kMaxTransfer))
        return 1;
    BlockDevice& device = session.device();
    if (device.sector_size != 512) {
        console_print("blkwrite: %s has %u-byte sectors; the pattern is for 512\n", argv[1], device.sector_size);
        return 1;
    }
    for (uint64_t i = 0; i < count; i++)
        fill_pattern(session.buffer() + i * 512, sector + i, kWriteMark);
    auto written = block_io(device, BlockOp::Write, sector, uint32_t(count), session.buffer());
    if (written.is_ok())
        written = block_io(device, BlockOp::Flush, 0, 0, nullptr);
    if (written.is_error()) {
        console_print("blkwrite: %s: %s\n", argv[1], error_name(written.error()));
        return 1;
    }
    console_print("blkwrite: %s: %llu sector(s) from %llu written and flushed\n", argv[1], (unsigned long long)count,
        (unsigned long long)sector);
    return 0;
}
KEEL_CONSOLE_COMMAND(
    blkwrite, "blkwrite", "DEV SECTOR COUNT", "write marked pattern sectors and flush", blkwrite_command);

uint64_t next_random(uint64_t& state)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

// blkbench DEV seq|rand SIZE COUNT [verify]: COUNT reads of SIZE bytes,
// one after another (sequential from sector 0, or at random SIZE-aligned
// offsets); throughput, IOPS and the median latency. With verify, every
// sector must hold the test pattern of its own number.
int blkbench_command(int argc, char** argv)
{
    if (argc != 5 && !(argc == 6 && strcmp(argv[5], "verify") == 0)) {
        console_print("usage: blkbench DEV seq|rand SIZE COUNT [verify]\n");
        return 1;
    }
    bool random = strcmp(argv[2], "rand") == 0;
    if (!random && strcmp(argv[2], "seq") != 0) {
        console_print("blkbench: '%s' is neither seq nor rand\n", argv[2]);
        return 1;
    }
    uint64_t size, count;
    if (!number("blkbench", "size", argv[3], size) || !number("blkbench", "count", argv[4], count))
        return 1;
    Session session;
    if (!session.open("blkbench", argv[1], false, kMaxTransfer))
        return 1;
    BlockDevice& device = session.device();
    uint64_t disk_bytes = device.sector_count * device.sector_size;
    if (size == 0 || size > kMaxTransfer || size % device.sector_size != 0 || size > disk_bytes || count == 0) {
        console_print("blkbench: size must be a multiple of %u up to %u bytes and the disk's size, count at least 1\n",
            device.sector_size, kMaxTransfer);
        return 1;
    }
    bool verify = argc == 6;
    uint32_t sectors = uint32_t(size / device.sector_size);
    uint64_t positions = disk_bytes / size;
    static uint32_t latencies[kMaxSamples];
    uint64_t state = 0x9e3779b97f4a7c15ull;
    uint64_t mismatches = 0;
    uint64_t start = time::monotonic_ns();
    for (uint64_t i = 0; i < count; i++) {
        uint64_t position = random ? next_random(state) % positions : i % positions;
        uint64_t sector = position * sectors;
        uint64_t before = time::monotonic_ns();
        if (auto read = block_io(device, BlockOp::Read, sector, sectors, session.buffer()); read.is_error()) {
            console_print(
                "blkbench: %s: sector %llu: %s\n", argv[1], (unsigned long long)sector, error_name(read.error()));
            return 1;
        }
        uint64_t took = time::monotonic_ns() - before;
        if (i < kMaxSamples)
            latencies[i] = uint32_t(took > UINT32_MAX ? UINT32_MAX : took);
        if (verify) {
            uint64_t first_512 = sector * (device.sector_size / 512);
            for (uint64_t s = 0; s < size / 512; s++)
                mismatches += !check_pattern(session.buffer() + s * 512, first_512 + s);
        }
    }
    uint64_t elapsed = time::monotonic_ns() - start;
    uint32_t samples = uint32_t(count < kMaxSamples ? count : kMaxSamples);
    // The median by selection: samples are few, insertion sort is enough.
    for (uint32_t i = 1; i < samples; i++) {
        uint32_t value = latencies[i];
        uint32_t j = i;
        for (; j > 0 && latencies[j - 1] > value; j--)
            latencies[j] = latencies[j - 1];
        latencies[j] = value;
    }
    uint64_t ns = elapsed ? elapsed : 1;
    console_print("blkbench: %s %s %llu x %llu bytes: %llu ms, %llu KiB/s, %llu IOPS, p50 %u us\n", argv[1], argv[2],
        (unsigned long long)count, (unsigned long long)size, (unsigned long long)(elapsed / 1000000),
        (unsigned long long)(size * count * 1000000000ull / ns / 1024),
        (unsigned long long)(count * 1000000000ull / ns), latencies[samples / 2] / 1000);
    if (verify)
        console_print("blkbench: verified %llu sector(s), %llu mismatch(es)\n",
            (unsigned long long)count * (size / 512), (unsigned long long)mismatches);
    return mismatches ? 1 : 0;
}
KEEL_CONSOLE_COMMAND(blkbench, "blkbench", "DEV seq|rand SIZE COUNT [verify]",
    "time reads from a disk, bypassing the cache", blkbench_command);

// blkopen DEV / blkclose DEV: hold a device open between commands, as a
// mounted filesystem would (the pin tests).
constexpr size_t kHeldMax = 8;
BlockHandle* g_held[kHeldMax];

int blkopen_command(int argc, char** argv)
{
    if (argc != 2) {
        console_print("usage: blkopen DEV\n");
        return 1;
    }
    for (BlockHandle*& slot : g_held) {
        if (slot)
            continue;
        auto handle = bcache_open(argv[1], 0);
        if (handle.is_error()) {
            console_print("blkopen: %s: cannot open: %s\n", argv[1], error_name(handle.error()));
            return 1;
        }
        slot = handle.value();
        return 0;
    }
    console_print("blkopen: %zu devices are held already\n", kHeldMax);
    return 1;
}
KEEL_CONSOLE_COMMAND(blkopen, "blkopen", "DEV", "hold a block device open (until blkclose)", blkopen_command);

int blkclose_command(int argc, char** argv)
{
    if (argc != 2) {
        console_print("usage: blkclose DEV\n");
        return 1;
    }
    for (BlockHandle*& slot : g_held) {
        if (slot && strcmp(bcache_info(*slot).name, argv[1]) == 0) {
            (void)bcache_close(slot);
            slot = nullptr;
            return 0;
        }
    }
    console_print("blkclose: %s is not held by blkopen\n", argv[1]);
    return 1;
}
KEEL_CONSOLE_COMMAND(blkclose, "blkclose", "DEV", "close what blkopen holds", blkclose_command);

} // namespace

} // namespace keel
