#include <catch2/catch.hpp>

#include <string.h>

#include <string>
#include <vector>

#include "lib/ksyms.h"

using keel::Error;
using keel::SymbolInfo;
using keel::SymbolTable;

namespace {

struct Symbol {
    uint64_t address;
    uint32_t size;
    std::string name;
};

// Builds a blob the way scripts/gen-ksyms.py lays it out.
struct BlobBuilder {
    uint32_t magic = SymbolTable::kMagic;
    uint32_t version = SymbolTable::kVersion;
    std::vector<Symbol> symbols;

    std::vector<unsigned char> build() const
    {
        std::string strings;
        std::vector<uint32_t> offsets;
        for (auto& symbol : symbols) {
            offsets.push_back(static_cast<uint32_t>(strings.size()));
            strings += symbol.name;
            strings += '\0';
        }
        std::vector<unsigned char> blob;
        auto put = [&](const void* data, size_t size) {
            auto* bytes = static_cast<const unsigned char*>(data);
            blob.insert(blob.end(), bytes, bytes + size);
        };
        uint32_t count = static_cast<uint32_t>(symbols.size());
        uint32_t strings_size = static_cast<uint32_t>(strings.size());
        put(&magic, 4);
        put(&version, 4);
        put(&count, 4);
        put(&strings_size, 4);
        for (size_t i = 0; i < symbols.size(); ++i) {
            put(&symbols[i].address, 8);
            put(&symbols[i].size, 4);
            put(&offsets[i], 4);
        }
        put(strings.data(), strings.size());
        return blob;
    }
};

BlobBuilder sample()
{
    BlobBuilder builder;
    builder.symbols = {
        { 0xffffffff80000000, 0x100, "_start" },
        { 0xffffffff80000100, 0, "asm_label" }, // size 0: reaches to the next symbol
        { 0xffffffff80000180, 0x40, "kmain" },
        { 0xffffffff80000200, 0x10, "gap_after" }, // 0x1c0..0x200 belongs to nobody
        { 0xffffffff80001000, 0, "last_label" },
    };
    return builder;
}

void set_u32(std::vector<unsigned char>& blob, size_t offset, uint32_t value) { memcpy(&blob[offset], &value, 4); }
void set_u64(std::vector<unsigned char>& blob, size_t offset, uint64_t value) { memcpy(&blob[offset], &value, 8); }

} // namespace

TEST_CASE("ksyms: lookup", "[ksyms]")
{
    auto blob = sample().build();
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    REQUIRE(parsed.is_ok());
    const SymbolTable& table = parsed.value();
    CHECK(table.count() == 5);

    SymbolInfo info;
    CHECK(!table.lookup(0, info));
    CHECK(!table.lookup(0xffffffff7fffffff, info));

    REQUIRE(table.lookup(0xffffffff80000000, info));
    CHECK(std::string(info.name) == "_start");
    CHECK(info.offset == 0);
    CHECK(info.size == 0x100);
    REQUIRE(table.lookup(0xffffffff800000ff, info));
    CHECK(std::string(info.name) == "_start");
    CHECK(info.offset == 0xff);

    REQUIRE(table.lookup(0xffffffff80000100, info));
    CHECK(std::string(info.name) == "asm_label");
    REQUIRE(table.lookup(0xffffffff8000017f, info));
    CHECK(std::string(info.name) == "asm_label");
    CHECK(info.offset == 0x7f);

    REQUIRE(table.lookup(0xffffffff800001bf, info));
    CHECK(std::string(info.name) == "kmain");
    CHECK(info.address == 0xffffffff80000180);
    CHECK(!table.lookup(0xffffffff800001c0, info)); // past kmain's size
    CHECK(!table.lookup(0xffffffff800001ff, info));
    REQUIRE(table.lookup(0xffffffff8000020f, info));
    CHECK(std::string(info.name) == "gap_after");
    CHECK(!table.lookup(0xffffffff80000210, info));

    REQUIRE(table.lookup(0xffffffff80001000, info));
    CHECK(std::string(info.name) == "last_label");
    CHECK(!table.lookup(0xffffffff80001001, info)); // last, size 0: exact only
    CHECK(!table.lookup(UINT64_MAX, info));
}

