// virtio_blk's geometry from its configuration and the chains it builds
// (modules/virtio_blk/request.c): capacity and sector size, SEG_MAX and
// SIZE_MAX bounding the segments and with them the queue depth, the header
// bytes, data cut at size_max, which segments the device reads and which
// it writes, and what the device cannot take.
#include <catch2/catch.hpp>
#include <string.h>

#include <string>
#include <vector>

#include "request.h"

namespace {

struct Config {
    uint8_t bytes[VIRTIO_BLK_CONFIG_LENGTH] = {};
    void put32(size_t at, uint32_t value)
    {
        for (int i = 0; i < 4; i++)
            bytes[at + i] = uint8_t(value >> (8 * i));
    }
    void put64(size_t at, uint64_t value)
    {
        put32(at, uint32_t(value));
        put32(at + 4, uint32_t(value >> 32));
    }
};

uint64_t bit(unsigned n) { return uint64_t(1) << n; }

uint64_t le64(const uint8_t* at)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | at[i];
    return value;
}

vblk_geometry geometry_of(const Config& config, uint64_t features, uint32_t queue_size)
{
    vblk_geometry geometry {};
    const char* problem = "";
    REQUIRE(vblk_geometry_from_config(config.bytes, features, queue_size, &geometry, &problem) == 0);
    return geometry;
}

std::string refusal_of(const Config& config, uint64_t features, uint32_t queue_size)
{
    vblk_geometry geometry {};
    const char* problem = "";
    int status = vblk_geometry_from_config(config.bytes, features, queue_size, &geometry, &problem);
    CHECK(status == -KEEL_EINVAL);
    return problem;
}

} // namespace

TEST_CASE("geometry: QEMU's default disk")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 16384);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 254);
    config.put32(VIRTIO_BLK_CONFIG_BLK_SIZE, 512);
    vblk_geometry g = geometry_of(config, bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE), 256);
    CHECK(g.sector_size == 512);
    CHECK(g.sector_count == 16384);
    CHECK(g.segments == 1); // no SIZE_MAX: one segment of any length
    CHECK(g.queue_depth == 85);
    CHECK(g.size_max == 0);
    CHECK(g.max_sectors == 0x80000000u / 512); // one descriptor's 2 GiB
}

TEST_CASE("geometry: a 4096-byte logical sector")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 16384);
    config.put32(VIRTIO_BLK_CONFIG_BLK_SIZE, 4096);
    vblk_geometry g = geometry_of(config, bit(VIRTIO_BLK_F_BLK_SIZE), 128);
    CHECK(g.sector_size == 4096);
    CHECK(g.sector_count == 2048);
    // Without F_BLK_SIZE the field is not looked at.
    CHECK(geometry_of(config, 0, 128).sector_size == 512);
    // A size the block layer cannot take leaves 512.
    config.put32(VIRTIO_BLK_CONFIG_BLK_SIZE, 520);
    CHECK(geometry_of(config, bit(VIRTIO_BLK_F_BLK_SIZE), 128).sector_size == 512);
}

TEST_CASE("geometry: SIZE_MAX and SEG_MAX bound the segments and the depth")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 1 << 20);
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 65536);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 16);
    vblk_geometry g = geometry_of(config, bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX), 256);
    CHECK(g.size_max == 65536);
    CHECK(g.segments == 16);
    CHECK(g.queue_depth == 256 / 18);
    CHECK(g.max_sectors == 16 * 65536 / 512); // the block layer cuts longer requests
    // Without SEG_MAX, size_max alone: 4 MiB / 64 KiB, capped by the ring.
    g = geometry_of(config, bit(VIRTIO_BLK_F_SIZE_MAX), 32);
    CHECK(g.segments == 30);
    CHECK(g.queue_depth == 1);
    CHECK(g.max_sectors == 30 * 65536 / 512);
    // A size_max near 4 GiB: one segment (the arithmetic must not wrap to none).
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 0xffffffff);
    g = geometry_of(config, bit(VIRTIO_BLK_F_SIZE_MAX), 256);
    CHECK(g.segments == 1);
    CHECK(g.queue_depth == 85);
    CHECK(g.max_sectors == 0xffffffffu / 512);
    // One sector per segment and one segment: a sector per request.
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 512);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 1);
    CHECK(geometry_of(config, bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX), 256).max_sectors == 1);
}

