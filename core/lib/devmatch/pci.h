// PCI device identity and match entries with Linux's semantics, and their
// Linux-format strings: the MODALIAS a device announces and the alias
// pattern modinfo prints for a match entry.
//
//   device:  pci:v00001AF4d00001042sv00001AF4sd00001100bc01sc00i00
//   entry:   pci:v00001AF4d00001042sv*sd*bc*sc*i*
//
// A match field of PCI_ANY_ID matches anything; the class matches when
// (entry.class_code ^ device.class_code) & entry.class_mask is 0, as in
// Linux's pci_match_one_device. Goldens: tests/unit/devmatch/linux_goldens.txt
// (what Linux 6.1 printed for QEMU's devices).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::devmatch {

constexpr uint32_t PCI_ANY_ID = 0xffffffff;

struct PciId {
    uint16_t vendor = 0;
    uint16_t device = 0;
    uint16_t subvendor = 0;  // subsystem vendor ID
    uint16_t subdevice = 0;  // subsystem ID
    uint32_t class_code = 0; // 24 bits: base class, subclass, programming interface
    uint8_t revision = 0;
};

struct PciMatch {
    uint32_t vendor = PCI_ANY_ID;
    uint32_t device = PCI_ANY_ID;
    uint32_t subvendor = PCI_ANY_ID;
    uint32_t subdevice = PCI_ANY_ID;
    uint32_t class_code = 0;
    uint32_t class_mask = 0; // 0: any class
    uint64_t driver_data = 0;
};

bool pci_matches(const PciMatch& entry, const PciId& id);
// The index of the first entry of `table` that matches, or ENOENT.
Result<size_t> pci_match_table(const PciMatch* table, size_t count, const PciId& id);

// Longest PCI modalias, its NUL included.
constexpr size_t kPciModaliasSize = 54;
// The longest alias pattern of a PCI match entry, its NUL included.
constexpr size_t kPciAliasSize = 55;

// The device's MODALIAS, as Linux's pci_uevent formats it. Returns the
// length; ERANGE (nothing useful written) when `size` is too small.
Result<size_t> format_pci_modalias(const PciId& id, char* buffer, size_t size);
// The entry's alias pattern, as Linux's modpost (file2alias) writes it: a
// field of PCI_ANY_ID is "*", a class byte whose mask byte is 0x00 is "*".
// EINVAL (with a message) when a mask byte is neither 0x00 nor 0xff,
// which no alias pattern can express (modpost refuses it too); ERANGE when
// `size` is too small.
Result<size_t> format_pci_alias(const PciMatch& entry, char* buffer, size_t size, Diagnostic* diagnostic = nullptr);

} // namespace keel::devmatch
