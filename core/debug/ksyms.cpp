#include "debug/ksyms.h"

#include "lib/base/string.h"

namespace keel {

namespace {

// Field reads through memcpy: the blob may be unaligned (fuzzers, or a
// section placed without .balign).
uint32_t read_u32(const unsigned char* p)
{
    uint32_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

uint16_t read_u16(const unsigned char* p)
{
    uint16_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

uint64_t read_u64(const unsigned char* p)
{
    uint64_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

uint32_t read_name_offset(const unsigned char* entry, size_t entry_size)
{
    return entry_size == SymbolTable::kShortEntrySize ? read_u16(entry + 8) : read_u32(entry + 8);
}

} // namespace

Result<SymbolTable> SymbolTable::parse(const void* blob, size_t size)
{
    const auto* bytes = static_cast<const unsigned char*>(blob);
    if (!blob || size < kHeaderSize)
        return Err(Error::EINVAL);
    // Any other version, 1 included, is a table this kernel was not built
    // with.
    if (read_u32(bytes) != kMagic || read_u32(bytes + 4) != kVersion)
        return Err(Error::EINVAL);
    size_t count = read_u32(bytes + 8);
    size_t strings_size = read_u32(bytes + 12);
    uint64_t base = read_u64(bytes + 16);

    // count and strings_size are 32-bit, so this cannot overflow a 64-bit
    // size_t; checked anyway to stay correct on narrower hosts.
    size_t entry_bytes = entry_size(strings_size);
    size_t entries_size;
    size_t needed;
    if (mul_overflows(count, entry_bytes, &entries_size) || add_overflows(kHeaderSize, entries_size, &needed)
        || add_overflows(needed, strings_size, &needed) || needed > size)
        return Err(Error::EINVAL);

    const unsigned char* entries = bytes + kHeaderSize;
    const auto* strings = reinterpret_cast<const char*>(entries + entries_size);
    // A final NUL means every name that starts inside the table ends inside it.
    if (strings_size > 0 && strings[strings_size - 1] != '\0')
        return Err(Error::EINVAL);
    if (count > 0 && strings_size == 0)
        return Err(Error::EINVAL);

    uint32_t previous = 0;
    for (size_t i = 0; i < count; ++i) {
        const unsigned char* entry = entries + i * entry_bytes;
        uint32_t offset = read_u32(entry);
        uint32_t symbol_size = read_u32(entry + 4);
        uint32_t name_offset = read_name_offset(entry, entry_bytes);
        // Every address and end a lookup computes fits in 64 bits.
        uint64_t address;
        uint64_t end;
        if (name_offset >= strings_size || add_overflows(base, uint64_t(offset), &address)
            || add_overflows(address, uint64_t(symbol_size), &end))
            return Err(Error::EINVAL);
        if (i > 0 && offset <= previous)
            return Err(Error::EINVAL);
        previous = offset;
    }
    return SymbolTable(base, entries, entry_bytes, count, strings);
}

uint64_t SymbolTable::address_at(size_t index) const { return m_base + read_u32(m_entries + index * m_entry_size); }

uint64_t SymbolTable::size_at(size_t index) const { return read_u32(m_entries + index * m_entry_size + 4); }

const char* SymbolTable::name_at(size_t index) const
{
    return m_strings + read_name_offset(m_entries + index * m_entry_size, m_entry_size);
}

bool SymbolTable::lookup(uint64_t address, SymbolInfo& out) const
{
    // Find the first entry starting above `address`; the one before it is
    // the candidate.
    size_t low = 0;
    size_t high = m_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (address_at(mid) <= address)
            low = mid + 1;
        else
            high = mid;
    }
    if (low == 0)
        return false;
    size_t index = low - 1;
    uint64_t start = address_at(index);
    uint64_t size = size_at(index);
    uint64_t offset = address - start;
    if (size != 0) {
        if (offset >= size)
            return false;
    } else if (index + 1 == m_count && offset != 0) {
        return false;
    }
    // (A size-0 symbol with a successor: `address` is below the successor's
    // start by construction of the search.)
    out.name = name_at(index);
    out.address = start;
    out.size = size;
    out.offset = offset;
    return true;
}

Result<uint64_t> SymbolTable::find(const char* name) const
{
    for (size_t i = 0; i < m_count; ++i) {
        if (strcmp(name_at(i), name) == 0)
            return address_at(i);
    }
    return Err(Error::ENOENT);
}

} // namespace keel
