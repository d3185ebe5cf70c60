/*
 * virtio_mmio: a platform (of) driver for the device tree's "virtio,mmio"
 * nodes and the transport of the core's virtio bus: each slot that holds a
 * virtio 1.x device (version 2 registers) becomes one virtio device, the
 * child of its binding, on which virtio_blk and the other virtio drivers
 * bind as they do over virtio_pci. Empty slots (device ID 0) are refused
 * without a word: QEMU's virt machine has 32 of them.
 *
 * Interrupts: the node's one interrupt (a GIC SPI); the handler reads
 * InterruptStatus, acknowledges it before dispatching, so that a buffer
 * used meanwhile raises the line again, and runs every queue's callback;
 * a configuration change (bit 1) goes to the core
 * (keel_virtio_config_interrupt), which calls the driver back in thread
 * context if it asked.
 */
#include <keel/module.h>

#include "virtio_mmio.h"

KEEL_MODULE_NAME("virtio_mmio");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("virtio 1.x over memory-mapped registers: a transport of the virtio bus");
KEEL_MODULE_VERSION("1.0");

KEEL_DEVICE_TABLE(of, virtio_mmio_ids, KEEL_OF_COMPATIBLE("virtio,mmio"));

static int32_t vm_interrupt(void* arg)
{
    struct virtio_mmio* vm = arg;
    uint32_t status = keel_mmio_read32(vm->regs, VM_INTERRUPT_STATUS);
    if (!(status & (VM_INTERRUPT_VRING | VM_INTERRUPT_CONFIG)))
        return KEEL_IRQ_NONE; /* another device's, on a shared line */
    keel_mmio_write32(vm->regs, VM_INTERRUPT_ACK, status & (VM_INTERRUPT_VRING | VM_INTERRUPT_CONFIG));
    /* Written by the core before a driver binds, cleared before the device goes. */
    keel_device* virtio = __atomic_load_n(&vm->virtio, __ATOMIC_ACQUIRE);
    if (virtio && (status & VM_INTERRUPT_VRING)) {
        uint32_t count = __atomic_load_n(&vm->queue_count, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; i < count; i++)
            keel_virtio_queue_interrupt(virtio, i);
    }
    if (virtio && (status & VM_INTERRUPT_CONFIG))
        keel_virtio_config_interrupt(virtio);
    return KEEL_IRQ_HANDLED;
}

/* The slot's identification registers; the window is mapped already. */
static struct vm_identity vm_read_identity(keel_mmio* regs)
{
    struct vm_identity identity = {
        .magic = keel_mmio_read32(regs, VM_MAGIC_VALUE),
        .version = keel_mmio_read32(regs, VM_VERSION),
        .device_id = keel_mmio_read32(regs, VM_DEVICE_ID),
        .vendor_id = keel_mmio_read32(regs, VM_VENDOR_ID),
    };
    return identity;
}

static int vm_probe(keel_device* platform, const void* id)
{
    (void)id;
    const char* name = keel_device_name(platform);
    const char* problem = NULL;
    keel_device_region region;
    keel_mmio* regs;
    int status;
    if (keel_device_get_region(platform, 0, &region) < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: the node has no reg range; no device", name);
        return -KEEL_EINVAL;
    }
    if (vm_check_window(region.length, &problem) < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: %s (0x%llx bytes); no device", name, problem,
            (unsigned long long)region.length);
        return -KEEL_EINVAL;
    }
    if ((status = keel_mmio_map(platform, 0, 0, region.length, &regs)) < 0)
        return status;
    struct vm_identity identity = vm_read_identity(regs);
    if (vm_identify(&identity, &problem) < 0) {
        if (problem)
            keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: %s (magic 0x%08x, version %u, device ID %u); no device", name,
                problem, identity.magic, identity.version, identity.device_id);
        return -KEEL_ENODEV; /* the core unmaps the window */
    }

    struct virtio_mmio* vm = keel_zalloc(sizeof(*vm));
    if (!vm)
        return -KEEL_ENOMEM;
    if ((status = keel_device_add_action(platform, keel_free, vm)) < 0)
        return status;
    vm->platform = platform;
    vm->regs = regs;
    vm->config_length = (uint32_t)(region.length - VM_CONFIG);
    keel_device_set_drvdata(platform, vm);
    if ((status = keel_dma_set_mask(platform, ~0ull)) < 0)
        return status;
    /* Quiet before its interrupt is taken: nothing from an earlier driver. */
    if ((status = vm_reset(vm)) < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: the device does not complete its reset", name);
        return status;
    }
    keel_irq* irq;
    if ((status = keel_irq_request(platform, 0, vm_interrupt, vm, 0, &irq)) < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: no usable interrupt (%d); a virtio device needs one", name, status);
        return status == -KEEL_ENODEV ? -KEEL_EINVAL : status;
    }
    keel_logf(KEEL_LOG_INFO, "virtio_mmio: %s: virtio type %u, vendor 0x%08x, %u-byte configuration", name,
        identity.device_id, identity.vendor_id, vm->config_length);
    /* vm->virtio is written before a driver binds: its queues' interrupts need it. */
    return keel_virtio_device_add(platform, &vm_transport_ops, vm, identity.device_id, identity.vendor_id, &vm->virtio);
}

static void vm_remove(keel_device* platform)
{
    struct virtio_mmio* vm = keel_device_get_drvdata(platform);
    /* The child's driver lets go first (its queues reset the device), then
     * the device is reset for good: no more DMA, no more interrupts. The
     * core frees the interrupt, the mapping and vm afterwards. */
    keel_device* virtio = __atomic_exchange_n(&vm->virtio, NULL, __ATOMIC_ACQ_REL);
    if (virtio)
        keel_virtio_device_remove(virtio);
    if (vm_reset(vm) < 0)
        keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: the device does not complete its reset", keel_device_name(platform));
}

static void vm_shutdown(keel_device* platform) { vm_reset(keel_device_get_drvdata(platform)); }

static const keel_driver_ops virtio_mmio_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "virtio_mmio",
    .id_table = KEEL_DEVICE_TABLE_OF(virtio_mmio_ids),
    .probe = vm_probe,
    .remove = vm_remove,
    .shutdown = vm_shutdown,
};

static keel_driver* g_driver;

static int virtio_mmio_init(void) { return keel_driver_register(&virtio_mmio_driver, &g_driver); }

static void virtio_mmio_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(virtio_mmio_init);
KEEL_MODULE_EXIT(virtio_mmio_exit);
