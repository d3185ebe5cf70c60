#include "lib/devtable/device_table.h"

#include "lib/base/string.h"
#include "lib/devtable/pci.h"

namespace keel::devtable {

namespace {

template<typename T> T read_le(const uint8_t* bytes)
{
    T value = 0;
    for (size_t i = 0; i < sizeof(T); i++)
        value = T(value | T(T(bytes[i]) << (8 * i)));
    return value;
}

// A NUL-padded name field: 1 .. size-1 of [a-z0-9_], then only NULs.
bool valid_name_field(const uint8_t* field, size_t size)
{
    size_t length = 0;
    while (length < size && field[length] != 0) {
        uint8_t c = field[length];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
        length++;
    }
    if (length == 0 || length == size)
        return false;
    for (size_t i = length; i < size; i++) {
        if (field[i] != 0)
            return false;
    }
    return true;
}

// For messages: the printable prefix of a name field that failed the check.
int printable_length(const uint8_t* field, size_t size)
{
    size_t length = 0;
    while (length < size && field[length] >= 0x20 && field[length] < 0x7f)
        length++;
    return int(length);
}

} // namespace

bool bus_kind_for(const char* name, BusKind& kind, uint32_t& entry_size)
{
    if (strcmp(name, "pci") == 0) {
        kind = BusKind::Pci;
        entry_size = sizeof(PciDeviceId);
        return true;
    }
    return false;
}

Result<Table> parse_table(const uint8_t* bytes, size_t size, size_t offset, size_t& consumed, Diagnostic& diagnostic)
{
    if (offset % 8 != 0)
        return diagnostic.fail(Error::EINVAL, "table at offset %zu is not 8-byte aligned", offset);
    if (size < kHeaderSize)
        return diagnostic.fail(Error::EINVAL, "table at offset %zu: %zu bytes left, less than a %zu-byte header",
            offset, size, kHeaderSize);
    uint32_t magic = read_le<uint32_t>(bytes);
    if (magic != kMagic)
        return diagnostic.fail(
            Error::EINVAL, "table at offset %zu: magic 0x%08x is not \"KDEV\" (0x%08x)", offset, magic, kMagic);
    uint16_t version = read_le<uint16_t>(bytes + 4);
    uint16_t header_size = read_le<uint16_t>(bytes + 6);
    uint32_t entry_size = read_le<uint32_t>(bytes + 8);
    uint32_t count = read_le<uint32_t>(bytes + 12);
    const uint8_t* bus = bytes + 16;
    const uint8_t* name = bytes + 32;
    if (!valid_name_field(name, kTableNameSize))
        return diagnostic.fail(Error::EINVAL,
            "table at offset %zu: name \"%.*s\" is not 1 to %zu of [a-z0-9_], NUL-padded", offset,
            printable_length(name, kTableNameSize), name, kTableNameSize - 1);
    auto table_name = reinterpret_cast<const char*>(name);
    if (version != kFormatVersion)
        return diagnostic.fail(
            Error::EINVAL, "table %s: format version %u is not supported (%u)", table_name, version, kFormatVersion);
    if (header_size != kHeaderSize)
        return diagnostic.fail(
            Error::EINVAL, "table %s: header size %u is not %zu", table_name, header_size, kHeaderSize);
    if (!valid_name_field(bus, kBusNameSize))
        return diagnostic.fail(Error::EINVAL, "table %s: bus \"%.*s\" is not 1 to %zu of [a-z0-9_], NUL-padded",
            table_name, printable_length(bus, kBusNameSize), bus, kBusNameSize - 1);
    auto bus_name = reinterpret_cast<const char*>(bus);
    Table table {};
    uint32_t expected_size = 0;
    if (!bus_kind_for(bus_name, table.bus, expected_size))
        return diagnostic.fail(Error::EINVAL, "table %s: bus \"%s\" is unknown (known: pci)", table_name, bus_name);
    if (entry_size != expected_size)
        return diagnostic.fail(Error::EINVAL, "table %s: entry size %u is not the %s bus's %u", table_name, entry_size,
            bus_name, expected_size);
    if (count == 0 || count > kMaxEntries)
        return diagnostic.fail(
            Error::EINVAL, "table %s: entry count %u is not 1 to %u", table_name, count, kMaxEntries);
    uint64_t length = kHeaderSize + uint64_t(entry_size) * count;
    if (length > size)
        return diagnostic.fail(Error::EINVAL, "table %s: %u entries of %u bytes run %llu bytes past the section's end",
            table_name, count, entry_size, (unsigned long long)(length - size));
    table.bus_name = bus_name;
    table.name = table_name;
    table.entries = bytes + kHeaderSize;
    table.entry_size = entry_size;
    table.entry_count = count;
    table.offset = offset;
    for (uint32_t i = 0; i < count; i++) {
        if (table.bus == BusKind::Pci) {
            PciDeviceId entry = pci_entry(table, i);
            TRY(pci_check_entry(entry, table_name, i, diagnostic));
        }
    }
    // Padding to the next table: zeros only, up to the next multiple of 8.
    uint64_t end = length;
    while (end % 8 != 0 && end < size) {
        if (bytes[end] != 0)
            return diagnostic.fail(Error::EINVAL, "table %s: padding byte at offset %llu is 0x%02x, not 0", table_name,
                (unsigned long long)(offset + end), bytes[end]);
        end++;
    }
    consumed = size_t(end);
    return table;
}

size_t entry_alias(const Table& table, uint32_t index, char* out, size_t size)
{
    switch (table.bus) {
    case BusKind::Pci: return pci_alias_pattern(pci_entry(table, index), out, size);
    }
    return 0;
}

} // namespace keel::devtable
