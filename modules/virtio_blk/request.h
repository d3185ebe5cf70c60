/*
 * virtio_blk's requests ("Block Device": struct virtio_blk_req): the
 * device-readable header, the data in segments no longer than the device's
 * size_max, and the status byte the device writes. Pure: builds for the
 * host too (tests/unit/virtio_blk).
 */
#ifndef VIRTIO_BLK_REQUEST_H
#define VIRTIO_BLK_REQUEST_H

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
/* A transport bit: the core (KABI_VIRTIO_1.1) grants it when asked and
 * then carries each chain of 2 to VBLK_INDIRECT_MAX segments in an
 * indirect table, in one ring descriptor. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VBLK_INDIRECT_MAX 16

/* struct virtio_blk_config offsets. */
#define VIRTIO_BLK_CONFIG_CAPACITY 0
#define VIRTIO_BLK_CONFIG_SIZE_MAX 8
#define VIRTIO_BLK_CONFIG_SEG_MAX 12
#define VIRTIO_BLK_CONFIG_BLK_SIZE 20
#define VIRTIO_BLK_CONFIG_LENGTH 24

/* Request types and status values. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* le32 type, le32 reserved, le64 sector (always 512-byte units). */
#define VIRTIO_BLK_HEADER_SIZE 16

/* What the device said about itself, and what follows for the disk. */
/* NOLINTNEXTLINE(readability-identifier-naming): a C module's struct, named as C modules name theirs */
struct vblk_geometry {
    uint64_t features;
    uint64_t capacity;     /* 512-byte sectors */
    uint32_t size_max;     /* bytes per data segment; 0: no limit */
    uint32_t seg_max;      /* data segments per request; 0: no limit */
    uint32_t sector_size;  /* the disk's logical sector: 512 .. 4096 */
    uint64_t sector_count; /* in sector_size units */
    uint32_t segments;     /* the most data segments one request may take */
    uint32_t max_sectors;  /* so the most sectors one request may carry; 0: any number */
    uint32_t queue_depth;  /* requests in flight, so none ever lacks descriptors */
};

/*
 * From the configuration bytes (VIRTIO_BLK_CONFIG_LENGTH, little-endian),
 * the accepted features and the queue's size. Returns 0, or -KEEL_EINVAL
 * with `*problem` naming what the device said wrong (a capacity of 0 or
 * less than one logical sector, a queue too small for one request, segments
 * too short to carry one sector).
 */
int vblk_geometry_from_config(
    const uint8_t* config, uint64_t features, uint32_t queue_size, struct vblk_geometry* out, const char** problem);

/*
 * The chain for `request` (op, sector in sector_size units, sectors, dma):
 * the header (written into `header`, at `header_dma`), the data segments
 * (out for a write, in for a read) and the status byte at `status_dma`.
 * `segments` has room for geometry->segments + 2. Returns 0, or
 * -KEEL_EINVAL for a request the device cannot take (more data segments
 * than it allows, an unknown op).
 */
int vblk_build_request(const struct vblk_geometry* geometry, const keel_block_request* request, uint8_t* header,
    uint64_t header_dma, uint64_t status_dma, keel_virtio_segment* segments, uint32_t* out_count, uint32_t* in_count);

#ifdef __cplusplus
}
#endif

#endif
