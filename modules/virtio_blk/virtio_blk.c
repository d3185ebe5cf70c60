/*
 * virtio_blk: a disk on the block layer (vda, vdb, ...) for each virtio
 * block device. One request queue; a request is a chain of a header, its
 * data and a status byte, and completes from the queue's interrupt.
 * Honours VIRTIO_BLK_F_RO (a read-only disk), F_FLUSH (flushes reach the
 * device; without it the device has no write cache and a flush completes
 * at once), F_BLK_SIZE (the disk's sector size), F_SEG_MAX and F_SIZE_MAX
 * (how data is cut into segments); the queue depth follows the ring.
 */
#include <keel/device.h>
#include <keel/module.h>

#include "request.h"

KEEL_MODULE_NAME("virtio_blk");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("virtio block devices as disks");
KEEL_MODULE_VERSION("1.0");

KEEL_DEVICE_TABLE(virtio, virtio_blk_ids, KEEL_VIRTIO_DEVICE(KEEL_VIRTIO_ID_BLOCK));

/* Each slot's header and status byte share 32 bytes of coherent memory. */
#define VBLK_SLOT_BYTES 32
#define VBLK_STATUS_OFFSET 16

struct vblk_slot {
    keel_block_request* request;
    struct vblk_slot* next_free;
};

struct vblk {
    keel_device* device;
    keel_virtqueue* queue;
    keel_dma_buffer* headers;
    struct vblk_slot* slots;
    struct vblk_slot* free_slots;  /* under lock */
    keel_virtio_segment* segments; /* submit's scratch chain, under lock */
    keel_spinlock lock;            /* the queue, the free slots, the scratch chain, broken */
    int broken;                    /* the device broke the queue: every request fails */
    struct vblk_geometry geometry;
    keel_disk* disk;
};

static uint8_t* slot_header(struct vblk* blk, struct vblk_slot* slot)
{
    return (uint8_t*)blk->headers->cpu + (size_t)(slot - blk->slots) * VBLK_SLOT_BYTES;
}

static uint64_t slot_dma(struct vblk* blk, struct vblk_slot* slot)
{
    return blk->headers->dma + (uint64_t)(slot - blk->slots) * VBLK_SLOT_BYTES;
}

static void vblk_submit(void* context, keel_block_request* request)
{
    struct vblk* blk = context;
    if (request->op == KEEL_BLOCK_FLUSH && !(blk->geometry.features & (1ull << VIRTIO_BLK_F_FLUSH))) {
        keel_disk_complete(request, 0); /* no write cache: writes are durable when they complete */
        return;
    }
    uint64_t flags = keel_spin_lock(&blk->lock);
    struct vblk_slot* slot = blk->free_slots;
    if (!slot || blk->broken) {
        /* The block layer keeps at most queue_depth requests here. */
        keel_spin_unlock(&blk->lock, flags);
        keel_disk_complete(request, -KEEL_EIO);
        return;
    }
    uint32_t out_count = 0;
    uint32_t in_count = 0;
    uint64_t header_dma = slot_dma(blk, slot);
    int status = vblk_build_request(&blk->geometry, request, slot_header(blk, slot), header_dma,
        header_dma + VBLK_STATUS_OFFSET, blk->segments, &out_count, &in_count);
    if (status == 0) {
        slot_header(blk, slot)[VBLK_STATUS_OFFSET] = 0xff; /* not written yet */
        status = keel_virtqueue_add(blk->queue, blk->segments, out_count, in_count, slot);
    }
    if (status == 0) {
        blk->free_slots = slot->next_free;
        slot->request = request;
        keel_virtqueue_kick(blk->queue);
    }
    keel_spin_unlock(&blk->lock, flags);
    if (status != 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_blk: %s: request at sector %llu (%u sectors) not queued: %d",
            keel_disk_name(blk->disk), (unsigned long long)request->sector, request->sectors, status);
        keel_disk_complete(request, -KEEL_EIO);
    }
}

/* The device broke the queue's protocol (the core logged how): it is
 * reset, so it touches no buffer any more, and every request it held fails
 * rather than waiting forever; later ones fail at once. Called with the
 * lock held; completes outside it. */
static void vblk_fail_all(struct vblk* blk, uint64_t flags)
{
    blk->broken = 1;
    keel_spin_unlock(&blk->lock, flags);
    keel_virtio_reset(blk->device);
    keel_logf(KEEL_LOG_ERR, "virtio_blk: %s: the device broke its queue; it is reset and its requests fail",
        keel_device_name(blk->device));
    for (uint32_t i = 0; i < blk->geometry.queue_depth; i++) {
        flags = keel_spin_lock(&blk->lock);
        keel_block_request* request = blk->slots[i].request;
        blk->slots[i].request = 0;
        keel_spin_unlock(&blk->lock, flags);
        if (request)
            keel_disk_complete(request, -KEEL_EIO);
    }
}

/* The queue's interrupt: complete every used request, outside the lock
 * (the block layer may submit the next one from keel_disk_complete). */
