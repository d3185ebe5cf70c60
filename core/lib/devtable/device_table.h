// The `.keel_device_table` section: the match tables a driver module
// declares as data (KEEL_DEVICE_TABLE in the SDK's keel/device.h), read by
// the core when the driver registers, by the loader to index modules
// without running them, and by kmodpost and kmodinfo on the host. One
// parser for all four; its input is hostile (a module file), so every
// field is checked and a refusal names the table, the field and the value.
//
// Layout, little-endian, tables one after the other, each 8-byte aligned:
//
//     offset  size  field
//          0     4  magic "KDEV"
//          4     2  format version (1)
//          6     2  header size (64)
//          8     4  entry size (the bus's, e.g. 32 for pci)
//         12     4  entry count (1 .. 4096)
//         16    16  bus name, NUL-padded ([a-z0-9_], 1 .. 15)
//         32    32  table name, NUL-padded ([a-z0-9_], 1 .. 31)
//         64        entries
//
// There is no terminating entry: the count says where a table ends.
// Between tables, up to 7 zero bytes pad to the next multiple of 8.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::devtable {

inline constexpr const char* kSectionName = ".keel_device_table";
inline constexpr uint32_t kMagic = 0x5645444b; // "KDEV"
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kBusNameSize = 16;
inline constexpr size_t kTableNameSize = 32;
inline constexpr uint32_t kMaxEntries = 4096;
inline constexpr size_t kMaxTables = 64;
// Longest alias pattern or modalias any bus produces, NUL included.
inline constexpr size_t kAliasCapacity = 96;

enum class BusKind : uint8_t {
    Pci,
};

struct Table {
    BusKind bus;
    const char* bus_name; // NUL-terminated (checked), points into the input
    const char* name;
    const uint8_t* entries; // entry_count * entry_size bytes, not aligned
    uint32_t entry_size;
    uint32_t entry_count;
    size_t offset; // of the header in the input, for messages
};

// The bus kind for a bus name, and the entry size its tables must have.
bool bus_kind_for(const char* name, BusKind& kind, uint32_t& entry_size);

// One table at the start of `bytes`; `consumed` is its size with the
// padding to the next table. Messages name the table by offset and name.
Result<Table> parse_table(const uint8_t* bytes, size_t size, size_t offset, size_t& consumed, Diagnostic& diagnostic);

// Every table of a section, in order; `visit(const Table&)` returns false
// to stop. Nothing is visited unless the whole section is valid.
template<typename F> Result<size_t> for_each_table(const uint8_t* bytes, size_t size, Diagnostic& diagnostic, F&& visit)
{
    size_t count = 0;
    for (size_t offset = 0; offset < size; count++) {
        if (count == kMaxTables)
            return diagnostic.fail(Error::E2BIG, "more than %zu device tables", kMaxTables);
        size_t consumed = 0;
        TRY(parse_table(bytes + offset, size - offset, offset, consumed, diagnostic));
        offset += consumed;
    }
    for (size_t offset = 0; offset < size;) {
        size_t consumed = 0;
        Table table = MUST(parse_table(bytes + offset, size - offset, offset, consumed, diagnostic));
        if (!visit(table))
            break;
        offset += consumed;
    }
    return count;
}

// The Linux-format alias pattern of entry `index` ("pci:v00001234d000011E8sv*sd*bc*sc*i*").
size_t entry_alias(const Table& table, uint32_t index, char* out, size_t size);

} // namespace keel::devtable
