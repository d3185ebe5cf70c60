/*
 * virtio_mmio: the transport operations the core's virtio bus calls
 * (keel_virtio_transport_ops), over the version 2 register layout. Every
 * register is 32 bits wide; 64-bit addresses are written as two halves.
 */
#include "virtio_mmio.h"

static uint8_t vm_get_status(void* context)
{
    struct virtio_mmio* vm = context;
    return (uint8_t)keel_mmio_read32(vm->regs, VM_STATUS);
}

static void vm_set_status(void* context, uint8_t status)
{
    struct virtio_mmio* vm = context;
    keel_mmio_write32(vm->regs, VM_STATUS, status);
}

int vm_reset(struct virtio_mmio* vm)
{
    vm_set_status(vm, 0);
    /* The device finishes its reset before it reads 0 (QEMU at once). */
    for (int i = 0; i < 1000; i++) {
        if (vm_get_status(vm) == 0)
            return 0;
        keel_sleep_ns(100000);
    }
    return -KEEL_ETIMEDOUT;
}

static uint32_t vm_get_features(void* context, uint32_t select)
{
    struct virtio_mmio* vm = context;
    keel_mmio_write32(vm->regs, VM_DEVICE_FEATURES_SEL, select);
    return keel_mmio_read32(vm->regs, VM_DEVICE_FEATURES);
}

static void vm_set_features(void* context, uint32_t select, uint32_t value)
{
    struct virtio_mmio* vm = context;
    keel_mmio_write32(vm->regs, VM_DRIVER_FEATURES_SEL, select);
    keel_mmio_write32(vm->regs, VM_DRIVER_FEATURES, value);
}

static uint8_t vm_config_generation(void* context)
{
    struct virtio_mmio* vm = context;
    /* 32 bits wide; the core compares the low byte before and after a read. */
    return (uint8_t)keel_mmio_read32(vm->regs, VM_CONFIG_GENERATION);
}

/* Naturally aligned accesses of the widest size that fits, little-endian
 * (version 2 devices take accesses of a field's own width). */
static int32_t vm_config_read(void* context, uint32_t offset, void* buffer, uint32_t length)
{
    struct virtio_mmio* vm = context;
    uint8_t* out = buffer;
    if (offset > vm->config_length || length > vm->config_length - offset)
        return -KEEL_EINVAL;
    while (length) {
        uint32_t value;
        uint32_t width;
        uint64_t at = VM_CONFIG + (uint64_t)offset;
        if (offset % 4 == 0 && length >= 4) {
            value = keel_mmio_read32(vm->regs, at);
            width = 4;
        } else if (offset % 2 == 0 && length >= 2) {
            value = keel_mmio_read16(vm->regs, at);
            width = 2;
        } else {
            value = keel_mmio_read8(vm->regs, at);
            width = 1;
        }
        for (uint32_t i = 0; i < width; i++)
            out[i] = (uint8_t)(value >> (8 * i));
        out += width;
        offset += width;
        length -= width;
    }
    return 0;
}

static uint32_t vm_queue_max_size(void* context, uint32_t index)
{
    struct virtio_mmio* vm = context;
    if (index >= KEEL_VIRTIO_QUEUE_MAX)
        return 0;
    keel_mmio_write32(vm->regs, VM_QUEUE_SEL, index);
    /* A queue in use (ready) is not offered again. */
    if (keel_mmio_read32(vm->regs, VM_QUEUE_READY))
        return 0;
    return keel_mmio_read32(vm->regs, VM_QUEUE_NUM_MAX);
}

static void vm_write64(keel_mmio* regs, uint64_t low, uint64_t value)
{
    keel_mmio_write32(regs, low, (uint32_t)value);
    keel_mmio_write32(regs, low + 4, (uint32_t)(value >> 32));
}

static int32_t vm_queue_setup(
    void* context, uint32_t index, uint32_t size, uint64_t descriptors, uint64_t driver_area, uint64_t device_area)
{
    struct virtio_mmio* vm = context;
    if (index >= KEEL_VIRTIO_QUEUE_MAX)
        return -KEEL_ENOENT;
    keel_mmio_write32(vm->regs, VM_QUEUE_SEL, index);
    if (keel_mmio_read32(vm->regs, VM_QUEUE_READY)) {
        keel_logf(KEEL_LOG_ERR, "virtio_mmio: %s: queue %u is already in use", keel_device_name(vm->platform), index);
        return -KEEL_EBUSY;
    }
    if (size == 0 || size > keel_mmio_read32(vm->regs, VM_QUEUE_NUM_MAX))
        return -KEEL_EINVAL;
    keel_mmio_write32(vm->regs, VM_QUEUE_NUM, size);
    vm_write64(vm->regs, VM_QUEUE_DESC_LOW, descriptors);
    vm_write64(vm->regs, VM_QUEUE_DRIVER_LOW, driver_area);
    vm_write64(vm->regs, VM_QUEUE_DEVICE_LOW, device_area);
    keel_mmio_write32(vm->regs, VM_QUEUE_READY, 1);
    /* The interrupt handler dispatches every queue below queue_count. */
    if (index + 1 > __atomic_load_n(&vm->queue_count, __ATOMIC_RELAXED))
        __atomic_store_n(&vm->queue_count, index + 1, __ATOMIC_RELEASE);
    return 0;
}

static void vm_notify(void* context, uint32_t index)
{
    struct virtio_mmio* vm = context;
    if (index < KEEL_VIRTIO_QUEUE_MAX)
        keel_mmio_write32(vm->regs, VM_QUEUE_NOTIFY, index);
}

const keel_virtio_transport_ops vm_transport_ops = {
    .size = sizeof(keel_virtio_transport_ops),
    .version = KEEL_VIRTIO_TRANSPORT_OPS_VERSION,
    .get_status = vm_get_status,
    .set_status = vm_set_status,
    .get_features = vm_get_features,
    .set_features = vm_set_features,
    .config_generation = vm_config_generation,
    .config_read = vm_config_read,
    .queue_max_size = vm_queue_max_size,
    .queue_setup = vm_queue_setup,
    .notify = vm_notify,
};