TEST_CASE("geometry: with indirect descriptors a request takes one ring descriptor")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 16384);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 254);
    uint64_t features = bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_F_INDIRECT_DESC);
    vblk_geometry g = geometry_of(config, features, 256);
    CHECK(g.segments == 1);
    CHECK(g.queue_depth == 256); // 85 without
    // Several segments that fit a table beside the header and status.
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 4096);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, VBLK_INDIRECT_MAX - 2);
    features |= bit(VIRTIO_BLK_F_SIZE_MAX);
    g = geometry_of(config, features, 128);
    CHECK(g.segments == VBLK_INDIRECT_MAX - 2);
    CHECK(g.queue_depth == 128);
    // Requests that need more than a table holds go into the ring directly,
    // rather than being cut short.
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 254);
    g = geometry_of(config, features, 128);
    CHECK(g.segments == 126);
    CHECK(g.queue_depth == 1);
    // One segment of any length: the depth is still capped, and a queue of
    // one descriptor is enough.
    Config plain;
    plain.put64(VIRTIO_BLK_CONFIG_CAPACITY, 16384);
    CHECK(geometry_of(plain, bit(VIRTIO_F_INDIRECT_DESC), 4096).queue_depth == 1024);
    CHECK(geometry_of(plain, bit(VIRTIO_F_INDIRECT_DESC), 1).queue_depth == 1);
    CHECK(refusal_of(plain, 0, 1) == "the queue holds fewer than the 3 descriptors of one request");
}

TEST_CASE("geometry: what a device cannot say")
{
    Config config;
    CHECK(refusal_of(config, 0, 128) == "capacity is less than one sector");
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 7);
    config.put32(VIRTIO_BLK_CONFIG_BLK_SIZE, 4096);
    CHECK(refusal_of(config, bit(VIRTIO_BLK_F_BLK_SIZE), 128) == "capacity is less than one sector");
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 100);
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 100);
    CHECK(refusal_of(config, bit(VIRTIO_BLK_F_SIZE_MAX), 128) == "size_max is below 512 bytes");
    // 4096-byte sectors in one segment of 2048 bytes: no request can carry one.
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 1 << 20);
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 2048);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 1);
    CHECK(refusal_of(config, bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE), 128)
        == "size_max and seg_max leave less than one sector per request");
    CHECK(refusal_of(config, 0, 2) == "the queue holds fewer than the 3 descriptors of one request");
}

namespace {

struct Chain {
    uint8_t header[VIRTIO_BLK_HEADER_SIZE];
    std::vector<keel_virtio_segment> segments;
    uint32_t out = 0;
    uint32_t in = 0;
    int status = 0;
};

Chain build(const vblk_geometry& geometry, uint32_t op, uint64_t sector, uint32_t sectors)
{
    Chain chain;
    memset(chain.header, 0xcc, sizeof(chain.header));
    chain.segments.resize(geometry.segments + 2);
    keel_block_request request {};
    request.op = op;
    request.sector = sector;
    request.sectors = sectors;
    request.dma = 0x100000;
    chain.status = vblk_build_request(
        &geometry, &request, chain.header, 0x5000, 0x5010, chain.segments.data(), &chain.out, &chain.in);
    chain.segments.resize(chain.status == 0 ? chain.out + chain.in : 0);
    return chain;
}

} // namespace

