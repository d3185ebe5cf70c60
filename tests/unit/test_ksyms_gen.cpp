// Runs scripts/gen-ksyms.py end to end: meson generates an assembler file
// from a real ELF (the unit-ksyms test binary, or --empty) and links it in
// here; this checks the embedded blob the way the kernel will read it.
#include <catch2/catch.hpp>

#include <string.h>

#include <string>

#include "debug/ksyms.h"

extern "C" const unsigned char __ksyms_start[];
extern "C" const unsigned char __ksyms_end[];

TEST_CASE("gen-ksyms: the generated blob parses and is consistent", "[ksyms]")
{
    size_t size = static_cast<size_t>(__ksyms_end - __ksyms_start);
    CHECK(reinterpret_cast<uintptr_t>(__ksyms_start) % 8 == 0);
    auto parsed = keel::SymbolTable::parse(__ksyms_start, size);
    REQUIRE(parsed.is_ok());
    const keel::SymbolTable& table = parsed.value();
    uint64_t base;
    memcpy(&base, __ksyms_start + 16, sizeof(base));

#if KSYMS_EXPECT_EMPTY
    CHECK(size == keel::SymbolTable::kHeaderSize);
    CHECK(table.count() == 0);
    CHECK(base == 0);
#else
    CHECK(table.count() > 100);
    // Without --base, the base is the lowest symbol's address.
    CHECK(table.address_at(0) == base);
    // Symbols of the ELF it was generated from (unit-ksyms), named without
    // the keel:: namespace.
    CHECK(table.find("main").is_ok());
    CHECK(table.find("SymbolTable::parse").is_ok());
    CHECK(table.find("SymbolTable::lookup").is_ok());
    CHECK(table.find("keel::SymbolTable::parse").is_error());
    for (size_t i = 0; i < table.count(); ++i) {
        keel::SymbolInfo info;
        REQUIRE(table.lookup(table.address_at(i), info));
        REQUIRE(info.address == table.address_at(i));
        REQUIRE(strcmp(info.name, table.name_at(i)) == 0);
        REQUIRE(info.name[0] != '\0');
        INFO(info.name);
        REQUIRE(strstr(info.name, "keel::") == nullptr);
    }
    // Inside a function with a size: same symbol, with the offset.
    uint64_t parse_address = table.find("SymbolTable::parse").value();
    keel::SymbolInfo info;
    REQUIRE(table.lookup(parse_address + 1, info));
    CHECK(std::string(info.name) == "SymbolTable::parse");
    CHECK(info.offset == 1);
    CHECK(info.size > 1);
#endif
}
