// Fuzzes the match-table section reader: a module's section is input the
// kernel reads before it trusts the module. Beyond the sanitizers: every
// table returned lies inside the section, its entries read back, each
// entry's alias is well-formed, and a device built to satisfy an entry
// matches it both by table and by alias, as autoload will match it.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/devmatch/device_table.h"
#include "lib/devmatch/glob.h"

using namespace keel;
using namespace keel::devmatch;

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

void check_pci(const PciMatch& entry)
{
    char pattern[kPciAliasSize];
    auto alias = format_pci_alias(entry, pattern, sizeof(pattern));
    if (alias.is_error()) {
        // Only masks file2alias cannot write are refused.
        check(alias.error() == Error::EINVAL);
        return;
    }
    check(strlen(pattern) == alias.value());
    // A device carrying exactly what the entry asks for (and zeros where
    // it asks nothing) matches, both ways.
    PciId id;
    id.vendor = entry.vendor == PCI_ANY_ID ? 0 : uint16_t(entry.vendor);
    id.device = entry.device == PCI_ANY_ID ? 0 : uint16_t(entry.device);
    id.subvendor = entry.subvendor == PCI_ANY_ID ? 0 : uint16_t(entry.subvendor);
    id.subdevice = entry.subdevice == PCI_ANY_ID ? 0 : uint16_t(entry.subdevice);
    id.class_code = entry.class_code & entry.class_mask;
    check(pci_matches(entry, id));
    char modalias[kPciModaliasSize];
    check(format_pci_modalias(id, modalias, sizeof(modalias)).is_ok());
    check(glob_match(pattern, modalias));
    // One field changed where the entry is exact: neither matches.
    if (entry.vendor != PCI_ANY_ID) {
        id.vendor ^= 1;
        check(!pci_matches(entry, id));
        check(format_pci_modalias(id, modalias, sizeof(modalias)).is_ok());
        check(!glob_match(pattern, modalias));
    }
}

void check_virtio(const VirtioMatch& entry)
{
    char pattern[kVirtioAliasSize];
    check(format_virtio_alias(entry, pattern, sizeof(pattern)).is_ok());
    VirtioId id { entry.device == VIRTIO_DEV_ANY_ID ? 7u : entry.device,
        entry.vendor == VIRTIO_DEV_ANY_ID ? 0x1af4u : entry.vendor };
    check(virtio_matches(entry, id));
    char modalias[kVirtioModaliasSize];
    check(format_virtio_modalias(id, modalias, sizeof(modalias)).is_ok());
    check(glob_match(pattern, modalias));
}

void check_of(const OfMatch& entry)
{
    check(strlen(entry.name) < kOfNameSize && strlen(entry.type) < kOfTypeSize
        && strlen(entry.compatible) < kOfCompatibleSize);
    char first[kOfAliasSize];
    char second[kOfAliasSize];
    check(format_of_aliases(entry, first, sizeof(first), second, sizeof(second)).is_ok());
    check(strncmp(first, second, strlen(first)) == 0);
    // A node with exactly the entry's compatible string (when it has one
    // without whitespace or glob characters) matches.
    if (entry.compatible[0] && !entry.name[0] && !entry.type[0] && !strpbrk(entry.compatible, " \t\n\v\f\r*?[\\")) {
        std::vector<char> property(entry.compatible, entry.compatible + strlen(entry.compatible) + 1);
        OfNode node { "node", nullptr, property.data(), property.size() };
        check(of_match_table(&entry, 1, node).is_ok());
        char modalias[kOfAliasSize + 16];
        check(format_of_modalias(node, modalias, sizeof(modalias)).is_ok());
        check(glob_match(first, modalias));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // A copy of exactly `size` bytes, so reads past the end are caught.
    std::vector<uint8_t> section(data, data + size);
    Diagnostic diagnostic;
    DeviceTableReader reader(section.data(), size, &diagnostic);
    size_t previous_end = 0;
    for (;;) {
        auto table = reader.next();
        if (table.is_error()) {
            check(table.error() == Error::ENODATA || table.error() == Error::ENOEXEC);
            check((table.error() == Error::ENOEXEC) == !diagnostic.empty());
            break;
        }
        const DeviceTable& t = table.value();
        check(t.offset >= previous_end && t.offset % KEEL_DEVICE_TABLE_ALIGN == 0);
        check(t.entries >= section.data() + t.offset + sizeof(keel_dt_header));
        check(t.entries + uint64_t(t.count) * t.entry_size <= section.data() + size);
        previous_end = size_t(t.entries - section.data()) + size_t(t.count) * t.entry_size;
        for (uint32_t i = 0; i < t.count; ++i) {
            switch (t.bus) {
            case DeviceBus::Pci: check_pci(pci_entry(t, i)); break;
            case DeviceBus::Virtio: check_virtio(virtio_entry(t, i)); break;
            case DeviceBus::Of: check_of(of_entry(t, i)); break;
            }
        }
    }
    check(reader.next().is_error());
    return 0;
}
