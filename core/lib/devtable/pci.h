// PCI identities and match entries, as Linux has them: an entry matches a
// function when each of vendor, device, subsystem vendor and subsystem
// device equals the function's or is PCI_ANY_ID, and the class bits the
// mask selects are equal. The modalias of a function and the alias pattern
// of an entry are byte-identical to Linux's (pci:v...d...sv...sd...bc..sc..i..).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/devtable/device_table.h"

namespace keel::devtable {

inline constexpr uint32_t kPciAnyId = 0xffffffff;

// One entry of a pci table: the layout of the ABI's keel_pci_device_id.
struct PciDeviceId {
    uint32_t vendor;
    uint32_t device;
    uint32_t subvendor;
    uint32_t subdevice;
    uint32_t class_code; // base class << 16 | subclass << 8 | programming interface
    uint32_t class_mask;
    uint64_t driver_data;
};
static_assert(sizeof(PciDeviceId) == 32);

// What a function says about itself in its configuration header.
struct PciIdentity {
    uint16_t vendor;
    uint16_t device;
    uint16_t subvendor;
    uint16_t subdevice;
    uint32_t class_code; // 24 bits
};

bool pci_id_matches(const PciDeviceId& entry, const PciIdentity& identity);

// "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00"
size_t pci_modalias(const PciIdentity& identity, char* out, size_t size);
// "pci:v00001234d000011E8sv*sd*bc*sc*i*"
size_t pci_alias_pattern(const PciDeviceId& entry, char* out, size_t size);

// Entry `index` of a pci table (the bytes need not be aligned).
PciDeviceId pci_entry(const Table& table, uint32_t index);

// The rules an entry must follow to be usable (and expressible as an alias):
// no class bits outside 24, class masks of whole bytes, no class bits the
// mask ignores, not all zero, not matching every function.
Result<void> pci_check_entry(const PciDeviceId& entry, const char* table, uint32_t index, Diagnostic& diagnostic);

} // namespace keel::devtable