static void vblk_done(keel_virtqueue* queue, void* arg)
{
    struct vblk* blk = arg;
    for (;;) {
        void* token;
        uint32_t written;
        uint64_t flags = keel_spin_lock(&blk->lock);
        int status = keel_virtqueue_get_used(queue, &token, &written);
        if (status == -KEEL_EIO && !blk->broken) {
            vblk_fail_all(blk, flags);
            return;
        }
        if (status != 0) {
            keel_spin_unlock(&blk->lock, flags);
            return; /* -ENODATA: all done */
        }
        struct vblk_slot* slot = token;
        keel_block_request* request = slot->request;
        uint8_t device_status = slot_header(blk, slot)[VBLK_STATUS_OFFSET];
        slot->request = 0;
        slot->next_free = blk->free_slots;
        blk->free_slots = slot;
        keel_spin_unlock(&blk->lock, flags);
        if (device_status != VIRTIO_BLK_S_OK)
            keel_logf(KEEL_LOG_ERR, "virtio_blk: %s: %s at sector %llu failed: status %u", keel_disk_name(blk->disk),
                request->op == KEEL_BLOCK_READ        ? "read"
                    : request->op == KEEL_BLOCK_WRITE ? "write"
                                                      : "flush",
                (unsigned long long)request->sector, device_status);
        keel_disk_complete(request, device_status == VIRTIO_BLK_S_OK ? 0 : -KEEL_EIO);
    }
}

static int vblk_probe(keel_device* device, const void* id)
{
    (void)id;
    struct vblk* blk = keel_zalloc(sizeof(*blk));
    uint64_t features;
    uint8_t config[VIRTIO_BLK_CONFIG_LENGTH];
    const char* problem = "";
    int status;
    if (!blk)
        return -KEEL_ENOMEM;
    if ((status = keel_device_add_action(device, keel_free, blk)) < 0)
        return status;
    blk->device = device;
    keel_device_set_drvdata(device, blk);
    uint64_t wanted = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_RO
        | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_F_INDIRECT_DESC;
    if ((status = keel_virtio_negotiate(device, wanted, &features)) < 0
        || (status = keel_virtio_config_read(device, 0, config, sizeof(config))) < 0
        || (status = keel_virtio_queue_create(device, 0, 0, vblk_done, blk, &blk->queue)) < 0)
        return status; /* the core logged why; it releases what was taken */
    if ((status
            = vblk_geometry_from_config(config, features, keel_virtqueue_size(blk->queue), &blk->geometry, &problem))
        < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_blk: %s: %s", keel_device_name(device), problem);
        return status;
    }
    uint32_t depth = blk->geometry.queue_depth;
    if ((status = keel_dma_alloc_coherent(device, (uint64_t)depth * VBLK_SLOT_BYTES, &blk->headers)) < 0)
        return status;
    blk->slots = keel_zalloc(sizeof(struct vblk_slot) * depth);
    blk->segments = keel_zalloc(sizeof(keel_virtio_segment) * (blk->geometry.segments + 2));
    if (!blk->slots || !blk->segments) {
        keel_free(blk->slots);
        keel_free(blk->segments);
        return -KEEL_ENOMEM;
    }
    if ((status = keel_device_add_action(device, keel_free, blk->slots)) < 0) {
        keel_free(blk->segments);
        return status;
    }
    if ((status = keel_device_add_action(device, keel_free, blk->segments)) < 0)
        return status;
    for (uint32_t i = 0; i < depth; i++) {
        blk->slots[i].next_free = blk->free_slots;
        blk->free_slots = &blk->slots[i];
    }
    if ((status = keel_virtio_driver_ok(device)) < 0)
        return status;
    keel_disk_config disk = {
        .size = sizeof(keel_disk_config),
        .version = KEEL_DISK_CONFIG_VERSION,
        .prefix = "vd",
        .sector_count = blk->geometry.sector_count,
        .sector_size = blk->geometry.sector_size,
        .queue_depth = depth,
        .flags = (features & (1ull << VIRTIO_BLK_F_RO)) ? KEEL_DISK_READ_ONLY : 0,
        .max_sectors = blk->geometry.max_sectors,
        .submit = vblk_submit,
        .context = blk,
    };
    if ((status = keel_disk_register(device, &disk, &blk->disk)) < 0)
        return status;
    keel_logf(KEEL_LOG_INFO, "virtio_blk: %s: %s: %llu sectors of %u bytes%s%s, queue %u%s, depth %u, %u segment(s)",
        keel_device_name(device), keel_disk_name(blk->disk), (unsigned long long)blk->geometry.sector_count,
        blk->geometry.sector_size, disk.flags ? ", read-only" : "",
        (features & (1ull << VIRTIO_BLK_F_FLUSH)) ? ", write cache (flush)" : "", keel_virtqueue_size(blk->queue),
        (features & (1ull << VIRTIO_F_INDIRECT_DESC)) ? " (indirect)" : "", depth, blk->geometry.segments);
    return 0;
}

static void vblk_remove(keel_device* device)
{
    /* No request is in flight (the disk was not open); stop the device.
     * The core then unregisters the disk and frees the queue and memory. */
    keel_virtio_reset(device);
}

static const keel_driver_ops virtio_blk_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "virtio_blk",
    .id_table = KEEL_DEVICE_TABLE_OF(virtio_blk_ids),
    .probe = vblk_probe,
    .remove = vblk_remove,
};

static keel_driver* g_driver;

static int virtio_blk_init(void) { return keel_driver_register(&virtio_blk_driver, &g_driver); }

static void virtio_blk_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(virtio_blk_init);
KEEL_MODULE_EXIT(virtio_blk_exit);
