/*
 * virtio_rng: the virtio entropy device (type 4) feeding the kernel's
 * entropy pool (KABI_RANDOM_1.0, docs/random.md). Its one queue takes
 * device-writable buffers that the device fills with random bytes; each
 * filled buffer is mixed into the pool, credited at 8 bits a byte (the
 * device is the host's generator). It fills RNG_BURST buffers at once when
 * it binds, so that the pool is seeded at boot, then one more every
 * RNG_PERIOD_NS from deferred work.
 */
#include <keel/device.h>
#include <keel/module.h>

KEEL_MODULE_NAME("virtio_rng");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("virtio entropy devices feeding the kernel's entropy pool");
KEEL_MODULE_VERSION("1.0");

#define VIRTIO_ID_RNG 4
#define RNG_BUFFER 64                              /* bytes per request */
#define RNG_BURST 8                                /* requests when it binds: 4096 bits */
#define RNG_PERIOD_NS (10ull * 1000 * 1000 * 1000) /* then one every 10 s */

KEEL_DEVICE_TABLE(virtio, virtio_rng_ids, KEEL_VIRTIO_DEVICE(VIRTIO_ID_RNG));

struct rng {
    keel_device* device;
    keel_virtqueue* queue;
    keel_dma_buffer* buffer;
    keel_work* refill;
    keel_spinlock lock; /* the queue, busy, burst */
    int busy;           /* a request is with the device */
    int gone;           /* remove() ran: no more requests */
    int burst;          /* requests still to make at once */
    uint64_t bytes;     /* fed to the pool */
};

/* Hands the buffer to the device unless it has it. Lock held. */
static void rng_request(struct rng* rng)
{
    if (rng->busy || rng->gone)
        return;
    keel_virtio_segment segment = { .dma = rng->buffer->dma, .length = RNG_BUFFER, .reserved = 0 };
    int status = keel_virtqueue_add(rng->queue, &segment, 0, 1, rng);
    if (status == 0) {
        rng->busy = 1;
        keel_virtqueue_kick(rng->queue);
    }
}

/* The device filled the buffer (interrupt context). */
static void rng_done(keel_virtqueue* queue, void* arg)
{
    struct rng* rng = arg;
    void* token;
    uint32_t written;
    uint64_t flags = keel_spin_lock(&rng->lock);
    /* After remove(): the buffer may be gone, and what a late completion
     * says is not taken as randomness. */
    while (!rng->gone && keel_virtqueue_get_used(queue, &token, &written) == 0) {
        rng->busy = 0;
        if (written > RNG_BUFFER)
            written = RNG_BUFFER;
        if (written) {
            keel_add_hwgenerator_randomness(rng->buffer->cpu, written, written * 8, "virtio_rng");
            rng->bytes += written;
        }
    }
    if (rng->burst > 0) {
        rng->burst--;
        rng_request(rng);
    }
    keel_spin_unlock(&rng->lock, flags);
}

static void rng_refill(void* arg)
{
    struct rng* rng = arg;
    uint64_t flags = keel_spin_lock(&rng->lock);
    rng_request(rng);
    keel_spin_unlock(&rng->lock, flags);
    keel_work_queue_delayed(rng->refill, RNG_PERIOD_NS);
}

static int rng_probe(keel_device* device, const void* id)
{
    (void)id;
    struct rng* rng = keel_zalloc(sizeof(*rng));
    uint64_t features;
    int status;
    if (!rng)
        return -KEEL_ENOMEM;
    if ((status = keel_device_add_action(device, keel_free, rng)) < 0)
        return status;
    rng->device = device;
    keel_device_set_drvdata(device, rng);
    if ((status = keel_virtio_negotiate(device, 0, &features)) < 0
        || (status = keel_virtio_queue_create(device, 0, 0, rng_done, rng, &rng->queue)) < 0
        || (status = keel_dma_alloc_coherent(device, RNG_BUFFER, &rng->buffer)) < 0
        || (status = keel_work_create(device, rng_refill, rng, &rng->refill)) < 0
        || (status = keel_virtio_driver_ok(device)) < 0)
        return status; /* the core logged why; it releases what was taken */
    uint64_t flags = keel_spin_lock(&rng->lock);
    rng->burst = RNG_BURST - 1;
    rng_request(rng);
    keel_spin_unlock(&rng->lock, flags);
    keel_work_queue_delayed(rng->refill, RNG_PERIOD_NS);
    keel_logf(KEEL_LOG_INFO, "virtio_rng: %s: feeding the entropy pool", keel_device_name(device));
    return 0;
}

static void rng_remove(keel_device* device)
{
    struct rng* rng = keel_device_get_drvdata(device);
    uint64_t flags = keel_spin_lock(&rng->lock);
    rng->gone = 1;
    keel_spin_unlock(&rng->lock, flags);
    /* The device stops using the buffer; the core then cancels the work
     * and frees the queue and the buffer. */
    keel_virtio_reset(device);
    keel_logf(KEEL_LOG_INFO, "virtio_rng: %s: removed after %llu bytes", keel_device_name(device),
        (unsigned long long)rng->bytes);
}

static const keel_driver_ops rng_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "virtio_rng",
    .id_table = KEEL_DEVICE_TABLE_OF(virtio_rng_ids),
    .probe = rng_probe,
    .remove = rng_remove,
};

static keel_driver* g_driver;

static int rng_init(void) { return keel_driver_register(&rng_driver, &g_driver); }

static void rng_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(rng_init);
KEEL_MODULE_EXIT(rng_exit);