TEST_CASE("requests: header, data and status")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 1 << 20);
    vblk_geometry g = geometry_of(config, 0, 128);

    Chain read = build(g, KEEL_BLOCK_READ, 0x123456789, 8);
    REQUIRE(read.status == 0);
    CHECK(le64(read.header) == VIRTIO_BLK_T_IN);
    CHECK(le64(read.header + 8) == 0x123456789);
    REQUIRE(read.segments.size() == 3);
    CHECK(read.out == 1);
    CHECK(read.in == 2); // the data and the status are the device's to write
    CHECK(read.segments[0].dma == 0x5000);
    CHECK(read.segments[0].length == 16);
    CHECK(read.segments[1].dma == 0x100000);
    CHECK(read.segments[1].length == 4096);
    CHECK(read.segments[2].dma == 0x5010);
    CHECK(read.segments[2].length == 1);

    Chain write = build(g, KEEL_BLOCK_WRITE, 7, 1);
    REQUIRE(write.status == 0);
    CHECK(le64(write.header) == VIRTIO_BLK_T_OUT);
    CHECK(write.out == 2); // the header and the data are read by the device
    CHECK(write.in == 1);

    Chain flush = build(g, KEEL_BLOCK_FLUSH, 99, 0);
    REQUIRE(flush.status == 0);
    CHECK(le64(flush.header) == VIRTIO_BLK_T_FLUSH);
    CHECK(le64(flush.header + 8) == 0);
    CHECK(flush.segments.size() == 2);
    CHECK(flush.out == 1);
    CHECK(flush.in == 1);

    CHECK(build(g, 7, 0, 1).status == -KEEL_EINVAL);
}

TEST_CASE("requests: 4096-byte sectors are addressed in 512-byte units")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 1 << 20);
    config.put32(VIRTIO_BLK_CONFIG_BLK_SIZE, 4096);
    vblk_geometry g = geometry_of(config, bit(VIRTIO_BLK_F_BLK_SIZE), 128);
    Chain read = build(g, KEEL_BLOCK_READ, 10, 2);
    REQUIRE(read.status == 0);
    CHECK(le64(read.header + 8) == 80);
    CHECK(read.segments[1].length == 8192);
}

TEST_CASE("requests: data cut at size_max, refused past seg_max")
{
    Config config;
    config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 1 << 20);
    config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, 4096);
    config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, 4);
    vblk_geometry g = geometry_of(config, bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX), 128);
    Chain read = build(g, KEEL_BLOCK_READ, 0, 15); // 7680 bytes: 4096 + 3584
    REQUIRE(read.status == 0);
    REQUIRE(read.segments.size() == 4);
    CHECK(read.segments[1].dma == 0x100000);
    CHECK(read.segments[1].length == 4096);
    CHECK(read.segments[2].dma == 0x101000);
    CHECK(read.segments[2].length == 3584);
    Chain largest = build(g, KEEL_BLOCK_WRITE, 0, 32); // 16 KiB: exactly 4 segments
    REQUIRE(largest.status == 0);
    CHECK(largest.segments.size() == 6);
    CHECK(largest.out == 5);
    CHECK(build(g, KEEL_BLOCK_READ, 0, 33).status == -KEEL_EINVAL);
    CHECK(build(g, KEEL_BLOCK_READ, 0, 0).status == -KEEL_EINVAL);
}

TEST_CASE("requests: max_sectors is exactly what a request can carry")
{
    // For each geometry the block layer's pieces of max_sectors build, and
    // one sector more does not: the limit is the device's, not a guess.
    struct Case {
        uint32_t size_max;
        uint32_t seg_max;
        uint32_t sector_size;
    };
    for (Case c : { Case { 65536, 16, 512 }, Case { 4096, 3, 512 }, Case { 1000, 5, 512 }, Case { 1000, 9, 4096 },
             Case { 512, 1, 512 }, Case { 3000, 2, 1024 } }) {
        Config config;
        config.put64(VIRTIO_BLK_CONFIG_CAPACITY, 1 << 20);
        config.put32(VIRTIO_BLK_CONFIG_SIZE_MAX, c.size_max);
        config.put32(VIRTIO_BLK_CONFIG_SEG_MAX, c.seg_max);
        config.put32(VIRTIO_BLK_CONFIG_BLK_SIZE, c.sector_size);
        vblk_geometry g = geometry_of(
            config, bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE), 256);
        INFO("size_max " << c.size_max << ", seg_max " << c.seg_max << ", sectors of " << c.sector_size);
        REQUIRE(g.max_sectors >= 1);
        CHECK(build(g, KEEL_BLOCK_READ, 0, g.max_sectors).status == 0);
        CHECK(build(g, KEEL_BLOCK_READ, 0, g.max_sectors + 1).status == -KEEL_EINVAL);
    }
}
