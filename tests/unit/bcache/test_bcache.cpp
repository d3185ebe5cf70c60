// The block cache against file-backed devices on the host: opening rules,
// reads, dirty blocks and write-back, block sizes, faults, the size limit
// and reclaim, deferred and out-of-order completions, RAM disks.
#include <catch2/catch.hpp>

#include <algorithm>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "bcache/bcache.h"
#include "bcache/ramdisk.h"
#include "host_bcache.h"
#include "host_platform.h"

using namespace keel;
using bcache_test::FileDevice;

namespace {

// A temporary file of `bytes`, each 4-byte word holding its own offset.
struct TempImage {
    std::string path;
    explicit TempImage(size_t bytes)
    {
        char name[] = "/tmp/keel-bcache-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        path = name;
        std::vector<uint32_t> words(bytes / 4);
        for (size_t i = 0; i < words.size(); i++)
            words[i] = uint32_t(i * 4);
        REQUIRE(write(fd, words.data(), bytes) == ssize_t(bytes));
        close(fd);
    }
    ~TempImage() { unlink(path.c_str()); }
    std::vector<uint8_t> read_all() const
    {
        std::vector<uint8_t> bytes;
        FILE* file = fopen(path.c_str(), "rb");
        uint8_t chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
            bytes.insert(bytes.end(), chunk, chunk + got);
        fclose(file);
        return bytes;
    }
};

uint32_t word_at(const keel_buffer* buffer, size_t offset)
{
    uint32_t word;
    memcpy(&word, buffer->data + offset, 4);
    return word;
}

// Every test starts with the cache started and ends with nothing of it
// left allocated but the hash table.
struct Fixture {
    long baseline;
    Fixture()
    {
        TempImage warm(4096);
        {
            FileDevice device("warm", warm.path);
        }
        bcache_set_limit(64u << 20);
        bcache_test::clear_log();
        baseline = host_platform_stats().allocations;
    }
    ~Fixture()
    {
        BcacheStats stats = bcache_stats();
        CHECK(stats.buffers == 0);
        CHECK(stats.held == 0);
        CHECK(stats.dirty == 0);
        CHECK(stats.in_flight == 0);
        CHECK(host_platform_stats().allocations == baseline);
    }
};

template<typename T> Error err(const Result<T>& result) { return result.is_ok() ? Error(0) : result.error(); }

} // namespace

