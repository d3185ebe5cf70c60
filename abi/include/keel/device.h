/*
 * keel/device.h: writing a driver (docs/devices.md).
 *
 *     #include <keel/device.h>
 *     #include <keel/module.h>
 *
 *     KEEL_DEVICE_TABLE(pci, edu_ids, KEEL_PCI_DEVICE(0x1234, 0x11e8));
 *
 *     static int edu_probe(keel_device* device, const void* id) { ... }
 *     static const keel_driver_ops edu_driver = {
 *         .size = sizeof(keel_driver_ops), .version = KEEL_DRIVER_OPS_VERSION,
 *         .name = "edu", .id_table = KEEL_DEVICE_TABLE_OF(edu_ids), .probe = edu_probe,
 *     };
 *
 * KEEL_DEVICE_TABLE puts the table, with its header, into the section
 * .keel_device_table: the loader reads it from the file to load the module
 * when a matching device appears (autoload), kmodpost checks it at build
 * time, and modinfo prints one Linux-format alias per entry.
 *
 * The keel_mmio accessors check the offset and width of every access
 * against the mapping's length, inline; an access outside it reads all
 * ones, writes nothing, and is reported through keel_mmio_bad_access.
 */
#ifndef KEEL_DEVICE_H
#define KEEL_DEVICE_H

#include <keel/keel.h>
#include <stdint.h>

/*
 * A match table named `name` for `bus` (pci, virtio or of) with the given
 * entries, e.g. KEEL_PCI_DEVICE(0x1af4, 0x1042),
 * KEEL_VIRTIO_DEVICE(KEEL_VIRTIO_ID_BLOCK) or KEEL_OF_COMPATIBLE("arm,pl031").
 * There is no terminating entry. The entries are also counted through a
 * never-emitted array of the same initializers, which works in C and C++
 * alike.
 */
#define KEEL_DEVICE_TABLE_BUS_pci KEEL_BUS_PCI
#define KEEL_DEVICE_TABLE_BUS_virtio KEEL_BUS_VIRTIO
#define KEEL_DEVICE_TABLE_BUS_of KEEL_BUS_OF
#define KEEL_DEVICE_TABLE(bus, name, ...)                                                                              \
    __attribute__((unused)) static const keel_##bus##_device_id keel_device_table_count_##name[] = { __VA_ARGS__ };    \
    __attribute__((section(".keel_device_table"), used, aligned(8))) static const struct {                             \
        keel_device_table header;                                                                                      \
        keel_##bus##_device_id entries[sizeof(keel_device_table_count_##name) / sizeof(keel_##bus##_device_id)];       \
    } name = { { KEEL_DEVICE_TABLE_MAGIC, KEEL_DEVICE_TABLE_VERSION, KEEL_DEVICE_TABLE_BUS_##bus,                      \
                   (uint32_t)sizeof(keel_device_table), (uint32_t)sizeof(keel_##bus##_device_id),                      \
                   (uint32_t)(sizeof(keel_device_table_count_##name) / sizeof(keel_##bus##_device_id)), 0 },           \
        { __VA_ARGS__ } }

/* What keel_driver_ops.id_table takes. */
#define KEEL_DEVICE_TABLE_OF(name) (&(name).header)

/* virtio entries (Linux's { VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID }). */
#define KEEL_VIRTIO_DEVICE(type)                                                                                       \
    {                                                                                                                  \
        (type), KEEL_VIRTIO_DEV_ANY_ID, 0                                                                              \
    }

/* of entries: a compatible string, as Linux's { .compatible = "arm,pl031" }. */
#define KEEL_OF_COMPATIBLE(compatible_string)                                                                          \
    {                                                                                                                  \
        "", "", compatible_string, 0                                                                                   \
    }

/* pci entries (Linux's PCI_DEVICE, PCI_DEVICE_SUB, PCI_DEVICE_CLASS). */
#define KEEL_PCI_DEVICE(vendor, device)                                                                                \
    {                                                                                                                  \
        (vendor), (device), KEEL_PCI_ANY_ID, KEEL_PCI_ANY_ID, 0, 0, 0                                                  \
    }
#define KEEL_PCI_DEVICE_DATA(vendor, device, data)                                                                     \
    {                                                                                                                  \
        (vendor), (device), KEEL_PCI_ANY_ID, KEEL_PCI_ANY_ID, 0, 0, (data)                                             \
    }
#define KEEL_PCI_DEVICE_SUB(vendor, device, subvendor, subdevice)                                                      \
    {                                                                                                                  \
        (vendor), (device), (subvendor), (subdevice), 0, 0, 0                                                          \
    }
#define KEEL_PCI_DEVICE_CLASS(class_code, class_mask)                                                                  \
    {                                                                                                                  \
        KEEL_PCI_ANY_ID, KEEL_PCI_ANY_ID, KEEL_PCI_ANY_ID, KEEL_PCI_ANY_ID, (class_code), (class_mask), 0              \
    }

/* 0 when [offset, offset + width) lies inside the mapping. */
static inline int keel_mmio_check(const keel_mmio* mmio, uint64_t offset, uint32_t width)
{
    return (offset <= mmio->length && width <= mmio->length - offset) ? 0 : -KEEL_EINVAL;
}

#define KEEL_MMIO_ACCESSORS_(bits)                                                                                     \
    static inline uint##bits##_t keel_mmio_read##bits(const keel_mmio* mmio, uint64_t offset)                          \
    {                                                                                                                  \
        if (__builtin_expect(keel_mmio_check(mmio, offset, (bits) / 8) != 0, 0)) {                                     \
            keel_mmio_bad_access(mmio, offset, (bits) / 8);                                                            \
            return (uint##bits##_t) ~(uint##bits##_t)0;                                                                \
        }                                                                                                              \
        return *(volatile const uint##bits##_t*)(mmio->base + offset);                                                 \
    }                                                                                                                  \
    static inline void keel_mmio_write##bits(const keel_mmio* mmio, uint64_t offset, uint##bits##_t value)             \
    {                                                                                                                  \
        if (__builtin_expect(keel_mmio_check(mmio, offset, (bits) / 8) != 0, 0)) {                                     \
            keel_mmio_bad_access(mmio, offset, (bits) / 8);                                                            \
            return;                                                                                                    \
        }                                                                                                              \
        *(volatile uint##bits##_t*)(mmio->base + offset) = value;                                                      \
    }

KEEL_MMIO_ACCESSORS_(8)
KEEL_MMIO_ACCESSORS_(16)
KEEL_MMIO_ACCESSORS_(32)
KEEL_MMIO_ACCESSORS_(64)
#undef KEEL_MMIO_ACCESSORS_

#endif /* KEEL_DEVICE_H */
