// Fuzzes the symbol table parser: parse() must reject anything malformed
// and lookups on whatever it accepts must stay in bounds.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/ksyms.h"

using namespace keel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // An exact-size heap copy, so ASan catches any read past the end.
    std::vector<uint8_t> blob(data, data + size);
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    if (parsed.is_error())
        return 0;
    const SymbolTable& table = parsed.value();

    uint64_t previous = 0;
    for (size_t i = 0; i < table.count(); ++i) {
        uint64_t address = table.address_at(i);
        if (i > 0 && address <= previous)
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
        if (table.find(name).is_error())
            abort();
    }
    // Probe addresses taken from the input itself.
    for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
        uint64_t address;
        memcpy(&address, data + i, 8);
        SymbolInfo info;
        if (table.lookup(address, info) && (info.address > address || info.offset != address - info.address))
            abort();
    }
    return 0;
}
