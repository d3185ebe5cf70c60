/*
 * acme_edu: a vendor's driver for QEMU's `edu` PCI device (1234:11e8,
 * QEMU's docs/specs/edu.rst), built out of tree from the SDK alone
 * (tests/oot/test_oot_driver.py): its match table makes the core load it
 * when the device appears, and it uses the device's registers, an
 * interrupt and DMA. Everything it acquires belongs to the binding, so
 * its remove() only quiets the device. dma_bits is how far the device's
 * DMA reaches: QEMU's edu reaches 28 bits unless started with a wider
 * dma_mask, as on QEMU's virt machine, whose RAM starts at 1 GiB
 * (`-device edu,dma_mask=0xffffffff` and `acme_edu.dma_bits=32`).
 */
#include <keel/device.h>
#include <keel/module.h>

KEEL_MODULE_NAME("acme_edu");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("Example Vendor");
KEEL_MODULE_DESCRIPTION("Example Vendor's driver for QEMU's edu device");
KEEL_MODULE_PARAM(uint, dma_bits, 28, "the device's DMA address bits (QEMU's edu dma_mask), 24 to 64");

enum {
    REG_ID = 0x00,
    REG_FACTORIAL = 0x08,
    REG_STATUS = 0x20,
    REG_IRQ_STATUS = 0x24,
    REG_IRQ_ACK = 0x64,
    REG_DMA_SOURCE = 0x80,
    REG_DMA_DESTINATION = 0x88,
    REG_DMA_COUNT = 0x90,
    REG_DMA_COMMAND = 0x98,
    STATUS_IRQ_ON_FACTORIAL = 0x80,
    DMA_START = 0x01,
    DMA_TO_RAM = 0x02,
    DMA_IRQ = 0x04,
    IRQ_FACTORIAL = 0x01,
    IRQ_DMA = 0x100,
    DEVICE_BUFFER = 0x40000, /* the device's own memory, in its address space */
    TRANSFER = 64,
};

KEEL_DEVICE_TABLE(pci, acme_edu_ids, KEEL_PCI_DEVICE(0x1234, 0x11e8));

struct acme_edu {
    keel_mmio* registers;
    keel_spinlock lock; /* seen */
    uint32_t seen;      /* interrupt status bits not yet waited for */
    uint32_t interrupts;
};

static int32_t acme_edu_interrupt(void* arg)
{
    struct acme_edu* edu = arg;
    uint32_t status = keel_mmio_read32(edu->registers, REG_IRQ_STATUS);
    if (!status)
        return KEEL_IRQ_NONE;
    keel_mmio_write32(edu->registers, REG_IRQ_ACK, status);
    uint64_t flags = keel_spin_lock(&edu->lock);
    edu->seen |= status;
    edu->interrupts++;
    keel_spin_unlock(&edu->lock, flags);
    return KEEL_IRQ_HANDLED;
}

static int acme_edu_wait(struct acme_edu* edu, uint32_t bits)
{
    for (int i = 0; i < 2000; i++) {
        uint64_t flags = keel_spin_lock(&edu->lock);
        int done = (edu->seen & bits) == bits;
        if (done)
            edu->seen &= ~bits;
        keel_spin_unlock(&edu->lock, flags);
        if (done)
            return 0;
        keel_sleep_ns(1000000);
    }
    return -KEEL_ETIMEDOUT;
}

static int acme_edu_dma(struct acme_edu* edu, uint64_t from, uint64_t to, uint32_t command)
{
    keel_mmio_write64(edu->registers, REG_DMA_SOURCE, from);
    keel_mmio_write64(edu->registers, REG_DMA_DESTINATION, to);
    keel_mmio_write64(edu->registers, REG_DMA_COUNT, TRANSFER);
    keel_mmio_write64(edu->registers, REG_DMA_COMMAND, command | DMA_START | DMA_IRQ);
    return acme_edu_wait(edu, IRQ_DMA);
}

static uint64_t acme_edu_dma_mask(void)
{
    return keel_param_dma_bits >= 64 ? ~0ull : (1ull << keel_param_dma_bits) - 1;
}

static int acme_edu_probe(keel_device* device, const void* id)
{
    (void)id;
    const char* name = keel_device_name(device);
    struct acme_edu* edu = keel_zalloc(sizeof(*edu));
    keel_dma_buffer* buffer;
    keel_irq* irq;
    int error;
    if (!edu)
        return -KEEL_ENOMEM;
    if ((error = keel_device_add_action(device, keel_free, edu)) != 0)
        return error;
    keel_device_set_drvdata(device, edu);
    if ((error = keel_pci_enable_device(device)) != 0 || (error = keel_pci_set_master(device)) != 0
        || (error = keel_dma_set_mask(device, acme_edu_dma_mask())) != 0
        || (error = keel_mmio_map(device, 0, 0, 0, &edu->registers)) != 0)
        return error;
    if ((keel_mmio_read32(edu->registers, REG_ID) & 0xff) != 0xed)
        return -KEEL_ENODEV;
    if ((error = keel_pci_alloc_irq_vectors(device, 1, 1, KEEL_PCI_IRQ_MSI | KEEL_PCI_IRQ_INTX)) < 0)
        return error;
    if ((error = keel_irq_request(device, 0, acme_edu_interrupt, edu, 0, &irq)) != 0)
        return error;

    keel_mmio_write32(edu->registers, REG_STATUS, STATUS_IRQ_ON_FACTORIAL);
    keel_mmio_write32(edu->registers, REG_FACTORIAL, 12);
    if ((error = acme_edu_wait(edu, IRQ_FACTORIAL)) != 0)
        return error;
    uint32_t factorial = keel_mmio_read32(edu->registers, REG_FACTORIAL);

    if ((error = keel_dma_alloc_coherent(device, 4096, &buffer)) != 0)
        return error;
    uint8_t* bytes = buffer->cpu;
    for (int i = 0; i < TRANSFER; i++)
        bytes[i] = (uint8_t)(0xa5 ^ i);
    if ((error = acme_edu_dma(edu, buffer->dma, DEVICE_BUFFER, 0)) != 0
        || (error = acme_edu_dma(edu, DEVICE_BUFFER, buffer->dma + 1024, DMA_TO_RAM)) != 0)
        return error;
    int same = 1;
    for (int i = 0; i < TRANSFER; i++)
        same &= bytes[1024 + i] == (uint8_t)(0xa5 ^ i);
    keel_logf(KEEL_LOG_INFO, "acme_edu: %s: 12! = %u, DMA round trip %s, %u %s interrupt(s)", name, factorial,
        same ? "ok" : "CORRUPT", edu->interrupts, keel_pci_irq_type(device) == KEEL_PCI_IRQ_MSI ? "MSI" : "INTx");
    return same ? 0 : -KEEL_EIO;
}

static void acme_edu_remove(keel_device* device)
{
    struct acme_edu* edu = keel_device_get_drvdata(device);
    keel_mmio_write32(edu->registers, REG_STATUS, 0);
    keel_logf(KEEL_LOG_INFO, "acme_edu: %s: removed after %u interrupt(s)", keel_device_name(device), edu->interrupts);
}

static const keel_driver_ops acme_edu_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "acme_edu",
    .id_table = KEEL_DEVICE_TABLE_OF(acme_edu_ids),
    .probe = acme_edu_probe,
    .remove = acme_edu_remove,
};

static keel_driver* g_driver;

static int acme_edu_init(void) { return keel_driver_register(&acme_edu_driver, &g_driver); }

static void acme_edu_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(acme_edu_init);
KEEL_MODULE_EXIT(acme_edu_exit);
