/*
 * A driver for QEMU's `edu` PCI device (1234:11e8; QEMU's docs/specs/edu.rst),
 * written against the SDK headers only: it maps BAR0, checks the
 * identification and liveness registers, has the device compute a
 * factorial and raise an interrupt (MSI, or INTx with irq=intx), and does a
 * DMA round trip through coherent memory and back through a streaming
 * mapping, then a timer. The boot tests (tests/boot/cases_devices.py)
 * autoload it, unbind and rebind it, and unload it, checking that nothing
 * is left behind.
 *
 * Built twice: as edu_test, and with EDU_FAIL_PROBE as edu_failprobe,
 * whose probe fails after acquiring every kind of resource.
 *
 * Parameters: irq=msi|intx; storm=1 makes the handler refuse to claim an
 * interrupt it raises on purpose (INTx: the line keeps firing, and the
 * core's storm guard must mask it); transfers=0 skips the DMA transfers
 * (the device takes 100 ms for each) but still allocates and maps, for the
 * unbind/rebind cycles; dma_bits is the device's DMA reach (QEMU's edu
 * reaches 28 bits unless started with a wider dma_mask: on QEMU's virt
 * machine, whose RAM starts at 1 GiB, `-device edu,dma_mask=0xffffffff`
 * and `edu_test.dma_bits=32` on the kernel command line).
 */
#include <keel/device.h>
#include <keel/module.h>

#ifdef EDU_FAIL_PROBE
#define EDU_NAME "edu_failprobe"
#else
#define EDU_NAME "edu_test"
#endif

KEEL_MODULE_NAME(EDU_NAME);
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Test driver for QEMU's edu PCI device");
KEEL_MODULE_PARAM_STRING(irq, 8, "msi", "interrupts: msi (MSI, falling back to INTx) or intx");
KEEL_MODULE_PARAM(bool, storm, 0, "leave one raised interrupt unclaimed (storm guard test)");
KEEL_MODULE_PARAM(uint, dma_bits, 28, "the device's DMA address bits (QEMU's edu dma_mask), 24 to 64");
KEEL_MODULE_PARAM(bool, transfers, 1, "do the DMA transfers (each takes the device 100 ms); 0: only map");

/* Registers (BAR0). */
enum {
    EDU_ID = 0x00,
    EDU_LIVENESS = 0x04,
    EDU_FACTORIAL = 0x08,
    EDU_STATUS = 0x20,
    EDU_IRQ_STATUS = 0x24,
    EDU_IRQ_RAISE = 0x60,
    EDU_IRQ_ACK = 0x64,
    EDU_DMA_SOURCE = 0x80,
    EDU_DMA_DESTINATION = 0x88,
    EDU_DMA_COUNT = 0x90,
    EDU_DMA_COMMAND = 0x98,
};
enum {
    EDU_STATUS_COMPUTING = 0x01,
    EDU_STATUS_IRQ_ON_FACTORIAL = 0x80,
    EDU_DMA_START = 0x01,
    EDU_DMA_TO_RAM = 0x02,
    EDU_DMA_IRQ = 0x04,
    EDU_IRQ_FACTORIAL = 0x01,
    EDU_IRQ_DMA = 0x100,
    EDU_IRQ_STORM = 0x1000,
};
#define EDU_BUFFER 0x40000u /* the device's own 4 KiB DMA buffer */
#define EDU_DMA_MASK (keel_param_dma_bits >= 64 ? ~0ull : (1ull << keel_param_dma_bits) - 1)
#define EDU_TRANSFER 100u

KEEL_DEVICE_TABLE(pci, edu_ids, KEEL_PCI_DEVICE(0x1234, 0x11e8));

struct edu {
    keel_device* device;
    keel_mmio* registers;
    uint32_t interrupts; /* claimed, counted by the handler */
    uint32_t pending;    /* interrupt status bits seen, not yet consumed */
    keel_spinlock lock;  /* pending */
    volatile int timer_fired;
};

/* Pages of the module's own data: not necessarily contiguous, so mapping
 * them for DMA may need the core's bounce buffer. */
static uint8_t g_landing[3 * 4096];

static int32_t edu_interrupt(void* arg)
{
    struct edu* edu = arg;
    uint32_t status = keel_mmio_read32(edu->registers, EDU_IRQ_STATUS);
    if (status == 0)
        return KEEL_IRQ_NONE; /* a device sharing the line */
    if (keel_param_storm && (status & EDU_IRQ_STORM))
        return KEEL_IRQ_NONE; /* on purpose: never acknowledged */
    keel_mmio_write32(edu->registers, EDU_IRQ_ACK, status);
    uint64_t flags = keel_spin_lock(&edu->lock);
    edu->pending |= status;
    edu->interrupts++;
    keel_spin_unlock(&edu->lock, flags);
    return KEEL_IRQ_HANDLED;
}

