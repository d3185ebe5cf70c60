// The kernel's own symbol table (like Linux's kallsyms), for backtraces,
// panic messages and, later, resolving module imports.
//
// scripts/gen-ksyms.py extracts it from the linked kernel ELF and emits it
// as an assembler file that is linked back into the image between the
// symbols __ksyms_start and __ksyms_end. The blob, little-endian:
//
//   offset 0   u32 magic         'K','S','Y','M' (0x4d59534b)
//          4   u32 version       2
//          8   u32 count         number of entries
//         12   u32 strings_size  bytes in the string table
//         16   u64 base          address the entries count from
//         24   count entries, strictly ascending by offset:
//                u32 offset      symbol start - base
//                u32 size        bytes; 0 = unknown (extends to the next symbol)
//                u16 or u32      name_offset into the string table: u16
//                                (10-byte entries) if strings_size <= 64 KiB,
//                                u32 (12-byte entries) above
//         24 + entries           string table: NUL-terminated names; its
//                                last byte is a NUL
//
// Offsets from a base halve the addresses: the kernel image spans a few
// hundred KiB, not 4 GiB. The name offsets' width follows from strings_size,
// so no table needs a flag and a kernel whose names outgrow 64 KiB still
// gets a valid one. Names are stored without the keel:: namespace
// that every kernel symbol lives in ("vfs::walk", not
// "keel::vfs::walk"; C symbols such as kernel_main have none anyway).
// Several entries may share a name, and a name may be the tail of a longer
// one ("walk" inside "vfs::walk"): name_offset may point anywhere in the
// table.
//
// Bytes after the string table are ignored (section padding). parse()
// checks all of it before any lookup trusts it; the blob need not be
// aligned. Version 1 (absolute u64 addresses, full names) is refused: the
// blob is generated with the kernel it is linked into.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

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
    static constexpr uint32_t kVersion = 2;
    static constexpr size_t kHeaderSize = 24;
    // Entries have u16 name offsets (kShortEntrySize) while the string
    // table is at most kShortNamesMaxStrings bytes, u32 ones above.
    static constexpr size_t kShortEntrySize = 10;
    static constexpr size_t kShortNamesMaxStrings = 0x10000;
    static constexpr size_t kLongEntrySize = 12;
    static constexpr size_t entry_size(size_t strings_size)
    {
        return strings_size <= kShortNamesMaxStrings ? kShortEntrySize : kLongEntrySize;
    }

    SymbolTable() = default; // empty: every lookup fails

    static Result<SymbolTable> parse(const void* blob, size_t size);

    // The symbol containing `address`: the last symbol starting at or below
    // it, if `address` is inside its size. A size-0 symbol reaches up to the
    // next symbol; the last symbol, if size 0, matches only its own address.
    // Binary search.
    bool lookup(uint64_t address, SymbolInfo& out) const;

    // Address of the symbol named `name`, spelled as stored: without the
    // keel:: namespace, e.g. "vfs::walk" (ENOENT). A linear scan: only
    // the module loader and debug paths look up by name; if that gets hot,
    // add a name-sorted index to the blob (a new version).
    Result<uint64_t> find(const char* name) const;

    size_t count() const { return m_count; }
    // Entry `index` (< count()), in address order.
    const char* name_at(size_t index) const;
    uint64_t address_at(size_t index) const;
    uint64_t size_at(size_t index) const;

private:
    SymbolTable(uint64_t base, const unsigned char* entries, size_t entry_size, size_t count, const char* strings)
        : m_base(base)
        , m_entries(entries)
        , m_entry_size(entry_size)
        , m_count(count)
        , m_strings(strings)
    {
    }

    uint64_t m_base = 0;
    const unsigned char* m_entries = nullptr;
    size_t m_entry_size = kLongEntrySize;
    size_t m_count = 0;
    const char* m_strings = nullptr;
};

} // namespace keel
