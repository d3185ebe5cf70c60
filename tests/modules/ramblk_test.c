/*
 * A disk driver for the block layer's tests (KABI_BLOCK_1.0), written
 * against the SDK headers only. It binds QEMU's pci-testdev (1b36:0005),
 * which it uses for nothing but a device to bind, and registers a disk
 * ("ramblka") whose sectors live in coherent DMA memory of the binding:
 * every 512-byte sector holds its own number in each 8-byte word, as the
 * pattern disks of the boot tests do; with partitions=1 sector 0 holds an
 * MBR with two Linux partitions (ramblka1 at 2048, ramblka2 at 3072, 1024
 * sectors each). Requests complete inside submit (but see defer=1). With max_sectors=N it
 * says it takes at most N sectors a request, and fails (EIO, logged) any
 * request longer than that: the block layer must cut them. A submit
 * called from inside another (the block layer nesting them through a
 * completion) is logged. With defer=1 requests complete later, from the
 * core's worker thread, newest first: out of order, in another context.
 */
#include <keel/device.h>
#include <keel/module.h>

KEEL_MODULE_NAME("ramblk_test");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Test disk in memory, bound to QEMU's pci-testdev");
KEEL_MODULE_PARAM(uint, sectors, 4096, "disk size in 512-byte sectors (64 to 16384)");
KEEL_MODULE_PARAM(uint, depth, 4, "queue depth");
KEEL_MODULE_PARAM(bool, partitions, 0, "write an MBR with two partitions to sector 0");
KEEL_MODULE_PARAM(bool, readonly, 0, "register the disk read-only");
KEEL_MODULE_PARAM(uint, max_sectors, 0, "the most sectors one request may carry (0: any)");
KEEL_MODULE_PARAM(bool, defer, 0, "complete requests later, newest first, from a work item");

KEEL_DEVICE_TABLE(pci, ramblk_ids, KEEL_PCI_DEVICE(0x1b36, 0x0005));

struct ramblk {
    keel_dma_buffer* memory;
    uint64_t sectors;
    keel_disk* disk;
    keel_work* work;             /* with defer=1: completes what is pending */
    keel_spinlock lock;          /* pending */
    keel_block_request* pending; /* newest first, chained through driver_data */
};

/* Submits under way: the boot cases drive the disk from one thread, so
 * more than one means submit was called from inside submit. */
static int g_in_submit;

/* Does what `request` asks; its status. */
static int32_t ramblk_transfer(struct ramblk* disk, keel_block_request* request)
{
    if (request->op == KEEL_BLOCK_FLUSH)
        return 0;
    if (request->sector > disk->sectors || request->sectors > disk->sectors - request->sector)
        return -KEEL_EIO;
    if (keel_param_max_sectors && request->sectors > keel_param_max_sectors) {
        keel_logf(KEEL_LOG_ERR, "ramblk_test: a request of %u sectors, over max_sectors %u", request->sectors,
            (unsigned)keel_param_max_sectors);
        return -KEEL_EIO;
    }
    uint8_t* at = (uint8_t*)disk->memory->cpu + request->sector * 512;
    size_t bytes = (size_t)request->sectors * 512;
    if (request->op == KEEL_BLOCK_READ)
        __builtin_memcpy(request->data, at, bytes);
    else
        __builtin_memcpy(at, request->data, bytes);
    return 0;
}

/* defer=1: every pending request, newest first, from the worker thread. */
static void ramblk_complete_pending(void* arg)
{
    struct ramblk* disk = arg;
    for (;;) {
        uint64_t flags = keel_spin_lock(&disk->lock);
        keel_block_request* request = disk->pending;
        if (request)
            disk->pending = request->driver_data;
        keel_spin_unlock(&disk->lock, flags);
        if (!request)
            return;
        keel_disk_complete(request, ramblk_transfer(disk, request));
    }
}

