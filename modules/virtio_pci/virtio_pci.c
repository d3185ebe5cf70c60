/*
 * virtio_pci: a PCI driver for virtio 1.x devices through their modern
 * interface (transitional devices too), and the transport of the core's
 * virtio bus: it adds one virtio device as the child of its binding, on
 * which virtio_blk and the other virtio drivers bind.
 *
 * Interrupts: MSI-X with one vector for configuration changes and one
 * per queue; with fewer vectors, every queue on vector 1 (or, with one
 * vector, everything on 0); without MSI-X, the INTx line and the ISR
 * status byte (read clears it). Configuration changes go to the core
 * (keel_virtio_config_interrupt), which calls the driver back in thread
 * context if it asked.
 */
#include <keel/module.h>

#include "virtio_pci.h"

KEEL_MODULE_NAME("virtio_pci");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("virtio 1.x over PCI: the transport of the virtio bus");
KEEL_MODULE_VERSION("1.0");

/* As Linux's virtio_pci: every function of the vendor; probe takes the
 * virtio ones (devices 0x1000-0x107f) and refuses the rest. */
KEEL_DEVICE_TABLE(pci, virtio_pci_ids, KEEL_PCI_DEVICE(0x1af4, KEEL_PCI_ANY_ID));

static void vp_config_changed(struct virtio_pci* vp)
{
    /* Written by the core before a driver binds, cleared before the device goes. */
    keel_device* virtio = __atomic_load_n(&vp->virtio, __ATOMIC_ACQUIRE);
    if (virtio)
        keel_virtio_config_interrupt(virtio);
}

static void vp_dispatch(struct virtio_pci* vp, uint32_t queue)
{
    keel_device* virtio = __atomic_load_n(&vp->virtio, __ATOMIC_ACQUIRE);
    if (!virtio)
        return;
    if (queue != VP_ALL_QUEUES) {
        keel_virtio_queue_interrupt(virtio, queue);
        return;
    }
    for (uint32_t i = 0; i < vp->num_queues && i < KEEL_VIRTIO_QUEUE_MAX; i++)
        keel_virtio_queue_interrupt(virtio, i);
}

static int32_t vp_msix_queue_irq(void* arg)
{
    struct vp_vector* vector = arg;
    vp_dispatch(vector->vp, vector->queue);
    /* One vector for everything: it cannot say which it was. A needless
     * configuration callback only reads the configuration again. */
    if (vector->vp->vector_count == 1)
        vp_config_changed(vector->vp);
    return KEEL_IRQ_HANDLED;
}

static int32_t vp_msix_config_irq(void* arg)
{
    struct vp_vector* vector = arg;
    vp_config_changed(vector->vp);
    return KEEL_IRQ_HANDLED;
}

static int32_t vp_intx_irq(void* arg)
{
    struct virtio_pci* vp = arg;
    uint8_t isr = keel_mmio_read8(vp->isr, 0);
    if (!(isr & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)))
        return KEEL_IRQ_NONE; /* another function's, on a shared line */
    if (isr & VIRTIO_PCI_ISR_QUEUE)
        vp_dispatch(vp, VP_ALL_QUEUES);
    if (isr & VIRTIO_PCI_ISR_CONFIG)
        vp_config_changed(vp);
    return KEEL_IRQ_HANDLED;
}

static int vp_map(keel_device* pci, const keel_virtio_pci_region* region, keel_mmio** out)
{
    *out = NULL;
    if (!region->present)
        return 0;
    return keel_mmio_map(pci, region->bar, region->offset, region->length, out);
}

/* MSI-X vectors: 0 for configuration changes, 1 + i for queue i when there
 * are enough, else every queue on the last (with one vector, the
 * configuration on it too). INTx: one shared handler. */
static int vp_setup_interrupts(struct virtio_pci* vp)
{
    uint32_t wanted = 1 + vp->num_queues;
    if (wanted > KEEL_VIRTIO_QUEUE_MAX + 1)
        wanted = KEEL_VIRTIO_QUEUE_MAX + 1;
    int count = keel_pci_alloc_irq_vectors(vp->pci, 1, wanted, KEEL_PCI_IRQ_MSIX | KEEL_PCI_IRQ_INTX);
    if (count < 0)
        return count;
    vp->vector_count = (uint32_t)count;
    vp->irq_type = keel_pci_irq_type(vp->pci);
    keel_irq* irq;
    int status;
    if (vp->irq_type != KEEL_PCI_IRQ_MSIX)
        return keel_irq_request(vp->pci, 0, vp_intx_irq, vp, 0, &irq);
    for (uint32_t i = 0; i < vp->num_queues && i < KEEL_VIRTIO_QUEUE_MAX; i++)
        vp->queue_vector[i] = (uint16_t)(vp->vector_count >= wanted ? 1 + i : vp->vector_count - 1);
    for (uint32_t v = 0; v < vp->vector_count; v++) {
        struct vp_vector* vector = &vp->vectors[v];
        vector->vp = vp;
        if (v == 0 && vp->vector_count > 1) {
            status = keel_irq_request(vp->pci, v, vp_msix_config_irq, vector, 0, &irq);
        } else {
            vector->queue = vp->vector_count >= wanted ? v - 1 : VP_ALL_QUEUES;
            status = keel_irq_request(vp->pci, v, vp_msix_queue_irq, vector, 0, &irq);
        }
        if (status < 0)
            return status;
    }
    /* The configuration's vector is given as the status gets DRIVER_OK
     * (vp_set_status), not here: the driver's negotiation resets the
     * device first, which forgets it, and until then nobody listens for
     * changes (a driver reads the configuration as it binds). */
    return 0;
}

