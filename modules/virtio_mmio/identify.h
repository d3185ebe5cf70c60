/*
 * virtio_mmio: the register layout of a virtio-mmio device ("Virtio Over
 * MMIO", version 2: the virtio 1.x interface) and the checks of what a
 * device-tree slot says about itself before anything is driven. Pure:
 * builds for the host too (tests/unit/virtio_mmio).
 */
#ifndef VIRTIO_MMIO_IDENTIFY_H
#define VIRTIO_MMIO_IDENTIFY_H

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Register offsets (the specification's names). */
#define VM_MAGIC_VALUE 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_VENDOR_ID 0x00c
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_INTERRUPT_STATUS 0x060
#define VM_INTERRUPT_ACK 0x064
#define VM_STATUS 0x070
#define VM_QUEUE_DESC_LOW 0x080
#define VM_QUEUE_DESC_HIGH 0x084
#define VM_QUEUE_DRIVER_LOW 0x090
#define VM_QUEUE_DRIVER_HIGH 0x094
#define VM_QUEUE_DEVICE_LOW 0x0a0
#define VM_QUEUE_DEVICE_HIGH 0x0a4
#define VM_CONFIG_GENERATION 0x0fc
#define VM_CONFIG 0x100 /* the device configuration starts here */

#define VM_MAGIC 0x74726976u /* "virt", little-endian */
#define VM_VERSION_LEGACY 1
#define VM_VERSION_MODERN 2

/* InterruptStatus bits: a used buffer, a configuration change. */
#define VM_INTERRUPT_VRING 0x1
#define VM_INTERRUPT_CONFIG 0x2

/* What the identification registers of a slot read. */
/* NOLINTNEXTLINE(readability-identifier-naming): a C module's struct, named as C modules name theirs */
struct vm_identity {
    uint32_t magic;
    uint32_t version;
    uint32_t device_id;
    uint32_t vendor_id;
};

/*
 * The register window the node's first `reg` range gives: 0, or
 * -KEEL_EINVAL with `*problem` saying why (smaller than the registers
 * before the configuration at VM_CONFIG, or larger than a page).
 */
int vm_check_window(uint64_t length, const char** problem);

/*
 * Whether the slot holds a device this transport drives: 0 for a virtio
 * 1.x (version 2) device; -KEEL_ENODEV with `*problem` NULL for an empty
 * slot (device ID 0: QEMU's virt has 32 slots, most of them empty, which
 * are skipped without a word); -KEEL_ENODEV with `*problem` naming the
 * reason otherwise (not virtio's magic value, the legacy version 1
 * interface, an unknown version).
 */
int vm_identify(const struct vm_identity* identity, const char** problem);

#ifdef __cplusplus
}
#endif

#endif
