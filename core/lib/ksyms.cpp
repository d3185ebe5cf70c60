#include "lib/ksyms.h"

#include "lib/string.h"

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

uint64_t read_u64(const unsigned char* p)
{
    uint64_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

} // namespace

Result<SymbolTable> SymbolTable::parse(const void* blob, size_t size)
{
    const auto* bytes = static_cast<const unsigned char*>(blob);
    if (!blob || size < kHeaderSize)
        return Err(Error::EINVAL);
    if (read_u32(bytes) != kMagic || read_u32(bytes + 4) != kVersion)
        return Err(Error::EINVAL);
    size_t count = read_u32(bytes + 8);
    size_t strings_size = read_u32(bytes + 12);

    // count and strings_size are 32-bit, so this cannot overflow a 64-bit
    // size_t; checked anyway to stay correct on narrower hosts.
    size_t entries_size;
    size_t needed;
    if (mul_overflows(count, kEntrySize, &entries_size) || add_overflows(kHeaderSize, entries_size, &needed)
        || add_overflows(needed, strings_size, &needed) || needed > size)
        return Err(Error::EINVAL);

    const unsigned char* entries = bytes + kHeaderSize;
    const auto* strings = reinterpret_cast<const char*>(entries + entries_size);
    // A final NUL means every name that starts inside the table ends inside it.
    if (strings_size > 0 && strings[strings_size - 1] != '\0')
        return Err(Error::EINVAL);
    if (count > 0 && strings_size == 0)
        return Err(Error::EINVAL);

    uint64_t previous = 0;
    for (size_t i = 0; i < count; ++i) {
        const unsigned char* entry = entries + i * kEntrySize;
        uint64_t address = read_u64(entry);
        uint32_t symbol_size = read_u32(entry + 8);
        uint32_t name_offset = read_u32(entry + 12);
        uint64_t end;
        if (name_offset >= strings_size || add_overflows(address, uint64_t(symbol_size), &end))
            return Err(Error::EINVAL);
        if (i > 0 && address <= previous)
            return Err(Error::EINVAL);
        previous = address;
    }
    return SymbolTable(entries, count, strings);
}

uint64_t SymbolTable::address_at(size_t index) const { return read_u64(m_entries + index * kEntrySize); }

uint64_t SymbolTable::size_at(size_t index) const { return read_u32(m_entries + index * kEntrySize + 8); }

const char* SymbolTable::name_at(size_t index) const
{
    return m_strings + read_u32(m_entries + index * kEntrySize + 12);
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