TEST_CASE("ksyms: find and accessors", "[ksyms]")
{
    auto blob = sample().build();
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    REQUIRE(parsed.is_ok());
    const SymbolTable& table = parsed.value();
    CHECK(table.find("kmain").value() == 0xffffffff80000180);
    CHECK(table.find("last_label").value() == 0xffffffff80001000);
    CHECK(table.find("kmai").error() == Error::ENOENT);
    CHECK(table.find("").error() == Error::ENOENT);
    CHECK(std::string(table.name_at(2)) == "kmain");
    CHECK(table.address_at(2) == 0xffffffff80000180);
    CHECK(table.size_at(2) == 0x40);
}

TEST_CASE("ksyms: empty tables", "[ksyms]")
{
    BlobBuilder empty;
    auto blob = empty.build();
    CHECK(blob.size() == 16);
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    REQUIRE(parsed.is_ok());
    SymbolInfo info;
    CHECK(!parsed.value().lookup(0x1000, info));
    CHECK(parsed.value().find("x").is_error());

    SymbolTable default_table;
    CHECK(default_table.count() == 0);
    CHECK(!default_table.lookup(0, info));
}

TEST_CASE("ksyms: unaligned blob and trailing padding", "[ksyms]")
{
    auto blob = sample().build();
    std::vector<unsigned char> shifted(blob.size() + 9, 0);
    memcpy(shifted.data() + 1, blob.data(), blob.size());
    auto parsed = SymbolTable::parse(shifted.data() + 1, shifted.size() - 1);
    REQUIRE(parsed.is_ok());
    SymbolInfo info;
    REQUIRE(parsed.value().lookup(0xffffffff80000190, info));
    CHECK(std::string(info.name) == "kmain");
}

TEST_CASE("ksyms: parse rejects malformed blobs", "[ksyms]")
{
    auto good = sample().build();
    const size_t entries = 16;
    const size_t strings = 16 + 16 * 5;

    auto rejects = [](const std::vector<unsigned char>& blob) {
        auto parsed = SymbolTable::parse(blob.data(), blob.size());
        return parsed.is_error() && parsed.error() == Error::EINVAL;
    };

    SECTION("truncated anywhere")
    {
        for (size_t size = 0; size < good.size(); ++size) {
            INFO("size " << size);
            CHECK(SymbolTable::parse(good.data(), size).is_error());
        }
        CHECK(SymbolTable::parse(nullptr, 100).is_error());
    }
    SECTION("bad magic or version")
    {
        auto blob = good;
        blob[0] ^= 1;
        CHECK(rejects(blob));
        blob = good;
        set_u32(blob, 4, 2);
        CHECK(rejects(blob));
    }
    SECTION("count or strings_size too large")
    {
        auto blob = good;
        set_u32(blob, 8, 6);
        CHECK(rejects(blob));
        set_u32(blob, 8, 0xffffffff);
        CHECK(rejects(blob));
        blob = good;
        set_u32(blob, 12, 0xffffffff);
        CHECK(rejects(blob));
    }
    SECTION("unsorted or duplicate addresses")
    {
        auto blob = good;
        set_u64(blob, entries + 16 * 2, 0xffffffff80000050); // kmain before asm_label
        CHECK(rejects(blob));
        blob = good;
        set_u64(blob, entries + 16 * 1, 0xffffffff80000000); // same as _start
        CHECK(rejects(blob));
    }
    SECTION("name offset out of range")
    {
        auto blob = good;
        uint32_t strings_size;
        memcpy(&strings_size, &blob[12], 4);
        set_u32(blob, entries + 16 * 3 + 12, strings_size);
        CHECK(rejects(blob));
        set_u32(blob, entries + 16 * 3 + 12, 0xffffffff);
        CHECK(rejects(blob));
        set_u32(blob, entries + 16 * 3 + 12, strings_size - 1); // the final NUL: an empty name, fine
        CHECK(!rejects(blob));
    }
    SECTION("string table without a final NUL")
    {
        auto blob = good;
        blob.back() = 'x';
        CHECK(rejects(blob));
        // Strings missing entirely.
        blob = good;
        set_u32(blob, 12, 0);
        CHECK(rejects(blob));
    }
    SECTION("address + size overflows")
    {
        auto blob = good;
        set_u64(blob, entries + 16 * 4, UINT64_MAX - 2);
        set_u32(blob, entries + 16 * 4 + 8, 16);
        CHECK(rejects(blob));
    }
    (void)strings;
}
