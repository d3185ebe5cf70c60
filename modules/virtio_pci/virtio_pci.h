/*
 * virtio_pci: the modern virtio 1.x transport over PCI ("Virtio Over PCI
 * Bus"). Shared between the driver (virtio_pci.c: probe, interrupts,
 * remove) and the transport operations the core calls (transport.c).
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <keel/device.h>

/* struct virtio_pci_common_cfg (the specification's names). */
#define VP_DEVICE_FEATURE_SELECT 0x00
#define VP_DEVICE_FEATURE 0x04
#define VP_DRIVER_FEATURE_SELECT 0x08
#define VP_DRIVER_FEATURE 0x0c
#define VP_CONFIG_MSIX_VECTOR 0x10
#define VP_NUM_QUEUES 0x12
#define VP_DEVICE_STATUS 0x14
#define VP_CONFIG_GENERATION 0x15
#define VP_QUEUE_SELECT 0x16
#define VP_QUEUE_SIZE 0x18
#define VP_QUEUE_MSIX_VECTOR 0x1a
#define VP_QUEUE_ENABLE 0x1c
#define VP_QUEUE_NOTIFY_OFF 0x1e
#define VP_QUEUE_DESC 0x20
#define VP_QUEUE_DRIVER 0x28
#define VP_QUEUE_DEVICE 0x30

#define VIRTIO_MSI_NO_VECTOR 0xffff
/* The ISR status byte (read clears it): a queue interrupt, a configuration change. */
#define VIRTIO_PCI_ISR_QUEUE 0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

struct virtio_pci;

/* What one interrupt vector's handler gets. */
struct vp_vector {
    struct virtio_pci* vp;
    uint32_t queue; /* its queue, or VP_ALL_QUEUES */
};
#define VP_ALL_QUEUES 0xffffffffu

struct virtio_pci {
    keel_device* pci;
    keel_device* virtio; /* the child; written before a driver binds to it */
    keel_virtio_pci_layout layout;
    keel_mmio* common;
    keel_mmio* notify;
    keel_mmio* isr;
    keel_mmio* config; /* NULL: the type has no device configuration */
    uint32_t num_queues;
    uint32_t irq_type;     /* KEEL_PCI_IRQ_MSIX or KEEL_PCI_IRQ_INTX */
    uint32_t vector_count; /* interrupts allocated */
    /* MSI-X: queue i's vector (1 + i with one per queue); else unused. */
    uint16_t queue_vector[KEEL_VIRTIO_QUEUE_MAX];
    /* Offset of queue i's notification register in `notify`. */
    uint32_t notify_offset[KEEL_VIRTIO_QUEUE_MAX];
    struct vp_vector vectors[KEEL_VIRTIO_QUEUE_MAX + 1];
};

extern const keel_virtio_transport_ops vp_transport_ops;

/* Writes 0 to the status and waits until it reads 0: 0 or -KEEL_ETIMEDOUT. */
int vp_reset(struct virtio_pci* vp);
/* MSI-X: configuration changes to vector 0 (logged when the device refuses);
 * done as the status gets DRIVER_OK, since a reset forgets it. */
void vp_route_config_vector(struct virtio_pci* vp);

#endif
