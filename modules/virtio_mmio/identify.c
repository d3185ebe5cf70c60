/* virtio_mmio: the checks of a slot's window and identification (identify.h). */
#include "identify.h"

/* A device's registers and configuration fit in a page (QEMU's take 0x200). */
#define VM_WINDOW_MAX 0x1000

int vm_check_window(uint64_t length, const char** problem)
{
    if (length < VM_CONFIG) {
        *problem = "its reg range is smaller than the 0x100 bytes of virtio-mmio registers";
        return -KEEL_EINVAL;
    }
    if (length > VM_WINDOW_MAX) {
        *problem = "its reg range is larger than a 4 KiB page of registers and configuration";
        return -KEEL_EINVAL;
    }
    *problem = NULL;
    return 0;
}

int vm_identify(const struct vm_identity* identity, const char** problem)
{
    *problem = NULL;
    if (identity->magic != VM_MAGIC) {
        *problem = "not a virtio-mmio device: the magic value is not 0x74726976 (\"virt\")";
        return -KEEL_ENODEV;
    }
    /* Checked before the version: an empty slot of a legacy transport reads
     * version 1 too, and is no more a device than a modern one. */
    if (identity->device_id == 0)
        return -KEEL_ENODEV;
    if (identity->version == VM_VERSION_LEGACY) {
        *problem = "the legacy virtio-mmio interface (version 1) is not supported, only virtio 1.x (version 2)";
        return -KEEL_ENODEV;
    }
    if (identity->version != VM_VERSION_MODERN) {
        *problem = "unknown virtio-mmio version (only 2, virtio 1.x, is supported)";
        return -KEEL_ENODEV;
    }
    return 0;
}
