// The kernel's own symbol table (like Linux's kallsyms), for backtraces,
// panic messages and, later, resolving module imports.
//
// scripts/gen-ksyms.py extracts it from the linked kernel ELF and emits it
// as an assembler file that is linked back into the image between the
// symbols __ksyms_start and __ksyms_end. The blob, little-endian:
//
//   offset 0   u32 magic         'K','S','Y','M' (0x4d59534b)
//          4   u32 version       1
//          8   u32 count         number of entries
//         12   u32 strings_size  bytes in the string table
//         16   count entries of 16 bytes, strictly ascending by address:
//                u64 address     symbol start (virtual address)
//                u32 size        bytes; 0 = unknown (extends to the next symbol)
//                u32 name_offset into the string table
//         16 + 16 * count        string table: NUL-terminated names; its
//                                last byte is a NUL
//
// Bytes after the string table are ignored (section padding). parse()
// checks all of it before any lookup trusts it; the blob need not be
// aligned.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/result.h"

namespace keel {

struct SymbolInfo {
    const char* name;
    uint64_t address; // symbol start
    uint64_t size;    // as recorded (0 if unknown)
    uint64_t offset;  // queried address - start
};

class SymbolTable {
public:
    static constexpr uint32_t kMagic = 0x4d59534b; // "KSYM" in memory order
    static constexpr uint32_t kVersion = 1;
    static constexpr size_t kHeaderSize = 16;
    static constexpr size_t kEntrySize = 16;

    SymbolTable() = default; // empty: every lookup fails

    static Result<SymbolTable> parse(const void* blob, size_t size);

    // The symbol containing `address`: the last symbol starting at or below
    // it, if `address` is inside its size. A size-0 symbol reaches up to the
    // next symbol; the last symbol, if size 0, matches only its own address.
    // Binary search.
    bool lookup(uint64_t address, SymbolInfo& out) const;

    // Address of the symbol named `name` (ENOENT). A linear scan: only the
    // module loader and debug paths look up by name; if that gets hot, add
    // a name-sorted index to the blob (version 2).
    Result<uint64_t> find(const char* name) const;

    size_t count() const { return m_count; }
    // Entry `index` (< count()), in address order.
    const char* name_at(size_t index) const;
    uint64_t address_at(size_t index) const;
    uint64_t size_at(size_t index) const;

private:
    SymbolTable(const unsigned char* entries, size_t count, const char* strings)
        : m_entries(entries)
        , m_count(count)
        , m_strings(strings)
    {
    }

    const unsigned char* m_entries = nullptr;
    size_t m_count = 0;
    const char* m_strings = nullptr;
};

} // namespace keel