/* Waits (at most 2 s) for the handler to have seen `bits`. */
static int edu_wait(struct edu* edu, uint32_t bits)
{
    for (int i = 0; i < 2000; i++) {
        uint64_t flags = keel_spin_lock(&edu->lock);
        uint32_t seen = edu->pending & bits;
        edu->pending &= ~seen;
        keel_spin_unlock(&edu->lock, flags);
        if (seen == bits)
            return 0;
        keel_sleep_ns(1000000);
    }
    return -KEEL_ETIMEDOUT;
}

static int edu_dma(struct edu* edu, uint64_t source, uint64_t destination, uint32_t command)
{
    if (!keel_param_transfers) {
        /* What the device would have done. */
        return 0;
    }
    keel_mmio_write64(edu->registers, EDU_DMA_SOURCE, source);
    keel_mmio_write64(edu->registers, EDU_DMA_DESTINATION, destination);
    keel_mmio_write64(edu->registers, EDU_DMA_COUNT, EDU_TRANSFER);
    keel_mmio_write64(edu->registers, EDU_DMA_COMMAND, command | EDU_DMA_START | EDU_DMA_IRQ);
    return edu_wait(edu, EDU_IRQ_DMA);
}

static void edu_timer(void* arg)
{
    struct edu* edu = arg;
    edu->timer_fired = 1;
}

static void edu_released(void* arg)
{
    keel_logf(KEEL_LOG_INFO, EDU_NAME ": %s: resources released", keel_device_name(arg));
}

static int edu_fail(keel_device* device, const char* what, int error)
{
    keel_logf(KEEL_LOG_ERR, EDU_NAME ": %s: %s failed (%d)", keel_device_name(device), what, error);
    return error;
}

