#include "lib/devmatch/device_table.h"

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel::devmatch {

namespace {

constexpr size_t kHeaderSize = sizeof(keel_dt_header);

size_t minimum_entry_size(uint16_t bus)
{
    switch (bus) {
    case KEEL_DT_BUS_PCI: return sizeof(keel_dt_pci_id);
    case KEEL_DT_BUS_VIRTIO: return sizeof(keel_dt_virtio_id);
    case KEEL_DT_BUS_OF: return sizeof(keel_dt_of_id);
    }
    return 0;
}

const char* bus_label(uint16_t bus)
{
    switch (bus) {
    case KEEL_DT_BUS_PCI: return "PCI";
    case KEEL_DT_BUS_VIRTIO: return "virtio";
    case KEEL_DT_BUS_OF: return "OF";
    }
    return "?";
}

const uint8_t* entry_bytes(const DeviceTable& table, uint32_t index)
{
    VERIFY(index < table.count);
    return table.entries + size_t(index) * table.entry_size;
}

// Whether a fixed-size string field holds its NUL.
bool terminated(const char* field, size_t size) { return memchr(field, '\0', size) != nullptr; }

bool is_pci_id(uint32_t value) { return value <= 0xffff || value == KEEL_DT_PCI_ANY_ID; }

} // namespace

const char* device_bus_name(DeviceBus bus)
{
    switch (bus) {
    case DeviceBus::Pci: return "pci";
    case DeviceBus::Virtio: return "virtio";
    case DeviceBus::Of: return "of";
    }
    return "unknown";
}

DeviceTableReader::DeviceTableReader(const void* section, size_t size, Diagnostic* diagnostic)
    : m_data(static_cast<const uint8_t*>(section))
    , m_size(section ? size : 0)
    , m_diagnostic(diagnostic)
{
    if (m_diagnostic)
        m_diagnostic->clear();
}

Err DeviceTableReader::fail(const char* fmt, ...)
{
    m_done = true;
    m_error = Error::ENOEXEC;
    if (m_diagnostic) {
        size_t used = format(
            m_diagnostic->message, sizeof(m_diagnostic->message), "table %zu at offset 0x%zx: ", m_index, m_offset);
        if (used < sizeof(m_diagnostic->message)) {
            va_list args;
            va_start(args, fmt);
            vformat(m_diagnostic->message + used, sizeof(m_diagnostic->message) - used, fmt, args);
            va_end(args);
        }
    }
    return Err(m_error);
}

Result<void> DeviceTableReader::status() const
{
    if (m_error != Error(0))
        return Err(m_error);
    return {};
}

Result<DeviceTable> DeviceTableReader::next()
{
    if (m_done)
        return Err(m_error != Error(0) ? m_error : Error::ENODATA);
    // Zero padding between tables (and after the last) comes in whole
    // alignment units: tables start 8-byte aligned.
    while (m_offset < m_size && m_data[m_offset] == 0) {
        size_t unit_end = min(align_up(m_offset + 1, size_t(KEEL_DEVICE_TABLE_ALIGN)), m_size);
        size_t i = m_offset;
        while (i < unit_end && m_data[i] == 0)
            ++i;
        if (i < unit_end)
            break;
        m_offset = unit_end;
    }
    if (m_offset >= m_size) {
        m_done = true;
        return Err(Error::ENODATA);
    }
    ++m_index;
    if (m_offset % KEEL_DEVICE_TABLE_ALIGN != 0)
        return fail(
            "junk byte 0x%02x where a table or zero padding should be (tables start 8-byte aligned)", m_data[m_offset]);
    size_t left = m_size - m_offset;
    if (left < kHeaderSize)
        return fail("0x%zx bytes left, a header takes 0x%zx", left, kHeaderSize);

    keel_dt_header header;
    memcpy(&header, m_data + m_offset, kHeaderSize);
    if (header.magic != KEEL_DT_MAGIC)
        return fail("magic 0x%08x is not 0x%08x (\"KDTB\")", header.magic, KEEL_DT_MAGIC);
    if (header.version != KEEL_DT_VERSION)
        return fail(
            "format version %u is not supported (this kernel reads version %u)", header.version, KEEL_DT_VERSION);
    size_t minimum = minimum_entry_size(header.bus);
    if (minimum == 0)
        return fail("bus %u is unknown (1 pci, 2 virtio, 3 of)", header.bus);
    if (header.header_size < kHeaderSize || header.header_size > left)
        return fail("header_size 0x%x is outside 0x%zx..0x%zx (the header's size..the bytes left)", header.header_size,
            kHeaderSize, left);
    if (header.entry_size < minimum)
        return fail("entry_size %u is smaller than a version-%u %s entry (%zu bytes)", header.entry_size,
            KEEL_DT_VERSION, bus_label(header.bus), minimum);
    if (header.flags != 0)
        return fail("flags 0x%x: none are defined in version %u", header.flags, KEEL_DT_VERSION);
    // 32 x 32 bits: the product fits 64 bits.
    uint64_t entries_size = uint64_t(header.entry_count) * header.entry_size;
    size_t after_header = left - header.header_size;
    if (entries_size > after_header)
        return fail("%u entries of %u bytes (0x%llx) run past the end of the section (0x%zx bytes after the header)",
            header.entry_count, header.entry_size, static_cast<unsigned long long>(entries_size), after_header);

    DeviceTable table;
    table.index = m_index;
    table.offset = m_offset;
    table.bus = DeviceBus(header.bus);
    table.version = header.version;
    table.entry_size = header.entry_size;
    table.count = header.entry_count;
    table.entries = m_data + m_offset + header.header_size;
    TRY(check_entries(table));
    m_offset += header.header_size + size_t(entries_size);
    return table;
}

Result<void> DeviceTableReader::check_entries(const DeviceTable& table)
{
    for (uint32_t i = 0; i < table.count; ++i) {
        const uint8_t* bytes = entry_bytes(table, i);
        switch (table.bus) {
        case DeviceBus::Pci: {
            keel_dt_pci_id entry;
            memcpy(&entry, bytes, sizeof(entry));
            const struct {
                const char* name;
                uint32_t value;
            } ids[] = { { "vendor", entry.vendor }, { "device", entry.device }, { "subvendor", entry.subvendor },
                { "subdevice", entry.subdevice } };
            for (const auto& id : ids) {
                if (!is_pci_id(id.value))
                    return fail(
                        "entry %u: %s 0x%x is neither a 16-bit ID nor PCI_ANY_ID (0xffffffff)", i, id.name, id.value);
            }
            if (entry.class_code > 0xffffff || entry.class_mask > 0xffffff)
                return fail("entry %u: class 0x%x / mask 0x%x exceed the 24-bit class code", i, entry.class_code,
                    entry.class_mask);
            break;
        }
        case DeviceBus::Virtio: break; // every 32-bit value means something
        case DeviceBus::Of: {
            keel_dt_of_id entry;
            memcpy(&entry, bytes, sizeof(entry));
            if (!terminated(entry.name, sizeof(entry.name)))
                return fail("entry %u: name is not NUL-terminated within its %zu bytes", i, sizeof(entry.name));
            if (!terminated(entry.type, sizeof(entry.type)))
                return fail("entry %u: type is not NUL-terminated within its %zu bytes", i, sizeof(entry.type));
            if (!terminated(entry.compatible, sizeof(entry.compatible)))
                return fail(
                    "entry %u: compatible is not NUL-terminated within its %zu bytes", i, sizeof(entry.compatible));
            if (!entry.name[0] && !entry.type[0] && !entry.compatible[0])
                return fail("entry %u: name, type and compatible are all empty (it would match every node)", i);
            break;
        }
        }
    }
    return {};
}

PciMatch pci_entry(const DeviceTable& table, uint32_t index)
{
    VERIFY(table.bus == DeviceBus::Pci);
    keel_dt_pci_id entry;
    memcpy(&entry, entry_bytes(table, index), sizeof(entry));
    return PciMatch { entry.vendor, entry.device, entry.subvendor, entry.subdevice, entry.class_code, entry.class_mask,
        entry.driver_data };
}

VirtioMatch virtio_entry(const DeviceTable& table, uint32_t index)
{
    VERIFY(table.bus == DeviceBus::Virtio);
    keel_dt_virtio_id entry;
    memcpy(&entry, entry_bytes(table, index), sizeof(entry));
    return VirtioMatch { entry.device, entry.vendor, entry.driver_data };
}

OfMatch of_entry(const DeviceTable& table, uint32_t index)
{
    VERIFY(table.bus == DeviceBus::Of);
    const uint8_t* bytes = entry_bytes(table, index);
    uint64_t driver_data;
    memcpy(&driver_data, bytes + offsetof(keel_dt_of_id, driver_data), sizeof(driver_data));
    return OfMatch { reinterpret_cast<const char*>(bytes + offsetof(keel_dt_of_id, name)),
        reinterpret_cast<const char*>(bytes + offsetof(keel_dt_of_id, type)),
        reinterpret_cast<const char*>(bytes + offsetof(keel_dt_of_id, compatible)), driver_data };
}

size_t entry_alias_count(const DeviceTable& table) { return table.bus == DeviceBus::Of ? 2 : 1; }

Result<size_t> format_entry_alias(
    const DeviceTable& table, uint32_t index, size_t which, char* buffer, size_t size, Diagnostic* diagnostic)
{
    VERIFY(which < entry_alias_count(table));
    switch (table.bus) {
    case DeviceBus::Pci: return format_pci_alias(pci_entry(table, index), buffer, size, diagnostic);
    case DeviceBus::Virtio: return format_virtio_alias(virtio_entry(table, index), buffer, size);
    case DeviceBus::Of: {
        char other[kOfAliasSize];
        if (which == 0) {
            TRY(format_of_aliases(of_entry(table, index), buffer, size, other, sizeof(other)));
        } else {
            TRY(format_of_aliases(of_entry(table, index), other, sizeof(other), buffer, size));
        }
        return strlen(buffer);
    }
    }
    return Err(Error::EINVAL);
}

Result<void> check_entry_aliases(const DeviceTable& table, Diagnostic* diagnostic)
{
    char alias[kAliasSize];
    for (uint32_t i = 0; i < table.count; i++) {
        for (size_t which = 0; which < entry_alias_count(table); which++) {
            Diagnostic problem;
            auto formatted = format_entry_alias(table, i, which, alias, sizeof(alias), &problem);
            if (formatted.is_error()) {
                if (diagnostic)
                    return diagnostic->fail(formatted.error(), "table %zu entry %u: %s", table.index, i,
                        problem.message[0] ? problem.message : error_name(formatted.error()));
                return Err(formatted.error());
            }
        }
    }
    return {};
}

Result<size_t> check_device_table_section(const void* section, size_t size, Diagnostic* diagnostic)
{
    DeviceTableReader reader(section, size, diagnostic);
    size_t count = 0;
    for (;;) {
        auto table = reader.next();
        if (table.is_error())
            break;
        TRY(check_entry_aliases(table.value(), diagnostic));
        count++;
    }
    TRY(reader.status());
    return count;
}

} // namespace keel::devmatch
