// Reading a module's match-table section (".keel_device_table", laid out
// in device_table_abi.h) from hostile bytes: the loader indexes a module's
// tables without running it, kmodpost checks them, kmodinfo prints their
// aliases.
//
//   DeviceTableReader reader(section, size, &diagnostic);
//   while (auto table = reader.next()) {
//       for (uint32_t i = 0; i < table.value().count; ++i)
//           if (table.value().bus == DeviceBus::Pci)
//               index(pci_entry(table.value(), i));
//   }
//   TRY(reader.status());
//
// next() validates a whole table (header and every entry) before it
// returns it, so the entry accessors cannot fail. Errors are ENOEXEC, the
// error of a malformed module, with a message naming the table, its
// offset, the field and its value, e.g.
//
//   table 2 at offset 0x40: entry_size 24 is smaller than a version-1 PCI entry (32 bytes)
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/devmatch/device_table_abi.h"
#include "lib/devmatch/of.h"
#include "lib/devmatch/pci.h"
#include "lib/devmatch/virtio_id.h"

namespace keel::devmatch {

enum class DeviceBus : uint16_t {
    Pci = KEEL_DT_BUS_PCI,
    Virtio = KEEL_DT_BUS_VIRTIO,
    Of = KEEL_DT_BUS_OF,
};

// "pci", "virtio", "of"; "unknown" otherwise.
const char* device_bus_name(DeviceBus bus);

// One validated table: a view into the section.
struct DeviceTable {
    size_t index = 0;  // 1-based, in section order
    size_t offset = 0; // of its header, from the section's start
    DeviceBus bus = DeviceBus::Pci;
    uint16_t version = 0;
    uint32_t entry_size = 0;
    uint32_t count = 0;
    const uint8_t* entries = nullptr;
};

class DeviceTableReader {
public:
    // `diagnostic` (optional) receives the first error's message.
    DeviceTableReader(const void* section, size_t size, Diagnostic* diagnostic = nullptr);

    // The next table; ENODATA after the last, ENOEXEC for a malformed
    // section (then every later call fails the same way).
    Result<DeviceTable> next();
    // After next() failed: success if the section ended cleanly.
    Result<void> status() const;

private:
    Err fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    Result<void> check_entries(const DeviceTable& table);

    const uint8_t* m_data;
    size_t m_size;
    Diagnostic* m_diagnostic;
    size_t m_offset = 0;
    size_t m_index = 0;
    bool m_done = false;
    Error m_error = Error(0);
};

// The entries of a table next() returned; `index` < count and the bus
// must be the accessor's (both VERIFYed).
PciMatch pci_entry(const DeviceTable& table, uint32_t index);
VirtioMatch virtio_entry(const DeviceTable& table, uint32_t index);
// Views into the section's bytes: valid while the section is.
OfMatch of_entry(const DeviceTable& table, uint32_t index);

// Room for any alias pattern or modalias of any bus, its NUL included.
constexpr size_t kAliasSize = kOfAliasSize;
// How many alias patterns each entry of `table` has, as modpost writes
// them: two for the device tree (exact, and with more compatible strings
// after it), one otherwise.
size_t entry_alias_count(const DeviceTable& table);
// Alias `which` (< entry_alias_count) of entry `index`. EINVAL (with a
// message) for an entry no alias can express (a PCI class mask byte that
// is neither 0x00 nor 0xff), ERANGE when `size` is too small.
Result<size_t> format_entry_alias(const DeviceTable& table, uint32_t index, size_t which, char* buffer, size_t size,
    Diagnostic* diagnostic = nullptr);
// Every entry of `table` has its aliases (kmodpost and driver registration
// refuse a table with an entry no alias can express, so that autoload
// finds every device the driver would bind).
Result<void> check_entry_aliases(const DeviceTable& table, Diagnostic* diagnostic = nullptr);

// A whole section as a module carries it: every table valid and every
// entry with its aliases. Returns the number of tables (ENOEXEC for a
// malformed section, EINVAL for an entry without an alias).
Result<size_t> check_device_table_section(const void* section, size_t size, Diagnostic* diagnostic = nullptr);

// visit(const char* alias) for every alias of every entry, in order, of a
// section check_device_table_section accepted.
template<typename F> void for_each_alias(const void* section, size_t size, F&& visit)
{
    DeviceTableReader reader(section, size);
    char alias[kAliasSize];
    for (;;) {
        auto table = reader.next();
        if (table.is_error())
            return;
        for (uint32_t i = 0; i < table.value().count; i++) {
            for (size_t which = 0; which < entry_alias_count(table.value()); which++) {
                if (format_entry_alias(table.value(), i, which, alias, sizeof(alias)).is_ok())
                    visit(static_cast<const char*>(alias));
            }
        }
    }
}

} // namespace keel::devmatch
