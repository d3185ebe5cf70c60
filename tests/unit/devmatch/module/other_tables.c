/* Two more tables from another object file: the linker concatenates the
 * sections, padding to each one's alignment (16 here, so zero bytes follow
 * the PCI table). */
#include "lib/devmatch/device_table_abi.h"

__attribute__((used, section(KEEL_DEVICE_TABLE_SECTION), aligned(16))) static const struct {
    struct keel_dt_header header;
    struct keel_dt_virtio_id entries[2];
} virtio_table = {
    { KEEL_DT_MAGIC, KEEL_DT_VERSION, KEEL_DT_BUS_VIRTIO, sizeof(struct keel_dt_header),
        sizeof(struct keel_dt_virtio_id), 2, 0 },
    {
        { 2, KEEL_DT_VIRTIO_ANY_ID, 0 },
        { 4, 0x1af4, 0 },
    },
};

__attribute__((used, section(KEEL_DEVICE_TABLE_SECTION), aligned(KEEL_DEVICE_TABLE_ALIGN))) static const struct {
    struct keel_dt_header header;
    struct keel_dt_of_id entries[2];
} of_table = {
    { KEEL_DT_MAGIC, KEEL_DT_VERSION, KEEL_DT_BUS_OF, sizeof(struct keel_dt_header), sizeof(struct keel_dt_of_id), 2,
        0 },
    {
        { "", "", "virtio,mmio", 7 },
        { "serial", "", "", 8 },
    },
};
