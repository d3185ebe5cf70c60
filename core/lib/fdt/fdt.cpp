#include "lib/fdt/fdt.h"

#include "lib/base/string.h"

namespace keel::fdt {

namespace {

enum Token : uint32_t {
    kBeginNode = 1,
    kEndNode = 2,
    kProp = 3,
    kNop = 4,
    kEnd = 9,
};

// Header fields, by byte offset.
enum HeaderField : size_t {
    kFieldMagic = 0,
    kFieldTotalSize = 4,
    kFieldStructOffset = 8,
    kFieldStringsOffset = 12,
    kFieldReservationsOffset = 16,
    kFieldVersion = 20,
    kFieldLastCompatible = 24,
    kFieldBootCpu = 28,
    kFieldStringsSize = 32,
    kFieldStructSize = 36,
};

// [offset, offset + size) lies inside [0, limit).
bool inside(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

uint64_t read_be64(const uint8_t* bytes) { return (uint64_t(read_be32(bytes)) << 32) | read_be32(bytes + 4); }

} // namespace

bool Property::is_string() const { return length > 0 && value[length - 1] == '\0'; }

bool Property::equals(const char* text) const
{
    size_t text_length = strlen(text);
    return is_string() && length == text_length + 1 && memcmp(value, text, text_length) == 0;
}

bool Property::contains_string(const char* text) const
{
    if (!is_string())
        return false;
    size_t text_length = strlen(text);
    for (size_t start = 0; start < length;) {
        const char* entry = reinterpret_cast<const char*>(value) + start;
        size_t entry_length = strnlen(entry, length - start);
        if (entry_length == text_length && memcmp(entry, text, text_length) == 0)
            return true;
        start += entry_length + 1;
    }
    return false;
}

bool Property::cell(size_t index, uint32_t& out) const
{
    if (index >= cell_count())
        return false;
    out = read_be32(value + index * 4);
    return true;
}

bool Property::number(size_t index, unsigned cells, uint64_t& out) const
{
    if (cells == 0 || cells > 2 || index + cells > cell_count())
        return false;
    out = 0;
    for (unsigned i = 0; i < cells; i++)
        out = (out << 32) | read_be32(value + (index + i) * 4);
    return true;
}

Result<Blob> Blob::open(const void* data, size_t size, Diagnostic& diagnostic)
{
    auto* bytes = static_cast<const uint8_t*>(data);
    if (bytes == nullptr || size < kHeaderSize)
        return diagnostic.fail(
            Error::EINVAL, "device tree: %zu bytes, shorter than its %zu-byte header", size, kHeaderSize);
    uint32_t magic = read_be32(bytes + kFieldMagic);
    if (magic != kMagic)
        return diagnostic.fail(Error::EINVAL, "device tree: magic %#x, not %#x", magic, kMagic);
    Blob blob;
    blob.m_data = bytes;
    blob.m_total_size = read_be32(bytes + kFieldTotalSize);
    blob.m_version = read_be32(bytes + kFieldVersion);
    uint32_t last_compatible = read_be32(bytes + kFieldLastCompatible);
    if (blob.m_total_size < kHeaderSize || blob.m_total_size > size)
        return diagnostic.fail(
            Error::EINVAL, "device tree: totalsize %#x outside [%#zx, %#zx]", blob.m_total_size, kHeaderSize, size);
    // Version 16 lacks size_dt_struct; 17 is the current format, and a
    // later one must say it reads as 17 (last_comp_version).
    if (blob.m_version < 16 || last_compatible > 17)
        return diagnostic.fail(Error::EINVAL, "device tree: version %u (last compatible %u); 16 or 17 is read",
            blob.m_version, last_compatible);
    blob.m_boot_cpu = read_be32(bytes + kFieldBootCpu);
    blob.m_reservations = read_be32(bytes + kFieldReservationsOffset);
    blob.m_struct_offset = read_be32(bytes + kFieldStructOffset);
    blob.m_strings_offset = read_be32(bytes + kFieldStringsOffset);
    blob.m_strings_size = read_be32(bytes + kFieldStringsSize);
    blob.m_struct_size = blob.m_version >= 17       ? read_be32(bytes + kFieldStructSize)
        : blob.m_struct_offset <= blob.m_total_size ? blob.m_total_size - blob.m_struct_offset
                                                    : 0;
    uint32_t total = blob.m_total_size;
    if (blob.m_reservations % 8 != 0 || blob.m_reservations < kHeaderSize || blob.m_reservations > total)
        return diagnostic.fail(
            Error::EINVAL, "device tree: off_mem_rsvmap %#x misaligned or outside the blob", blob.m_reservations);
    if (blob.m_struct_offset % 4 != 0 || blob.m_struct_offset < kHeaderSize
        || !inside(blob.m_struct_offset, blob.m_struct_size, total) || blob.m_struct_size % 4 != 0)
        return diagnostic.fail(Error::EINVAL,
            "device tree: structure block (off_dt_struct %#x, size_dt_struct %#x) misaligned or outside the %#x-byte "
            "blob",
            blob.m_struct_offset, blob.m_struct_size, total);
    if (blob.m_strings_offset < kHeaderSize || !inside(blob.m_strings_offset, blob.m_strings_size, total))
        return diagnostic.fail(Error::EINVAL,
            "device tree: strings block (off_dt_strings %#x, size_dt_strings %#x) outside the %#x-byte blob",
            blob.m_strings_offset, blob.m_strings_size, total);
    return blob;
}

Result<void> Blob::reservation(size_t index, uint64_t& base, uint64_t& size, Diagnostic& diagnostic) const
{
    uint64_t offset = uint64_t(m_reservations) + index * 16;
    if (!inside(offset, 16, m_total_size))
        return diagnostic.fail(Error::EINVAL, "device tree: memory reservation %zu at %#llx runs past the blob", index,
            (unsigned long long)offset);
    base = read_be64(m_data + offset);
    size = read_be64(m_data + offset + 8);
    uint64_t end;
    if (__builtin_add_overflow(base, size, &end))
        return diagnostic.fail(Error::EINVAL, "device tree: memory reservation %zu (%#llx + %#llx) overflows", index,
            (unsigned long long)base, (unsigned long long)size);
    return {};
}

const char* Blob::string_in(uint32_t start, uint32_t size, uint32_t offset) const
{
    if (offset >= size)
        return nullptr;
    auto* text = reinterpret_cast<const char*>(m_data + start + offset);
    return memchr(text, '\0', size - offset) ? text : nullptr;
}

Result<void> Blob::walk(Visitor& visitor, Diagnostic& diagnostic) const
{
    const uint32_t start = m_struct_offset;
    const uint32_t end = m_struct_offset + m_struct_size;
    uint32_t offset = start;
    unsigned depth = 0; // nodes open
    bool root_seen = false;
    for (;;) {
        if (end - offset < 4)
            return diagnostic.fail(Error::EINVAL, "device tree: structure block ends at %#x without FDT_END", end);
        uint32_t token_offset = offset;
        uint32_t token = read_be32(m_data + offset);
        offset += 4;
        switch (token) {
        case kBeginNode: {
            if (root_seen && depth == 0)
                return diagnostic.fail(Error::EINVAL, "device tree: a second root node at %#x", token_offset);
            if (depth == kMaxDepth)
                return diagnostic.fail(
                    Error::EINVAL, "device tree: node at %#x nests deeper than %u", token_offset, kMaxDepth);
            const char* name = string_in(start, m_struct_size, offset - start);
            if (!name)
                return diagnostic.fail(
                    Error::EINVAL, "device tree: node name at %#x runs past the structure block", offset);
            if (depth == 0 && name[0] != '\0')
                return diagnostic.fail(Error::EINVAL, "device tree: the root node at %#x has a name", token_offset);
            uint32_t padded = (uint32_t(strlen(name)) + 1 + 3) & ~3u;
            if (padded > end - offset)
                return diagnostic.fail(
                    Error::EINVAL, "device tree: node name at %#x runs past the structure block", offset);
            offset += padded;
            visitor.begin_node(name, depth);
            root_seen = true;
            depth++;
            break;
        }
        case kEndNode:
            if (depth == 0)
                return diagnostic.fail(Error::EINVAL, "device tree: FDT_END_NODE at %#x closes no node", token_offset);
            depth--;
            visitor.end_node(depth);
            break;
        case kProp: {
            if (depth == 0)
                return diagnostic.fail(Error::EINVAL, "device tree: property at %#x outside every node", token_offset);
            if (end - offset < 8)
                return diagnostic.fail(
                    Error::EINVAL, "device tree: property header at %#x runs past the structure block", token_offset);
            uint32_t length = read_be32(m_data + offset);
            uint32_t name_offset = read_be32(m_data + offset + 4);
            offset += 8;
            if (length > end - offset)
                return diagnostic.fail(Error::EINVAL,
                    "device tree: property at %#x: len %#x runs past the structure block", token_offset, length);
            Property property;
            property.name = string_in(m_strings_offset, m_strings_size, name_offset);
            if (!property.name)
                return diagnostic.fail(Error::EINVAL,
                    "device tree: property at %#x: nameoff %#x outside the strings block", token_offset, name_offset);
            property.value = m_data + offset;
            property.length = length;
            uint32_t padded = (length + 3) & ~3u;
            if (padded > end - offset)
                return diagnostic.fail(
                    Error::EINVAL, "device tree: property at %#x: padding runs past the structure block", token_offset);
            offset += padded;
            visitor.property(property, depth - 1);
            break;
        }
        case kNop: break;
        case kEnd:
            if (depth != 0 || !root_seen)
                return diagnostic.fail(Error::EINVAL, "device tree: FDT_END at %#x with %u node(s) open%s",
                    token_offset, depth, root_seen ? "" : " and no root");
            return {};
        default: return diagnostic.fail(Error::EINVAL, "device tree: unknown token %#x at %#x", token, token_offset);
        }
    }
}

} // namespace keel::fdt
