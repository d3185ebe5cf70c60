#include "lib/devtable/pci.h"

#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel::devtable {

bool pci_id_matches(const PciDeviceId& entry, const PciIdentity& identity)
{
    auto field = [](uint32_t wanted, uint16_t actual) { return wanted == kPciAnyId || wanted == actual; };
    return field(entry.vendor, identity.vendor) && field(entry.device, identity.device)
        && field(entry.subvendor, identity.subvendor) && field(entry.subdevice, identity.subdevice)
        && ((entry.class_code ^ identity.class_code) & entry.class_mask) == 0;
}

size_t pci_modalias(const PciIdentity& identity, char* out, size_t size)
{
    return format(out, size, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", identity.vendor, identity.device,
        identity.subvendor, identity.subdevice, (identity.class_code >> 16) & 0xff, (identity.class_code >> 8) & 0xff,
        identity.class_code & 0xff);
}

namespace {

// "v%08X" or "v*" for a PCI_ANY_ID field; "bc%02X" or "bc*" for a class byte.
size_t id_field(char* out, size_t size, const char* prefix, uint32_t value)
{
    return value == kPciAnyId ? format(out, size, "%s*", prefix) : format(out, size, "%s%08X", prefix, value);
}

size_t class_field(char* out, size_t size, const char* prefix, uint32_t value, uint32_t mask)
{
    return mask == 0xff ? format(out, size, "%s%02X", prefix, value) : format(out, size, "%s*", prefix);
}

} // namespace

size_t pci_alias_pattern(const PciDeviceId& entry, char* out, size_t size)
{
    // Every field has a fixed width, so the pattern fits kAliasCapacity.
    char text[kAliasCapacity];
    size_t n = format(text, sizeof(text), "pci:");
    n += id_field(text + n, sizeof(text) - n, "v", entry.vendor);
    n += id_field(text + n, sizeof(text) - n, "d", entry.device);
    n += id_field(text + n, sizeof(text) - n, "sv", entry.subvendor);
    n += id_field(text + n, sizeof(text) - n, "sd", entry.subdevice);
    n += class_field(
        text + n, sizeof(text) - n, "bc", (entry.class_code >> 16) & 0xff, (entry.class_mask >> 16) & 0xff);
    n += class_field(text + n, sizeof(text) - n, "sc", (entry.class_code >> 8) & 0xff, (entry.class_mask >> 8) & 0xff);
    n += class_field(text + n, sizeof(text) - n, "i", entry.class_code & 0xff, entry.class_mask & 0xff);
    // As Linux's file2alias: a pattern that does not end in '*' gets one.
    if (text[n - 1] != '*')
        n += format(text + n, sizeof(text) - n, "*");
    return format(out, size, "%s", text);
}

PciDeviceId pci_entry(const Table& table, uint32_t index)
{
    PciDeviceId entry;
    const uint8_t* bytes = table.entries + size_t(index) * sizeof(PciDeviceId);
    uint32_t words[6];
    for (size_t w = 0; w < 6; w++)
        words[w] = uint32_t(bytes[4 * w]) | uint32_t(bytes[4 * w + 1]) << 8 | uint32_t(bytes[4 * w + 2]) << 16
            | uint32_t(bytes[4 * w + 3]) << 24;
    uint64_t data = 0;
    for (size_t i = 0; i < 8; i++)
        data |= uint64_t(bytes[24 + i]) << (8 * i);
    entry = { words[0], words[1], words[2], words[3], words[4], words[5], data };
    return entry;
}

Result<void> pci_check_entry(const PciDeviceId& entry, const char* table, uint32_t index, Diagnostic& diagnostic)
{
    auto id_ok = [](uint32_t value) { return value == kPciAnyId || value <= 0xffff; };
    const char* bad = !id_ok(entry.vendor) ? "vendor"
        : !id_ok(entry.device)             ? "device"
        : !id_ok(entry.subvendor)          ? "subvendor"
        : !id_ok(entry.subdevice)          ? "subdevice"
                                           : nullptr;
    if (bad) {
        uint32_t value = bad[0] == 'v' ? entry.vendor
            : bad[0] == 'd'            ? entry.device
            : bad[3] == 'v'            ? entry.subvendor
                                       : entry.subdevice;
        return diagnostic.fail(
            Error::EINVAL, "table %s, entry %u: %s 0x%x is neither 16 bits nor PCI_ANY_ID", table, index, bad, value);
    }
    if (entry.class_mask > 0xffffff || entry.class_code > 0xffffff)
        return diagnostic.fail(Error::EINVAL, "table %s, entry %u: class 0x%x / class_mask 0x%x exceed 24 bits", table,
            index, entry.class_code, entry.class_mask);
    for (unsigned shift = 0; shift < 24; shift += 8) {
        uint32_t byte = (entry.class_mask >> shift) & 0xff;
        if (byte != 0 && byte != 0xff)
            return diagnostic.fail(Error::EINVAL,
                "table %s, entry %u: class_mask 0x%06x masks part of a byte (each byte 00 or ff, as aliases need)",
                table, index, entry.class_mask);
    }
    if (entry.class_code & ~entry.class_mask)
        return diagnostic.fail(Error::EINVAL, "table %s, entry %u: class 0x%06x has bits outside class_mask 0x%06x",
            table, index, entry.class_code, entry.class_mask);
    if (entry.vendor == 0 && entry.device == 0 && entry.subvendor == 0 && entry.subdevice == 0 && entry.class_mask == 0
        && entry.driver_data == 0)
        return diagnostic.fail(Error::EINVAL,
            "table %s, entry %u: all zero (a table's count ends it; there is no terminating entry)", table, index);
    if (entry.vendor == kPciAnyId && entry.device == kPciAnyId && entry.subvendor == kPciAnyId
        && entry.subdevice == kPciAnyId && entry.class_mask == 0)
        return diagnostic.fail(Error::EINVAL, "table %s, entry %u: matches every PCI function", table, index);
    return {};
}

} // namespace keel::devtable
