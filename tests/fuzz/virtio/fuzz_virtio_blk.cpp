// virtio_blk's reading of a device's configuration and its request chains
// (modules/virtio_blk/request.c) over arbitrary bytes: the configuration
// space, the offered features and the ring size are the device's to
// choose. Oracles: an accepted geometry never lets the requests in flight
// need more descriptors than the ring holds (one each when they fit an
// indirect table and indirect descriptors were negotiated), and every chain it builds
// covers exactly the request's bytes, in segments no longer than size_max
// and no more of them than allowed, header first and status last.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < VIRTIO_BLK_CONFIG_LENGTH + 8 + 2 + 16)
        return 0;
    const uint8_t* config = data;
    uint64_t features;
    memcpy(&features, data + VIRTIO_BLK_CONFIG_LENGTH, 8);
    uint16_t queue_size;
    memcpy(&queue_size, data + VIRTIO_BLK_CONFIG_LENGTH + 8, 2);
    const uint8_t* rest = data + VIRTIO_BLK_CONFIG_LENGTH + 10;
    size_t left = size - (VIRTIO_BLK_CONFIG_LENGTH + 10);

    vblk_geometry geometry {};
    const char* problem = nullptr;
    if (vblk_geometry_from_config(config, features, queue_size, &geometry, &problem) != 0) {
        if (!problem || !*problem)
            abort(); // a refusal says why
        return 0;
    }
    if (geometry.queue_depth == 0 || geometry.segments == 0 || geometry.sector_count == 0)
        abort();
    // A chain that fits an indirect table takes one ring descriptor when
    // indirect descriptors were negotiated (the core's queues do so); any
    // other takes one per segment.
    bool indirect = ((features >> VIRTIO_F_INDIRECT_DESC) & 1) && geometry.segments + 2 <= VBLK_INDIRECT_MAX;
    if (uint64_t(geometry.queue_depth) * (indirect ? 1 : geometry.segments + 2) > queue_size)
        abort();
    if (geometry.sector_size != 512 && geometry.sector_size != 1024 && geometry.sector_size != 2048
        && geometry.sector_size != 4096)
        abort();

    keel_virtio_segment* segments = new keel_virtio_segment[geometry.segments + 2];
    while (left >= 16) {
        keel_block_request request {};
        uint32_t op;
        memcpy(&op, rest, 4);
        request.op = op % 4;
        memcpy(&request.sectors, rest + 4, 4);
        request.sectors %= 1u << 14; // up to 8 MiB of 512-byte sectors
        memcpy(&request.sector, rest + 8, 8);
        request.sector %= geometry.sector_count;
        request.dma = 0x100000;
        rest += 16;
        left -= 16;
        uint8_t header[VIRTIO_BLK_HEADER_SIZE];
        uint32_t out = 0, in = 0;
        if (vblk_build_request(&geometry, &request, header, 0x1000, 0x1010, segments, &out, &in) != 0)
            continue;
        uint32_t n = out + in;
        if (n < 2 || n > geometry.segments + 2 || out == 0 || in == 0)
            abort();
        if (segments[0].dma != 0x1000 || segments[0].length != VIRTIO_BLK_HEADER_SIZE)
            abort();
        if (segments[n - 1].dma != 0x1010 || segments[n - 1].length != 1)
            abort();
        uint64_t covered = 0;
        for (uint32_t i = 1; i + 1 < n; i++) {
            if (segments[i].dma != request.dma + covered || segments[i].length == 0)
                abort();
            if (geometry.size_max && segments[i].length > geometry.size_max)
                abort();
            covered += segments[i].length;
        }
        uint64_t expected = request.op == KEEL_BLOCK_FLUSH ? 0 : uint64_t(request.sectors) * geometry.sector_size;
        if (covered != expected || (request.op == KEEL_BLOCK_WRITE ? in != 1 : out != 1))
            abort();
    }
    delete[] segments;
    return 0;
}