static void ramblk_submit(void* context, keel_block_request* request)
{
    struct ramblk* disk = context;
    if (g_in_submit++ > 0)
        keel_logf(KEEL_LOG_ERR, "ramblk_test: submit re-entered (%d deep)", g_in_submit);
    if (disk->work) {
        uint64_t flags = keel_spin_lock(&disk->lock);
        request->driver_data = disk->pending;
        disk->pending = request;
        keel_spin_unlock(&disk->lock, flags);
        keel_work_queue(disk->work);
    } else {
        /* Completes inside submit: whatever the block layer does from
         * inside keel_disk_complete is still inside this submit. */
        keel_disk_complete(request, ramblk_transfer(disk, request));
    }
    g_in_submit--;
}

static void put_le32(uint8_t* at, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(value >> (8 * i));
}

static void write_mbr(uint8_t* sector0)
{
    __builtin_memset(sector0, 0, 512);
    for (int i = 0; i < 2; i++) {
        uint8_t* entry = sector0 + 446 + 16 * i;
        entry[4] = 0x83; /* Linux */
        put_le32(entry + 8, 2048 + 1024 * (uint32_t)i);
        put_le32(entry + 12, 1024);
    }
    put_le32(sector0 + 440, 0x4b45454c); /* disk identifier */
    sector0[510] = 0x55;
    sector0[511] = 0xaa;
}

static int ramblk_probe(keel_device* device, const void* id)
{
    (void)id;
    if (keel_param_sectors < 64 || keel_param_sectors > 16384 || (keel_param_partitions && keel_param_sectors < 4096))
        return -KEEL_EINVAL;
    struct ramblk* disk = keel_zalloc(sizeof(*disk));
    if (!disk)
        return -KEEL_ENOMEM;
    disk->sectors = keel_param_sectors;
    int status = keel_dma_alloc_coherent(device, disk->sectors * 512, &disk->memory);
    if (status < 0) {
        keel_free(disk);
        return status;
    }
    uint64_t* words = disk->memory->cpu;
    for (uint64_t i = 0; i < disk->sectors * 64; i++)
        words[i] = i / 64;
    if (keel_param_partitions)
        write_mbr(disk->memory->cpu);
    keel_device_set_drvdata(device, disk);
    if (keel_param_defer && (status = keel_work_create(device, ramblk_complete_pending, disk, &disk->work)) < 0) {
        keel_free(disk);
        return status;
    }
    keel_disk_config config = {
        .size = sizeof(keel_disk_config),
        .version = KEEL_DISK_CONFIG_VERSION,
        .prefix = "ramblk",
        .sector_count = disk->sectors,
        .sector_size = 512,
        .queue_depth = keel_param_depth,
        .flags = keel_param_readonly ? KEEL_DISK_READ_ONLY : 0,
        .max_sectors = keel_param_max_sectors,
        .submit = ramblk_submit,
        .context = disk,
    };
    status = keel_disk_register(device, &config, &disk->disk);
    if (status < 0) {
        keel_free(disk);
        return status;
    }
    keel_logf(KEEL_LOG_INFO, "ramblk_test: %s: disk %s", keel_device_name(device), keel_disk_name(disk->disk));
    return 0;
}

static void ramblk_remove(keel_device* device)
{
    /* The disk and its memory belong to the binding: the core releases
     * them. Nothing is pending (an open disk pins the device), but the
     * work item may still be about to run. */
    struct ramblk* disk = keel_device_get_drvdata(device);
    if (disk->work)
        keel_work_cancel(disk->work);
    keel_free(disk);
}

static const keel_driver_ops ramblk_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "ramblk_test",
    .id_table = KEEL_DEVICE_TABLE_OF(ramblk_ids),
    .probe = ramblk_probe,
    .remove = ramblk_remove,
};

static keel_driver* g_driver;

static int ramblk_init(void) { return keel_driver_register(&ramblk_driver, &g_driver); }

static void ramblk_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(ramblk_init);
KEEL_MODULE_EXIT(ramblk_exit);
