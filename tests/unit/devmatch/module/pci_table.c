/* A driver's PCI match table, written against the C layout alone
 * (device_table_abi.h) and placed in the section the way a module does. */
#include "lib/devmatch/device_table_abi.h"

__attribute__((used, section(KEEL_DEVICE_TABLE_SECTION), aligned(KEEL_DEVICE_TABLE_ALIGN))) static const struct {
    struct keel_dt_header header;
    struct keel_dt_pci_id entries[3];
} pci_table = {
    { KEEL_DT_MAGIC, KEEL_DT_VERSION, KEEL_DT_BUS_PCI, sizeof(struct keel_dt_header), sizeof(struct keel_dt_pci_id), 3,
        0 },
    {
        { 0x1af4, 0x1042, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, 0, 0, 1 },
        { 0x1af4, 0x1001, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, 0, 0, 2 },
        { KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, 0x010601, 0xffffff, 3 },
    },
};

int sample_module_function(void) { return 0; }
