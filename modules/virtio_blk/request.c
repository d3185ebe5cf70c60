/* virtio_blk's request chains and its geometry (request.h). */
#include "request.h"

static uint32_t get_le32(const uint8_t* at)
{
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static uint64_t get_le64(const uint8_t* at) { return (uint64_t)get_le32(at) | (uint64_t)get_le32(at + 4) << 32; }

static void put_le32(uint8_t* at, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(value >> (8 * i));
}

static void put_le64(uint8_t* at, uint64_t value)
{
    put_le32(at, (uint32_t)value);
    put_le32(at + 4, (uint32_t)(value >> 32));
}

static int has(uint64_t features, unsigned bit) { return (int)((features >> bit) & 1); }

/* The largest request the block layer hands a driver is well below this;
 * with size_max it bounds the segments one request needs. */
#define VBLK_MAX_REQUEST_BYTES (4u << 20)
/* The longest segment without SIZE_MAX: a descriptor's length is 32 bits. */
#define VBLK_SEGMENT_MAX 0x80000000u

int vblk_geometry_from_config(
    const uint8_t* config, uint64_t features, uint32_t queue_size, struct vblk_geometry* out, const char** problem)
{
    struct vblk_geometry g = { 0 };
    g.features = features;
    g.capacity = get_le64(config + VIRTIO_BLK_CONFIG_CAPACITY);
    g.size_max = has(features, VIRTIO_BLK_F_SIZE_MAX) ? get_le32(config + VIRTIO_BLK_CONFIG_SIZE_MAX) : 0;
    g.seg_max = has(features, VIRTIO_BLK_F_SEG_MAX) ? get_le32(config + VIRTIO_BLK_CONFIG_SEG_MAX) : 0;
    g.sector_size = 512;
    if (has(features, VIRTIO_BLK_F_BLK_SIZE)) {
        uint32_t blk_size = get_le32(config + VIRTIO_BLK_CONFIG_BLK_SIZE);
        /* Other sizes are the device's business; the disk stays at 512. */
        if (blk_size == 1024 || blk_size == 2048 || blk_size == 4096)
            g.sector_size = blk_size;
    }
    g.sector_count = g.capacity / (g.sector_size / 512);
    if (g.sector_count == 0) {
        *problem = "capacity is less than one sector";
        return -KEEL_EINVAL;
    }
    /* A segment of at least one sector, else size_max means nothing usable. */
    if (g.size_max != 0 && g.size_max < 512) {
        *problem = "size_max is below 512 bytes";
        return -KEEL_EINVAL;
    }
    uint32_t segments = 1;
    if (g.size_max) /* in 64 bits: a size_max near 4 GiB must not wrap to 0 segments */
        segments = (uint32_t)(((uint64_t)VBLK_MAX_REQUEST_BYTES + g.size_max - 1) / g.size_max);
    if (g.seg_max && segments > g.seg_max)
        segments = g.seg_max;
    /* With indirect descriptors a request (header, data, status) that fits
     * a table takes one ring descriptor: as many in flight as the ring
     * holds. Otherwise (no indirect descriptors, or requests that need more
     * segments than a table holds) every segment takes one. */
    int indirect = has(features, VIRTIO_F_INDIRECT_DESC) && segments <= VBLK_INDIRECT_MAX - 2;
    uint32_t chain_max = indirect ? VBLK_INDIRECT_MAX : queue_size;
    if (queue_size < (indirect ? 1u : 3u)) {
        *problem = "the queue holds fewer than the 3 descriptors of one request";
        return -KEEL_EINVAL;
    }
    if (segments > chain_max - 2)
        segments = chain_max - 2;
    g.segments = segments;
    /* The disk's max_sectors: whole sectors in `segments` of size_max each
     * (without SIZE_MAX, of a descriptor's 2 GiB: vblk_build_request). */
    uint64_t most = (uint64_t)segments * (g.size_max ? g.size_max : VBLK_SEGMENT_MAX) / g.sector_size;
    if (most == 0) {
        *problem = "size_max and seg_max leave less than one sector per request";
        return -KEEL_EINVAL;
    }
    g.max_sectors = most > 0xffffffffu ? 0xffffffffu : (uint32_t)most;
    g.queue_depth = indirect ? queue_size : queue_size / (segments + 2);
    if (g.queue_depth > 1024)
        g.queue_depth = 1024;
    *out = g;
    return 0;
}

int vblk_build_request(const struct vblk_geometry* geometry, const keel_block_request* request, uint8_t* header,
    uint64_t header_dma, uint64_t status_dma, keel_virtio_segment* segments, uint32_t* out_count, uint32_t* in_count)
{
    uint32_t type;
    switch (request->op) {
    case KEEL_BLOCK_READ: type = VIRTIO_BLK_T_IN; break;
    case KEEL_BLOCK_WRITE: type = VIRTIO_BLK_T_OUT; break;
    case KEEL_BLOCK_FLUSH: type = VIRTIO_BLK_T_FLUSH; break;
    default: return -KEEL_EINVAL;
    }
    put_le32(header, type);
    put_le32(header + 4, 0);
    put_le64(header + 8, request->op == KEEL_BLOCK_FLUSH ? 0 : request->sector * (geometry->sector_size / 512));
    uint32_t n = 0;
    segments[n++] = (keel_virtio_segment) { header_dma, VIRTIO_BLK_HEADER_SIZE, 0 };
    if (request->op != KEEL_BLOCK_FLUSH) {
        uint64_t bytes = (uint64_t)request->sectors * geometry->sector_size;
        uint64_t chunk = geometry->size_max ? geometry->size_max : VBLK_SEGMENT_MAX;
        if (bytes == 0 || (bytes + chunk - 1) / chunk > geometry->segments)
            return -KEEL_EINVAL;
        for (uint64_t done = 0; done < bytes; done += chunk) {
            uint64_t length = bytes - done < chunk ? bytes - done : chunk;
            segments[n++] = (keel_virtio_segment) { request->dma + done, (uint32_t)length, 0 };
        }
    }
    segments[n++] = (keel_virtio_segment) { status_dma, 1, 0 };
    /* A write's data is device-readable, with the header; a read's is written. */
    *out_count = request->op == KEEL_BLOCK_WRITE ? n - 1 : 1;
    *in_count = n - *out_count;
    return 0;
}
