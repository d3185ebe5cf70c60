/*
 * The match-table section of a driver module, as C: the layout drivers
 * write (from C, C++ or Rust) and the loader, kmodpost and kmodinfo read
 * without running the module. Usable from C11 and C++; fixed-width types
 * only; little-endian, as the module's machine.
 *
 * Drivers get these types from the SDK (keel_device_table,
 * keel_pci_device_id, keel_virtio_device_id in keel/keel.h, generated from
 * abi/keel.toml). This is the readers' own copy under keel_dt_ names, so
 * that the format library stays free of the generated headers and can sit
 * beside them in one file; tests/unit/device/test_device_table_layout.cpp
 * checks that both describe the same bytes.
 *
 * A module's ".keel_device_table" section holds one or more tables, each
 * starting at an offset from the section's start that is a multiple of 8
 * (zero bytes pad in between, as the linker leaves them):
 *
 *   struct keel_dt_header   magic, version, bus, sizes, count
 *   entries                 entry_count * entry_size bytes
 *
 * No pointers: the bytes are read from the file as they are, before any
 * relocation. A later version may lengthen the header or the entries
 * (header_size and entry_size say by how much); a reader takes the fields
 * it knows from the front of each. lib/devmatch/device_table.h validates a
 * section; docs/devices.md lists what it checks.
 */
#ifndef KEEL_DEVICE_TABLE_ABI_H
#define KEEL_DEVICE_TABLE_ABI_H

#include <stddef.h>
#include <stdint.h>

#define KEEL_DEVICE_TABLE_SECTION ".keel_device_table"
/* The bytes "KDTB" read as a little-endian 32-bit word. */
#define KEEL_DT_MAGIC 0x4254444bu
#define KEEL_DT_VERSION 1u
#define KEEL_DEVICE_TABLE_ALIGN 8u

/* bus */
#define KEEL_DT_BUS_PCI 1u
#define KEEL_DT_BUS_VIRTIO 2u
#define KEEL_DT_BUS_OF 3u

struct keel_dt_header {   /* NOLINT(readability-identifier-naming): a C layout */
    uint32_t magic;       /* KEEL_DT_MAGIC */
    uint16_t version;     /* KEEL_DT_VERSION */
    uint16_t bus;         /* KEEL_DT_BUS_* */
    uint32_t header_size; /* where the entries start: sizeof(struct keel_dt_header) */
    uint32_t entry_size;  /* bytes per entry: at least the bus's entry structure */
    uint32_t entry_count;
    uint32_t flags; /* 0: none are defined */
};

/* Linux's PCI_ANY_ID and struct pci_device_id semantics. */
#define KEEL_DT_PCI_ANY_ID 0xffffffffu
struct keel_dt_pci_id {  /* NOLINT(readability-identifier-naming): a C layout */
    uint32_t vendor;     /* 16-bit ID or KEEL_DT_PCI_ANY_ID */
    uint32_t device;     /* likewise */
    uint32_t subvendor;  /* likewise */
    uint32_t subdevice;  /* likewise */
    uint32_t class_code; /* 24 bits: base class, subclass, programming interface */
    uint32_t class_mask; /* 24 bits: the class bits compared */
    uint64_t driver_data;
};

/* Linux's VIRTIO_DEV_ANY_ID and struct virtio_device_id semantics. */
#define KEEL_DT_VIRTIO_ANY_ID 0xffffffffu
struct keel_dt_virtio_id { /* NOLINT(readability-identifier-naming): a C layout */
    uint32_t device;       /* virtio device type, or KEEL_DT_VIRTIO_ANY_ID */
    uint32_t vendor;       /* or KEEL_DT_VIRTIO_ANY_ID */
    uint64_t driver_data;
};

/* Linux's struct of_device_id, without the pointer: NUL-terminated
 * strings in fixed fields, empty for "not compared"; not all three empty. */
struct keel_dt_of_id { /* NOLINT(readability-identifier-naming): a C layout */
    char name[32];
    char type[32];
    char compatible[128];
    uint64_t driver_data;
};

#ifdef __cplusplus
#define KEEL_DEVICE_TABLE_ASSERT(condition, message) static_assert(condition, message)
#else
#define KEEL_DEVICE_TABLE_ASSERT(condition, message) _Static_assert(condition, message)
#endif

KEEL_DEVICE_TABLE_ASSERT(sizeof(struct keel_dt_header) == 24, "header layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_header, bus) == 6, "header layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_header, entry_count) == 16, "header layout");
KEEL_DEVICE_TABLE_ASSERT(sizeof(struct keel_dt_pci_id) == 32, "PCI entry layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_pci_id, class_mask) == 20, "PCI entry layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_pci_id, driver_data) == 24, "PCI entry layout");
KEEL_DEVICE_TABLE_ASSERT(sizeof(struct keel_dt_virtio_id) == 16, "virtio entry layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_virtio_id, driver_data) == 8, "virtio entry layout");
KEEL_DEVICE_TABLE_ASSERT(sizeof(struct keel_dt_of_id) == 200, "OF entry layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_of_id, compatible) == 64, "OF entry layout");
KEEL_DEVICE_TABLE_ASSERT(offsetof(struct keel_dt_of_id, driver_data) == 192, "OF entry layout");

#undef KEEL_DEVICE_TABLE_ASSERT

#endif
