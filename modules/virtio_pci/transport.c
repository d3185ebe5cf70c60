/*
 * virtio_pci: the transport operations the core's virtio bus calls
 * (keel_virtio_transport_ops), over the common configuration, notify and
 * device configuration structures the capabilities located.
 */
#include "virtio_pci.h"

static uint8_t vp_get_status(void* context)
{
    struct virtio_pci* vp = context;
    return keel_mmio_read8(vp->common, VP_DEVICE_STATUS);
}

#define VIRTIO_STATUS_DRIVER_OK 4

static void vp_set_status(void* context, uint8_t status)
{
    struct virtio_pci* vp = context;
    /* A reset forgets the configuration vector (as it does the queues'):
     * given again before the device goes live, the moment from which it
     * may signal configuration changes. */
    if ((status & VIRTIO_STATUS_DRIVER_OK) && vp->irq_type == KEEL_PCI_IRQ_MSIX)
        vp_route_config_vector(vp);
    keel_mmio_write8(vp->common, VP_DEVICE_STATUS, status);
}

int vp_reset(struct virtio_pci* vp)
{
    vp_set_status(vp, 0);
    /* The device finishes its reset before it reads 0 (QEMU at once). */
    for (int i = 0; i < 1000; i++) {
        if (vp_get_status(vp) == 0)
            return 0;
        keel_sleep_ns(100000);
    }
    return -KEEL_ETIMEDOUT;
}

static uint32_t vp_get_features(void* context, uint32_t select)
{
    struct virtio_pci* vp = context;
    keel_mmio_write32(vp->common, VP_DEVICE_FEATURE_SELECT, select);
    return keel_mmio_read32(vp->common, VP_DEVICE_FEATURE);
}

static void vp_set_features(void* context, uint32_t select, uint32_t value)
{
    struct virtio_pci* vp = context;
    keel_mmio_write32(vp->common, VP_DRIVER_FEATURE_SELECT, select);
    keel_mmio_write32(vp->common, VP_DRIVER_FEATURE, value);
}

static uint8_t vp_config_generation(void* context)
{
    struct virtio_pci* vp = context;
    return keel_mmio_read8(vp->common, VP_CONFIG_GENERATION);
}

/* Naturally aligned accesses of the widest size that fits, little-endian. */
static int32_t vp_config_read(void* context, uint32_t offset, void* buffer, uint32_t length)
{
    struct virtio_pci* vp = context;
    uint8_t* out = buffer;
    if (!vp->config || offset > vp->config->length || length > vp->config->length - offset)
        return -KEEL_EINVAL;
    while (length) {
        uint32_t value;
        uint32_t width;
        if (offset % 4 == 0 && length >= 4) {
            value = keel_mmio_read32(vp->config, offset);
            width = 4;
        } else if (offset % 2 == 0 && length >= 2) {
            value = keel_mmio_read16(vp->config, offset);
            width = 2;
        } else {
            value = keel_mmio_read8(vp->config, offset);
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

static uint32_t vp_queue_max_size(void* context, uint32_t index)
{
    struct virtio_pci* vp = context;
    if (index >= vp->num_queues)
        return 0;
    keel_mmio_write16(vp->common, VP_QUEUE_SELECT, (uint16_t)index);
    return keel_mmio_read16(vp->common, VP_QUEUE_SIZE);
}

static void vp_write64(keel_mmio* mmio, uint64_t offset, uint64_t value)
{
    /* Two 32-bit writes, low first: the specification lets the driver do no more. */
    keel_mmio_write32(mmio, offset, (uint32_t)value);
    keel_mmio_write32(mmio, offset + 4, (uint32_t)(value >> 32));
}

static int32_t vp_queue_setup(
    void* context, uint32_t index, uint32_t size, uint64_t descriptors, uint64_t driver_area, uint64_t device_area)
{
    struct virtio_pci* vp = context;
    if (index >= vp->num_queues || index >= KEEL_VIRTIO_QUEUE_MAX)
        return -KEEL_ENOENT;
    keel_mmio_write16(vp->common, VP_QUEUE_SELECT, (uint16_t)index);
    if (size == 0 || size > keel_mmio_read16(vp->common, VP_QUEUE_SIZE))
        return -KEEL_EINVAL;
    /* queue_notify_off * notify_off_multiplier, inside the notify structure. */
    uint64_t offset = (uint64_t)keel_mmio_read16(vp->common, VP_QUEUE_NOTIFY_OFF) * vp->layout.notify_off_multiplier;
    if (offset + 2 > vp->notify->length) {
        keel_logf(KEEL_LOG_ERR, "virtio_pci: %s: queue %u: notification register at %#llx is outside the %#llx bytes",
            keel_device_name(vp->pci), index, (unsigned long long)offset, (unsigned long long)vp->notify->length);
        return -KEEL_EINVAL;
    }
    vp->notify_offset[index] = (uint32_t)offset;
    keel_mmio_write16(vp->common, VP_QUEUE_SIZE, (uint16_t)size);
    if (vp->irq_type == KEEL_PCI_IRQ_MSIX) {
        keel_mmio_write16(vp->common, VP_QUEUE_MSIX_VECTOR, vp->queue_vector[index]);
        if (keel_mmio_read16(vp->common, VP_QUEUE_MSIX_VECTOR) != vp->queue_vector[index]) {
            keel_logf(KEEL_LOG_ERR, "virtio_pci: %s: queue %u: the device refused MSI-X vector %u",
                keel_device_name(vp->pci), index, vp->queue_vector[index]);
            return -KEEL_EBUSY;
        }
    }
    vp_write64(vp->common, VP_QUEUE_DESC, descriptors);
    vp_write64(vp->common, VP_QUEUE_DRIVER, driver_area);
    vp_write64(vp->common, VP_QUEUE_DEVICE, device_area);
    keel_mmio_write16(vp->common, VP_QUEUE_ENABLE, 1);
    return 0;
}

static void vp_notify(void* context, uint32_t index)
{
    struct virtio_pci* vp = context;
    if (index < KEEL_VIRTIO_QUEUE_MAX)
        keel_mmio_write16(vp->notify, vp->notify_offset[index], (uint16_t)index);
}

const keel_virtio_transport_ops vp_transport_ops = {
    .size = sizeof(keel_virtio_transport_ops),
    .version = KEEL_VIRTIO_TRANSPORT_OPS_VERSION,
    .get_status = vp_get_status,
    .set_status = vp_set_status,
    .get_features = vp_get_features,
    .set_features = vp_set_features,
    .config_generation = vp_config_generation,
    .config_read = vp_config_read,
    .queue_max_size = vp_queue_max_size,
    .queue_setup = vp_queue_setup,
    .notify = vp_notify,
};