TEST_CASE_METHOD(Fixture, "opening: names, modes and conflicts")
{
    TempImage image(64 * 1024);
    FileDevice disk("vdz", image.path);
    TempImage small(8192);
    FileDevice readonly_disk("cdrom", small.path, 2048, true);
    REQUIRE(disk.registered());
    REQUIRE(readonly_disk.registered());
    BlockDeviceName names[8];
    size_t count = block_device_names(names, 8);
    CHECK(std::find_if(names, names + count, [](const char* n) { return std::string(n) == "vdz"; }) != names + count);
    CHECK(std::find_if(names, names + count, [](const char* n) { return std::string(n) == "cdrom"; }) != names + count);
    CHECK(block_device_names(names, 1) == 1); // no more than asked for

    CHECK(err(bcache_open("nosuch", 0)) == Error::ENXIO);
    CHECK(err(bcache_open("/dev/nosuch", 0)) == Error::ENXIO);
    CHECK(err(bcache_open("", 0)) == Error::EINVAL);
    CHECK(err(bcache_open(nullptr, 0)) == Error::EINVAL);
    CHECK(err(bcache_open("vdz", 4)) == Error::EINVAL);
    CHECK(err(bcache_open("a/b", 0)) == Error::ENXIO);
    CHECK(err(bcache_open("cdrom", kBlockOpenWrite)) == Error::EROFS);

    auto reader = bcache_open("/dev/vdz", 0);
    REQUIRE(reader.is_ok());
    auto second_reader = bcache_open("vdz", 0);
    REQUIRE(second_reader.is_ok());
    CHECK(err(bcache_open("vdz", kBlockOpenWrite)) == Error::EBUSY);
    CHECK(err(disk.unregister()) == Error::EBUSY);
    REQUIRE(bcache_close(reader.value()).is_ok());
    REQUIRE(bcache_close(second_reader.value()).is_ok());

    auto writer = bcache_open("vdz", kBlockOpenWrite);
    REQUIRE(writer.is_ok());
    CHECK(err(bcache_open("vdz", 0)) == Error::EBUSY);
    // A shared look (lsblk -f) beside the writer: read-only, and it cannot
    // change the block size under the writer.
    CHECK(err(bcache_open("vdz", kBlockOpenShared | kBlockOpenWrite)) == Error::EINVAL);
    auto look = bcache_open("vdz", kBlockOpenShared);
    REQUIRE(look.is_ok());
    CHECK_FALSE(bcache_info(*look.value()).writable);
    CHECK(err(bcache_set_block_size(*look.value(), 2048)) == Error::EBUSY);
    REQUIRE(bcache_close(look.value()).is_ok());
    BlockHandleInfo info = bcache_info(*writer.value());
    CHECK(std::string(info.name) == "vdz");
    CHECK(info.size == 64 * 1024);
    CHECK(info.sector_size == 512);
    CHECK(info.block_size == 1024);
    CHECK(info.writable);
    REQUIRE(bcache_close(writer.value()).is_ok());

    auto cd = bcache_open("cdrom", 0);
    REQUIRE(cd.is_ok());
    CHECK(bcache_info(*cd.value()).block_size == 2048); // the sector size when larger
    CHECK(err(bcache_set_block_size(*cd.value(), 1024)) == Error::EINVAL);
    CHECK(err(bcache_zero(*cd.value(), 0)) == Error::EROFS);
    REQUIRE(bcache_close(cd.value()).is_ok());

    BlockDevice bad {};
    memcpy(bad.name, "bad name", 9);
    bad.sector_size = 512;
    bad.sector_count = 1;
    Diagnostic problem;
    CHECK(err(block_device_register(bad, &problem)) == Error::EINVAL);
    CHECK(std::string(problem.message).find("bad name") != std::string::npos);
    memcpy(bad.name, "vdz", 4);
    bad.sector_size = 1000;
    CHECK(err(block_device_register(bad, &problem)) == Error::EINVAL);
    CHECK(std::string(problem.message).find("sector size 1000") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "reads are cached and writes reach the device at sync")
{
    TempImage image(64 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", kBlockOpenWrite).value();

    keel_buffer* block = bcache_read(*handle, 5).value();
    CHECK(block->block == 5);
    CHECK(block->size == 1024);
    CHECK(word_at(block, 0) == 5 * 1024);
    CHECK(word_at(block, 1020) == 5 * 1024 + 1020);
    size_t reads = disk.reads;
    keel_buffer* again = bcache_read(*handle, 5).value();
    CHECK(again == block);
    CHECK(disk.reads == reads);
    bcache_put(again);

    memcpy(block->data, "hello", 5);
    bcache_mark_dirty(block);
    bcache_put(block);
    CHECK(bcache_stats().dirty == 1);
    CHECK(image.read_all()[5 * 1024] == 0x00); // still only in memory

    keel_buffer* fresh = bcache_zero(*handle, 7).value();
    CHECK(word_at(fresh, 0) == 0);
    fresh->data[1] = 0x77;
    bcache_put(fresh);
    CHECK(disk.reads == reads); // zero does not read

    REQUIRE(bcache_sync(*handle).is_ok());
    CHECK(bcache_stats().dirty == 0);
    CHECK(disk.flushes == 1);
    auto bytes = image.read_all();
    CHECK(memcmp(&bytes[5 * 1024], "hello", 5) == 0);
    CHECK(bytes[7 * 1024] == 0);
    CHECK(bytes[7 * 1024 + 1] == 0x77);
    CHECK(bytes[7 * 1024 + 4] == 0);

    CHECK(err(bcache_read(*handle, 64)) == Error::EIO);
    REQUIRE(!bcache_test::logged().empty());
    CHECK(bcache_test::logged().back().find("vdz: block 64 is past the end") != std::string::npos);
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "close writes back; the block size can change while nothing is held")
{
    TempImage image(64 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", kBlockOpenWrite).value();
    keel_buffer* block = bcache_read(*handle, 1).value();
    block->data[0] = 0xab;
    bcache_mark_dirty(block);
    CHECK(err(bcache_set_block_size(*handle, 4096)) == Error::EBUSY); // held
    bcache_put(block);
    CHECK(err(bcache_set_block_size(*handle, 3000)) == Error::EINVAL);
    CHECK(err(bcache_set_block_size(*handle, 8192)) == Error::EINVAL);
    REQUIRE(bcache_set_block_size(*handle, 4096).is_ok());
    CHECK(bcache_stats().buffers == 0); // written back and dropped
    keel_buffer* big = bcache_read(*handle, 0).value();
    CHECK(big->size == 4096);
    CHECK(big->data[1024] == 0xab);
    CHECK(word_at(big, 2048) == 2048);
    big->data[4095] = 0xcd;
    bcache_mark_dirty(big);
    bcache_put(big);
    CHECK(err(bcache_read(*handle, 16)) == Error::EIO);
    REQUIRE(bcache_close(handle).is_ok());
    CHECK(image.read_all()[4095] == 0xcd);
}

TEST_CASE_METHOD(Fixture, "a failed read is reported and retried; a failed write keeps the block dirty")
{
    TempImage image(64 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", kBlockOpenWrite).value();

    disk.fail_read_sector = 6; // block 3 with 1 KiB blocks
    CHECK(err(bcache_read(*handle, 3)) == Error::EIO);
    CHECK(bcache_test::logged().back().find("reading block 3 failed") != std::string::npos);
    disk.fail_read_sector = UINT64_MAX;
    keel_buffer* block = bcache_read(*handle, 3).value();
    CHECK(word_at(block, 0) == 3 * 1024);
    block->data[0] = 0x11;
    bcache_mark_dirty(block);
    bcache_put(block);

    disk.fail_writes = true;
    CHECK(err(bcache_sync(*handle)) == Error::EIO);
    CHECK(bcache_test::logged().back().find("1 block(s) stay dirty") != std::string::npos);
    CHECK(bcache_stats().dirty == 1);
    // Under memory pressure the block is not dropped either.
    bcache_set_limit(0);
    CHECK(bcache_stats().buffers == 1);
    bcache_set_limit(64u << 20);
    disk.fail_writes = false;
    disk.fail_flush = true;
    CHECK(err(bcache_sync(*handle)) == Error::EIO); // the data is written, the flush failed
    CHECK(bcache_stats().dirty == 0);
    disk.fail_flush = false;
    REQUIRE(bcache_sync(*handle).is_ok());
    CHECK(image.read_all()[3 * 1024] == 0x11);
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "a device removed with blocks its writes failed for says they are lost")
{
    TempImage image(16 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", kBlockOpenWrite).value();
    keel_buffer* block = bcache_zero(*handle, 2).value();
    bcache_put(block);
    disk.fail_writes = true;
    CHECK(err(bcache_close(handle)) == Error::EIO);
    CHECK(bcache_stats().dirty == 1);
    REQUIRE(disk.unregister().is_ok());
    CHECK(bcache_test::logged().back().find("1 dirty block(s)") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "the size limit drops clean blocks and writes dirty ones back, never losing one")
{
    TempImage image(256 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", kBlockOpenWrite).value();
    bcache_set_limit(16 * 1024);
    for (uint64_t i = 0; i < 200; i++) {
        keel_buffer* block = bcache_read(*handle, i).value();
        REQUIRE(word_at(block, 0) == i * 1024);
        if (i % 2 == 0) {
            memcpy(block->data, &i, sizeof(i));
            bcache_mark_dirty(block);
        }
        bcache_put(block);
        CHECK(bcache_stats().bytes <= 16 * 1024 + 1024);
    }
    CHECK(bcache_stats().reclaimed > 150);
    CHECK(disk.writes >= 80); // written back under pressure, before any sync
    for (uint64_t i = 0; i < 200; i++) {
        keel_buffer* block = bcache_read(*handle, i).value();
        uint64_t value;
        memcpy(&value, block->data, sizeof(value));
        uint64_t expected = i % 2 == 0 ? i : ((uint64_t(i * 1024 + 4) << 32) | (i * 1024));
        CHECK(value == expected);
        bcache_put(block);
    }
    // Held blocks may take the cache over its limit.
    std::vector<keel_buffer*> held;
    for (uint64_t i = 0; i < 40; i++)
        held.push_back(bcache_read(*handle, i).value());
    CHECK(bcache_stats().held == 40);
    for (keel_buffer* block : held)
        bcache_put(block);
    CHECK(bcache_stats().bytes <= 16 * 1024);
    size_t freed = bcache_reclaim(SIZE_MAX);
    CHECK(freed > 0);
    CHECK(bcache_stats().bytes == 0);
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "read-ahead with completions that come later and out of order")
{
    TempImage image(128 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", 0).value();
    disk.deferred = true;
    uint64_t ahead = bcache_stats().readahead;
    bcache_readahead(*handle, 10, 20); // runs of 16 and 4 blocks: two requests
    CHECK(disk.pending_count() == 2);
    CHECK(bcache_stats().in_flight == 2);
    CHECK(bcache_stats().readahead - ahead == 20);
    bcache_readahead(*handle, 10, 20); // already cached (in flight): nothing new
    CHECK(disk.pending_count() == 2);
    bcache_readahead(*handle, 120, 1000); // clipped at the end (and at kReadaheadMax)
    CHECK(disk.pending_count() == 3);
    CHECK(bcache_stats().readahead - ahead == 28);
    disk.complete_pending(true);
    size_t reads = disk.reads;
    for (uint64_t i = 10; i < 30; i++) {
        keel_buffer* block = bcache_read(*handle, i).value();
        CHECK(word_at(block, 8) == i * 1024 + 8);
        bcache_put(block);
    }
    CHECK(disk.reads == reads);
    // A read that waits for its request: the wait completes it.
    size_t waits = bcache_test::waits();
    keel_buffer* block = bcache_read(*handle, 50).value();
    CHECK(bcache_test::waits() > waits);
    CHECK(word_at(block, 0) == 50 * 1024);
    bcache_put(block);
    // A read of a block whose read-ahead is still in flight waits for it.
    bcache_readahead(*handle, 60, 2);
    block = bcache_read(*handle, 61).value();
    CHECK(word_at(block, 0) == 61 * 1024);
    bcache_put(block);
    disk.deferred = false;
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "read-ahead reads runs of uncached blocks with one request each")
{
    TempImage image(512 * 1024); // 512 blocks of 1 KiB
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", 0).value();
    // Blocks 5 and 40 cached: the runs go around them, each a power of
    // two of at most kRunMaxBlocks blocks.
    bcache_put(bcache_read(*handle, 5).value());
    bcache_put(bcache_read(*handle, 40).value());
    disk.read_sectors.clear();
    bcache_readahead(*handle, 0, 100);
    // 0-4: 4 + 1; 6-39: 32 + 2; 41-99: 32 + 16 + 8 + 2 + 1 (in 512-byte sectors).
    CHECK(disk.read_sectors == std::vector<uint32_t> { 8, 2, 64, 4, 64, 32, 16, 4, 2 });
    size_t reads = disk.reads;
    for (uint64_t i = 0; i < 100; i++) {
        keel_buffer* block = bcache_read(*handle, i).value();
        CHECK(word_at(block, 0) == i * 1024);
        CHECK(word_at(block, 1020) == i * 1024 + 1020);
        bcache_put(block);
    }
    CHECK(disk.reads == reads);
    // A run's blocks share one allocation: dropping some keeps the rest
    // readable, and the last one frees it (the fixture checks).
    CHECK(bcache_reclaim(8 * 1024) >= 8 * 1024);
    for (uint64_t i = 0; i < 100; i++) {
        keel_buffer* block = bcache_read(*handle, i).value();
        CHECK(word_at(block, 4) == i * 1024 + 4);
        bcache_put(block);
    }
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "a failed read-ahead run fails only the block that cannot be read")
{
    TempImage image(128 * 1024);
    FileDevice disk("vdz", image.path);
    disk.fail_read_sector = 2 * 20 + 1; // in block 20, in the run of blocks 16-31
    BlockHandle* handle = bcache_open("vdz", 0).value();
    bcache_readahead(*handle, 16, 16);
    CHECK(disk.read_sectors == std::vector<uint32_t> { 32 });
    // Each block of the failed run is read again alone when asked for.
    keel_buffer* block = bcache_read(*handle, 19).value();
    CHECK(word_at(block, 0) == 19 * 1024);
    bcache_put(block);
    CHECK(bcache_read(*handle, 20).error() == Error::EIO);
    block = bcache_read(*handle, 21).value();
    CHECK(word_at(block, 0) == 21 * 1024);
    bcache_put(block);
    CHECK(disk.read_sectors == std::vector<uint32_t> { 32, 2, 2, 2 });
    // The device failed a run: it reads ahead a block per request since.
    bcache_readahead(*handle, 40, 4);
    CHECK(disk.read_sectors == std::vector<uint32_t> { 32, 2, 2, 2, 2, 2, 2, 2 });
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "a run's memory goes with its last block, and reclaim says what it freed")
{
    TempImage image(128 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", 0).value();
    bcache_readahead(*handle, 0, 32); // one run of 32 KiB
    long allocations = host_platform_stats().allocations;
    keel_buffer* kept = bcache_read(*handle, 7).value();
    // 31 blocks dropped, but the run's memory stays with block 7.
    CHECK(bcache_reclaim(SIZE_MAX) == 0);
    CHECK(bcache_stats().buffers == 1);
    CHECK(host_platform_stats().allocations == allocations - 31);
    CHECK(word_at(kept, 0) == 7 * 1024);
    bcache_put(kept);
    CHECK(bcache_reclaim(SIZE_MAX) == 32 * 1024);
    // Evicting one block of a run takes its idle siblings with it.
    bcache_readahead(*handle, 32, 32);
    CHECK(bcache_reclaim(1) == 32 * 1024);
    CHECK(bcache_stats().buffers == 0);
    // Under a tight limit, read-ahead makes shorter runs rather than none.
    bcache_set_limit(8 * 1024);
    disk.read_sectors.clear();
    bcache_readahead(*handle, 64, 32);
    CHECK(!disk.read_sectors.empty());
    CHECK(disk.read_sectors[0] == 16); // 8 blocks of 1 KiB
    bcache_set_limit(64u << 20);
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "the last close waits for read-ahead in flight")
{
    TempImage image(128 * 1024);
    auto disk = std::make_unique<FileDevice>("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", 0).value();
    disk->deferred = true;
    bcache_readahead(*handle, 0, 64);
    CHECK(disk->pending_count() == 2);
    REQUIRE(bcache_close(handle).is_ok()); // read-only: no sync, but the wait
    CHECK(disk->pending_count() == 0);
    CHECK(bcache_stats().in_flight == 0);
    CHECK(disk->unregister().is_ok()); // would stop at a request still in flight
}

TEST_CASE_METHOD(Fixture, "a block size change waits for read-ahead in flight and leaves none of it behind")
{
    TempImage image(128 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", 0).value();
    disk.deferred = true;
    bcache_readahead(*handle, 0, 64); // 1 KiB blocks, two runs in flight
    CHECK(disk.pending_count() == 2);
    REQUIRE(bcache_set_block_size(*handle, 4096).is_ok()); // the wait completes them
    CHECK(disk.pending_count() == 0);
    disk.deferred = false;
    for (uint64_t i = 0; i < 32; i++) {
        keel_buffer* block = bcache_read(*handle, i).value();
        CHECK(block->size == 4096);
        CHECK(word_at(block, 0) == i * 4096);
        CHECK(word_at(block, 4092) == i * 4096 + 4092);
        bcache_put(block);
    }
    REQUIRE(bcache_close(handle).is_ok());
}

namespace {
keel_buffer* g_redirty_target;
void redirty_during_write(BlockRequest& request, void*)
{
    if (request.op == BlockOp::Write && g_redirty_target) {
        g_redirty_target->data[0] = 0x99;
        bcache_mark_dirty(g_redirty_target);
        g_redirty_target = nullptr;
    }
}
} // namespace

TEST_CASE_METHOD(Fixture, "a block changed while its write is in flight stays dirty")
{
    TempImage image(16 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", kBlockOpenWrite).value();
    keel_buffer* block = bcache_read(*handle, 1).value();
    block->data[0] = 0x42;
    bcache_mark_dirty(block);
    disk.deferred = true;
    disk.before_complete = redirty_during_write;
    g_redirty_target = block;
    REQUIRE(bcache_sync(*handle).is_ok());
    CHECK(bcache_stats().dirty == 1); // written again by the next sync
    disk.deferred = false;
    disk.before_complete = nullptr;
    REQUIRE(bcache_sync(*handle).is_ok());
    CHECK(bcache_stats().dirty == 0);
    CHECK(image.read_all()[1024] == 0x99);
    bcache_put(block);
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "a dirty mark on a handle opened for reading is refused")
{
    TempImage image(16 * 1024);
    FileDevice disk("vdz", image.path);
    BlockHandle* handle = bcache_open("vdz", 0).value();
    keel_buffer* block = bcache_read(*handle, 1).value();
    bcache_mark_dirty(block);
    CHECK(bcache_stats().dirty == 0);
    CHECK(bcache_test::logged().back().find("not open for writing") != std::string::npos);
    bcache_put(block);
    REQUIRE(bcache_close(handle).is_ok());
}

TEST_CASE_METHOD(Fixture, "sync_all writes every open device; allocation failures are ENOMEM")
{
    TempImage first(16 * 1024), second(16 * 1024);
    FileDevice a("vda", first.path), b("vdb", second.path);
    BlockHandle* ha = bcache_open("vda", kBlockOpenWrite).value();
    BlockHandle* hb = bcache_open("vdb", kBlockOpenWrite).value();
    bcache_put(bcache_zero(*ha, 1).value());
    bcache_put(bcache_zero(*hb, 2).value());
    CHECK(bcache_stats().dirty == 2);
    REQUIRE(bcache_sync_all().is_ok());
    CHECK(bcache_stats().dirty == 0);
    CHECK(a.writes == 1);
    CHECK(b.writes == 1);

    host_platform_stats().fail_allocations_after = 0;
    CHECK(err(bcache_read(*ha, 3)) == Error::ENOMEM);
    host_platform_stats().fail_allocations_after = -1;
    REQUIRE(bcache_close(ha).is_ok());
    REQUIRE(bcache_close(hb).is_ok());
}

TEST_CASE_METHOD(Fixture, "RAM disks")
{
    Diagnostic problem;
    CHECK(err(ramdisk_create("ram0", 0, false, &problem)) == Error::EINVAL);
    BlockDevice* disk = ramdisk_create("ram0", 100 * 1024, false).value();
    CHECK(err(ramdisk_create("ram0", 1024, false)) == Error::EEXIST);
    BlockHandle* handle = bcache_open("ram0", kBlockOpenWrite).value();
    keel_buffer* block = bcache_zero(*handle, 99).value();
    memset(block->data, 0x5a, block->size);
    bcache_put(block);
    CHECK(err(ramdisk_destroy("ram0")) == Error::EBUSY);
    REQUIRE(bcache_close(handle).is_ok());
    CHECK(ramdisk_data(*disk)[99 * 1024 + 10] == 0x5a);
    CHECK(err(ramdisk_destroy("ram1")) == Error::ENOENT);
    REQUIRE(ramdisk_destroy("ram0").is_ok());
}
