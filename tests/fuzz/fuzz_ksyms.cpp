// Fuzzes the symbol table parser: parse() must reject anything malformed
// and lookups on whatever it accepts must stay in bounds.
//
// Each input is tried twice: as a whole blob (the header checks), and
// framed by a well-formed version 2 header, so random bytes reach the entry
// and string checks without a seed corpus: bytes 0..7 are the base, byte 8
// the entry count (mod 32), then the entries and, after them, the strings.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "debug/ksyms.h"

using namespace keel;

namespace {

void exercise(const std::vector<uint8_t>& blob, const uint8_t* probes, size_t probes_size)
{
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    if (parsed.is_error())
        return;
    const SymbolTable& table = parsed.value();

    uint64_t previous = 0;
    for (size_t i = 0; i < table.count(); ++i) {
        uint64_t address = table.address_at(i);
        if (i > 0 && address <= previous)
            abort();
        // parse() promised that no end wraps.
        if (address + table.size_at(i) < address)
            abort();
        previous = address;
        const char* name = table.name_at(i);
        (void)strlen(name);
        SymbolInfo info;
        if (!table.lookup(address, info) || info.address != address || info.offset != 0)
            abort();
        if (table.lookup(address + 1, info) && (info.address > address + 1))
            abort();
        if (address > 0 && table.lookup(address - 1, info) && info.address >= address)
            abort();
        auto found = table.find(name);
        if (found.is_error() || found.value() > address)
            abort();
    }
    // Probe addresses taken from the input itself.
    for (size_t i = 0; i + 8 <= probes_size && i < 256; i += 8) {
        uint64_t address;
        memcpy(&address, probes + i, 8);
        SymbolInfo info;
        if (table.lookup(address, info) && (info.address > address || info.offset != address - info.address))
            abort();
    }
}

void put_u32(std::vector<uint8_t>& blob, uint32_t value)
{
    auto* bytes = reinterpret_cast<const uint8_t*>(&value);
    blob.insert(blob.end(), bytes, bytes + sizeof(value));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // An exact-size heap copy, so ASan catches any read past the end.
    exercise(std::vector<uint8_t>(data, data + size), data, size);

    if (size < 9)
        return 0;
    size_t count = data[8] % 32;
    // Framed tables use 10-byte entries, so their strings must stay within
    // 64 KiB (longer inputs only get the first try).
    size_t entries_size = count * SymbolTable::kShortEntrySize;
    if (size - 9 < entries_size || size - 9 - entries_size > SymbolTable::kShortNamesMaxStrings)
        return 0;
    size_t strings_size = size - 9 - entries_size;
    std::vector<uint8_t> framed;
    put_u32(framed, SymbolTable::kMagic);
    put_u32(framed, SymbolTable::kVersion);
    put_u32(framed, static_cast<uint32_t>(count));
    put_u32(framed, static_cast<uint32_t>(strings_size));
    framed.insert(framed.end(), data, data + 8); // base
    framed.insert(framed.end(), data + 9, data + size);
    exercise(framed, data, size);
    return 0;
}