static int edu_probe(keel_device* device, const void* id)
{
    (void)id;
    struct edu* edu = keel_zalloc(sizeof(*edu));
    if (!edu)
        return -KEEL_ENOMEM;
    /* Freed with the binding's other resources. */
    int error = keel_device_add_action(device, keel_free, edu);
    if (error)
        return error;
    edu->device = device;
    keel_device_set_drvdata(device, edu);
    if ((error = keel_device_add_action(device, edu_released, device)) != 0)
        return error;

    if ((error = keel_pci_enable_device(device)) != 0)
        return edu_fail(device, "enable", error);
    if ((error = keel_dma_set_mask(device, EDU_DMA_MASK)) != 0)
        return edu_fail(device, "DMA mask", error);
    if ((error = keel_pci_set_master(device)) != 0)
        return edu_fail(device, "bus mastering", error);
    if ((error = keel_mmio_map(device, 0, 0, 0, &edu->registers)) != 0)
        return edu_fail(device, "BAR0 mapping", error);

    uint32_t identification = keel_mmio_read32(edu->registers, EDU_ID);
    if ((identification & 0xff) != 0xed)
        return edu_fail(device, "identification", -KEEL_ENODEV);
    keel_mmio_write32(edu->registers, EDU_LIVENESS, 0x12345678);
    if (keel_mmio_read32(edu->registers, EDU_LIVENESS) != ~0x12345678u)
        return edu_fail(device, "liveness check", -KEEL_EIO);
    /* Outside the 1 MiB BAR: refused by the accessor, reads all ones. */
    if (keel_mmio_read32(edu->registers, edu->registers->length) != 0xffffffffu)
        return edu_fail(device, "bounds check", -KEEL_EIO);

    int intx_only = keel_param_irq[0] == 'i';
    int vectors = keel_pci_alloc_irq_vectors(
        device, 1, 1, intx_only ? KEEL_PCI_IRQ_INTX : KEEL_PCI_IRQ_MSI | KEEL_PCI_IRQ_INTX);
    if (vectors < 0)
        return edu_fail(device, "interrupt vectors", vectors);
    keel_irq* irq;
    if ((error = keel_irq_request(device, 0, edu_interrupt, edu, 0, &irq)) != 0)
        return edu_fail(device, "interrupt handler", error);

    /* 10! with an interrupt when done. */
    keel_mmio_write32(edu->registers, EDU_STATUS, EDU_STATUS_IRQ_ON_FACTORIAL);
    keel_mmio_write32(edu->registers, EDU_FACTORIAL, 10);
    if ((error = edu_wait(edu, EDU_IRQ_FACTORIAL)) != 0)
        return edu_fail(device, "factorial interrupt", error);
    uint32_t factorial = keel_mmio_read32(edu->registers, EDU_FACTORIAL);
    if (factorial != 3628800)
        return edu_fail(device, "factorial", -KEEL_EIO);

    /* DMA: a pattern from coherent memory into the device, and back out
     * into another part of the same buffer; then out once more through a
     * streaming mapping of the module's own pages. */
    keel_dma_buffer* buffer;
    if ((error = keel_dma_alloc_coherent(device, 4096, &buffer)) != 0)
        return edu_fail(device, "coherent DMA buffer", error);
    if (buffer->dma + buffer->size - 1 > EDU_DMA_MASK)
        return edu_fail(device, "DMA mask respected", -KEEL_EIO);
    uint8_t* bytes = buffer->cpu;
    for (uint32_t i = 0; i < EDU_TRANSFER; i++)
        bytes[i] = (uint8_t)(i * 7 + 3);
    if ((error = edu_dma(edu, buffer->dma, EDU_BUFFER, 0)) != 0)
        return edu_fail(device, "DMA to the device", error);
    if ((error = edu_dma(edu, EDU_BUFFER, buffer->dma + 2048, EDU_DMA_TO_RAM)) != 0)
        return edu_fail(device, "DMA from the device", error);
    for (uint32_t i = 0; i < EDU_TRANSFER && keel_param_transfers; i++) {
        if (bytes[2048 + i] != (uint8_t)(i * 7 + 3))
            return edu_fail(device, "DMA round trip", -KEEL_EIO);
    }
    keel_dma_mapping* mapping;
    uint8_t* landing = g_landing + 4096 - 40; /* straddles a page boundary */
    for (uint32_t i = 0; i < EDU_TRANSFER; i++)
        landing[i] = 0;
    if ((error = keel_dma_map(device, landing, EDU_TRANSFER, KEEL_DMA_FROM_DEVICE, &mapping)) != 0)
        return edu_fail(device, "streaming mapping", error);
    if ((error = edu_dma(edu, EDU_BUFFER, mapping->dma, EDU_DMA_TO_RAM)) != 0)
        return edu_fail(device, "DMA into a streaming mapping", error);
    keel_dma_unmap(mapping);
    for (uint32_t i = 0; i < EDU_TRANSFER && keel_param_transfers; i++) {
        if (landing[i] != (uint8_t)(i * 7 + 3))
            return edu_fail(device, "streaming DMA", -KEEL_EIO);
    }

    /* A timer (delayed work), waited for at most 2 s. */
    keel_work* timer;
    if ((error = keel_work_create(device, edu_timer, edu, &timer)) != 0)
        return edu_fail(device, "work item", error);
    keel_work_queue_delayed(timer, 2000000);
    for (int i = 0; i < 2000 && !edu->timer_fired; i++)
        keel_sleep_ns(1000000);
    if (!edu->timer_fired)
        return edu_fail(device, "timer", -KEEL_ETIMEDOUT);

    if (keel_param_storm)
        keel_mmio_write32(edu->registers, EDU_IRQ_RAISE, EDU_IRQ_STORM);

#ifdef EDU_FAIL_PROBE
    keel_logf(KEEL_LOG_INFO, EDU_NAME ": %s: every resource acquired; failing on purpose", keel_device_name(device));
    return -KEEL_EIO;
#else
    const char* kind = keel_pci_irq_type(device) == KEEL_PCI_IRQ_MSI ? "MSI" : "INTx";
    keel_logf(KEEL_LOG_INFO, EDU_NAME ": %s: id %#x, 10! = %u, DMA round trip %s, %u %s interrupt(s), timer ok",
        keel_device_name(device), identification, factorial, keel_param_transfers ? "ok" : "skipped", edu->interrupts,
        kind);
    return 0;
#endif
}

static void edu_remove(keel_device* device)
{
    struct edu* edu = keel_device_get_drvdata(device);
    /* Quiet: no more factorial interrupts, and whatever is raised is
     * acknowledged (the storm test leaves one raised). */
    keel_mmio_write32(edu->registers, EDU_STATUS, 0);
    keel_mmio_write32(edu->registers, EDU_IRQ_ACK, 0xffffffffu);
    keel_logf(KEEL_LOG_INFO, EDU_NAME ": %s: removed after %u interrupt(s)", keel_device_name(device), edu->interrupts);
}

static const keel_driver_ops edu_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = EDU_NAME,
    .id_table = KEEL_DEVICE_TABLE_OF(edu_ids),
    .probe = edu_probe,
    .remove = edu_remove,
};

static keel_driver* g_driver;

static int edu_init(void) { return keel_driver_register(&edu_driver, &g_driver); }

static void edu_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(edu_init);
KEEL_MODULE_EXIT(edu_exit);
