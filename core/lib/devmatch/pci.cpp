#include "lib/devmatch/pci.h"

#include "lib/base/format.h"
#include "lib/devmatch/text.h"

namespace keel::devmatch {

bool pci_matches(const PciMatch& entry, const PciId& id)
{
    return (entry.vendor == PCI_ANY_ID || entry.vendor == id.vendor)
        && (entry.device == PCI_ANY_ID || entry.device == id.device)
        && (entry.subvendor == PCI_ANY_ID || entry.subvendor == id.subvendor)
        && (entry.subdevice == PCI_ANY_ID || entry.subdevice == id.subdevice)
        && ((entry.class_code ^ id.class_code) & entry.class_mask) == 0;
}

Result<size_t> pci_match_table(const PciMatch* table, size_t count, const PciId& id)
{
    for (size_t i = 0; i < count; ++i) {
        if (pci_matches(table[i], id))
            return i;
    }
    return Err(Error::ENOENT);
}

Result<size_t> format_pci_modalias(const PciId& id, char* buffer, size_t size)
{
    TextBuffer text(buffer, size);
    text.append("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", id.vendor, id.device, id.subvendor, id.subdevice,
        (id.class_code >> 16) & 0xff, (id.class_code >> 8) & 0xff, id.class_code & 0xff);
    return text.finish();
}

Result<size_t> format_pci_alias(const PciMatch& entry, char* buffer, size_t size, Diagnostic* diagnostic)
{
    // file2alias splits the class into three bytes and can only say "this
    // byte" or "any byte" for each; bits above the 24 are not looked at.
    for (unsigned shift = 0; shift <= 16; shift += 8) {
        uint8_t mask = uint8_t(entry.class_mask >> shift);
        if (mask != 0 && mask != 0xff) {
            diagnose(diagnostic, "class_mask 0x%06x cannot be an alias: each byte must be 0x00 or 0xff",
                entry.class_mask & 0xffffff);
            return Err(Error::EINVAL);
        }
    }
    TextBuffer text(buffer, size);
    text.append("pci:");
    text.field32("v", entry.vendor != PCI_ANY_ID, entry.vendor);
    text.field32("d", entry.device != PCI_ANY_ID, entry.device);
    text.field32("sv", entry.subvendor != PCI_ANY_ID, entry.subvendor);
    text.field32("sd", entry.subdevice != PCI_ANY_ID, entry.subdevice);
    const char* names[] = { "bc", "sc", "i" };
    unsigned shift = 16;
    for (const char* name : names) {
        bool exact = uint8_t(entry.class_mask >> shift) == 0xff;
        text.field8(name, exact, uint8_t(entry.class_code >> shift));
        shift -= 8;
    }
    text.add_wildcard();
    return text.finish();
}

} // namespace keel::devmatch
