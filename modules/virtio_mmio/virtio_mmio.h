/*
 * virtio_mmio: the virtio 1.x transport over memory-mapped registers
 * ("Virtio Over MMIO", version 2), one device per device-tree node.
 * Shared between the driver (virtio_mmio.c: probe, interrupt, remove)
 * and the transport operations the core calls (transport.c).
 */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H

#include <keel/device.h>

#include "identify.h"

struct virtio_mmio {
    keel_device* platform;
    keel_device* virtio; /* the child; written before a driver binds to it */
    keel_mmio* regs;     /* the node's whole window: registers, then configuration */
    uint32_t config_length;
    /* Queues 0 .. queue_count - 1 were set up: the interrupt dispatches them. */
    uint32_t queue_count;
};

extern const keel_virtio_transport_ops vm_transport_ops;

/* Writes 0 to the status and waits until it reads 0: 0 or -KEEL_ETIMEDOUT. */
int vm_reset(struct virtio_mmio* vm);

#endif