void vp_route_config_vector(struct virtio_pci* vp)
{
    keel_mmio_write16(vp->common, VP_CONFIG_MSIX_VECTOR, 0);
    if (keel_mmio_read16(vp->common, VP_CONFIG_MSIX_VECTOR) != 0)
        keel_logf(KEEL_LOG_WARNING, "virtio_pci: %s: the device refused a vector for configuration changes",
            keel_device_name(vp->pci));
}

static int vp_probe(keel_device* pci, const void* id)
{
    (void)id;
    keel_pci_info info;
    struct virtio_pci* vp;
    int status;
    if ((status = keel_pci_get_info(pci, &info)) < 0)
        return status;
    if (info.device < 0x1000 || info.device > 0x107f)
        return -KEEL_ENODEV; /* the vendor's, but not virtio (ivshmem, ...) */
    if (!(vp = keel_zalloc(sizeof(*vp))))
        return -KEEL_ENOMEM;
    if ((status = keel_device_add_action(pci, keel_free, vp)) < 0)
        return status;
    vp->pci = pci;
    keel_device_set_drvdata(pci, vp);
    if ((status = keel_virtio_pci_find_layout(pci, &vp->layout)) < 0)
        return status;
    if ((status = keel_pci_enable_device(pci)) < 0 || (status = keel_dma_set_mask(pci, ~0ull)) < 0
        || (status = vp_map(pci, &vp->layout.common, &vp->common)) < 0
        || (status = vp_map(pci, &vp->layout.notify, &vp->notify)) < 0
        || (status = vp_map(pci, &vp->layout.isr, &vp->isr)) < 0
        || (status = vp_map(pci, &vp->layout.device, &vp->config)) < 0)
        return status;
    /* Quiet before interrupts are routed and before it may master the
     * bus: nothing from an earlier driver, no write to memory freed since. */
    if ((status = vp_reset(vp)) < 0) {
        keel_logf(KEEL_LOG_ERR, "virtio_pci: %s: the device does not complete its reset", keel_device_name(pci));
        return status;
    }
    if ((status = keel_pci_set_master(pci)) < 0)
        return status;
    vp->num_queues = keel_mmio_read16(vp->common, VP_NUM_QUEUES);
    if (vp->num_queues == 0 || vp->num_queues > KEEL_VIRTIO_QUEUE_MAX) {
        keel_logf(KEEL_LOG_ERR, "virtio_pci: %s: num_queues %u is not 1 to %u", keel_device_name(pci), vp->num_queues,
            KEEL_VIRTIO_QUEUE_MAX);
        return -KEEL_ENODEV;
    }
    if ((status = vp_setup_interrupts(vp)) < 0)
        return status;
    keel_logf(KEEL_LOG_INFO, "virtio_pci: %s: virtio type %u%s, %u queue(s), %u %s interrupt(s)", keel_device_name(pci),
        vp->layout.device_type, vp->layout.transitional ? " (transitional)" : "", vp->num_queues, vp->vector_count,
        vp->irq_type == KEEL_PCI_IRQ_MSIX ? "MSI-X" : "INTx");
    /* vp->virtio is written before a driver binds: its queues' interrupts need it. */
    return keel_virtio_device_add(pci, &vp_transport_ops, vp, vp->layout.device_type, info.subvendor, &vp->virtio);
}

static void vp_remove(keel_device* pci)
{
    struct virtio_pci* vp = keel_device_get_drvdata(pci);
    /* The child's driver lets go first (its queues reset the device), then
     * the device is reset for good: no more DMA, no more interrupts. The
     * core frees the vectors, the mappings and vp afterwards. */
    keel_device* virtio = __atomic_exchange_n(&vp->virtio, NULL, __ATOMIC_ACQ_REL);
    if (virtio)
        keel_virtio_device_remove(virtio);
    if (vp_reset(vp) < 0)
        keel_logf(KEEL_LOG_ERR, "virtio_pci: %s: the device does not complete its reset", keel_device_name(pci));
}

static void vp_shutdown(keel_device* pci) { vp_reset(keel_device_get_drvdata(pci)); }

static const keel_driver_ops virtio_pci_driver = {
    .size = sizeof(keel_driver_ops),
    .version = KEEL_DRIVER_OPS_VERSION,
    .name = "virtio_pci",
    .id_table = KEEL_DEVICE_TABLE_OF(virtio_pci_ids),
    .probe = vp_probe,
    .remove = vp_remove,
    .shutdown = vp_shutdown,
};

static keel_driver* g_driver;

static int virtio_pci_init(void) { return keel_driver_register(&virtio_pci_driver, &g_driver); }

static void virtio_pci_exit(void) { keel_driver_unregister(g_driver); }

KEEL_MODULE_INIT(virtio_pci_init);
KEEL_MODULE_EXIT(virtio_pci_exit);
