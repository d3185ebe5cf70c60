#include <catch2/catch.hpp>

#include <string.h>

#include <string>
#include <vector>

#include "debug/ksyms.h"

using keel::Error;
using keel::SymbolInfo;
using keel::SymbolTable;

namespace {

struct Symbol {
    uint64_t address;
    uint32_t size;
    std::string name;
};

constexpr uint64_t kBase = 0xffffffff80000000;

// Builds a blob the way scripts/gen-ksyms.py lays it out (every name
// stored in full, none shared).
struct BlobBuilder {
    uint32_t magic = SymbolTable::kMagic;
    uint32_t version = SymbolTable::kVersion;
    uint64_t base = kBase;
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
        put(&base, 8);
        bool short_names = SymbolTable::entry_size(strings.size()) == SymbolTable::kShortEntrySize;
        for (size_t i = 0; i < symbols.size(); ++i) {
            uint32_t offset = static_cast<uint32_t>(symbols[i].address - base);
            uint16_t short_name = static_cast<uint16_t>(offsets[i]);
            put(&offset, 4);
            put(&symbols[i].size, 4);
            if (short_names)
                put(&short_name, 2);
            else
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
        { 0xffffffff80100000, 0x100, "_start" },
        { 0xffffffff80100100, 0, "asm_label" }, // size 0: reaches to the next symbol
        { 0xffffffff80100180, 0x40, "kmain" },
        { 0xffffffff80100200, 0x10, "gap_after" }, // 0x1c0..0x200 belongs to nobody
        { 0xffffffff80101000, 0, "last_label" },
    };
    return builder;
}

void set_u16(std::vector<unsigned char>& blob, size_t offset, uint16_t value) { memcpy(&blob[offset], &value, 2); }
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
    CHECK(!table.lookup(kBase, info)); // the base itself is no symbol
    CHECK(!table.lookup(0xffffffff800fffff, info));

    REQUIRE(table.lookup(0xffffffff80100000, info));
    CHECK(std::string(info.name) == "_start");
    CHECK(info.offset == 0);
    CHECK(info.size == 0x100);
    REQUIRE(table.lookup(0xffffffff801000ff, info));
    CHECK(std::string(info.name) == "_start");
    CHECK(info.offset == 0xff);

    REQUIRE(table.lookup(0xffffffff80100100, info));
    CHECK(std::string(info.name) == "asm_label");
    REQUIRE(table.lookup(0xffffffff8010017f, info));
    CHECK(std::string(info.name) == "asm_label");
    CHECK(info.offset == 0x7f);

    REQUIRE(table.lookup(0xffffffff801001bf, info));
    CHECK(std::string(info.name) == "kmain");
    CHECK(info.address == 0xffffffff80100180);
    CHECK(!table.lookup(0xffffffff801001c0, info)); // past kmain's size
    CHECK(!table.lookup(0xffffffff801001ff, info));
    REQUIRE(table.lookup(0xffffffff8010020f, info));
    CHECK(std::string(info.name) == "gap_after");
    CHECK(!table.lookup(0xffffffff80100210, info));

    REQUIRE(table.lookup(0xffffffff80101000, info));
    CHECK(std::string(info.name) == "last_label");
    CHECK(!table.lookup(0xffffffff80101001, info)); // last, size 0: exact only
    CHECK(!table.lookup(UINT64_MAX, info));
}

TEST_CASE("ksyms: find and accessors", "[ksyms]")
{
    auto blob = sample().build();
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    REQUIRE(parsed.is_ok());
    const SymbolTable& table = parsed.value();
    CHECK(table.find("kmain").value() == 0xffffffff80100180);
    CHECK(table.find("last_label").value() == 0xffffffff80101000);
    CHECK(table.find("kmai").error() == Error::ENOENT);
    CHECK(table.find("").error() == Error::ENOENT);
    CHECK(std::string(table.name_at(2)) == "kmain");
    CHECK(table.address_at(2) == 0xffffffff80100180);
    CHECK(table.size_at(2) == 0x40);
}

TEST_CASE("ksyms: empty tables", "[ksyms]")
{
    BlobBuilder empty;
    auto blob = empty.build();
    CHECK(blob.size() == 24);
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
    REQUIRE(parsed.value().lookup(0xffffffff80100190, info));
    CHECK(std::string(info.name) == "kmain");
}

TEST_CASE("ksyms: offsets count from the base", "[ksyms]")
{
    BlobBuilder builder;
    builder.base = 0x1000;
    builder.symbols = {
        { 0x1000, 0x10, "at_base" },             // offset 0
        { 0x1000 + 0xfffffff0ULL, 0x10, "top" }, // the largest offset
    };
    auto blob = builder.build();
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    REQUIRE(parsed.is_ok());
    const SymbolTable& table = parsed.value();
    SymbolInfo info;
    CHECK(!table.lookup(0xfff, info));
    REQUIRE(table.lookup(0x1000, info));
    CHECK(std::string(info.name) == "at_base");
    REQUIRE(table.lookup(0x100000ff8, info));
    CHECK(std::string(info.name) == "top");
    CHECK(info.address == 0x100000ff0);
    CHECK(info.offset == 8);
    CHECK(!table.lookup(0x101000000, info));
    CHECK(table.find("top").value() == 0x100000ff0);
}

TEST_CASE("ksyms: names may be shared and may be tails of others", "[ksyms]")
{
    // "vfs::walk\0" holds three names: itself, "walk" (offset 5) and the
    // empty name (offset 9); "walk" is also used by two entries.
    const char strings[] = "vfs::walk\0kernel_main";
    const uint32_t offsets[] = { 0, 5, 10, 5 };
    std::vector<unsigned char> blob(SymbolTable::kHeaderSize + 4 * SymbolTable::kShortEntrySize);
    set_u32(blob, 0, SymbolTable::kMagic);
    set_u32(blob, 4, SymbolTable::kVersion);
    set_u32(blob, 8, 4);
    set_u32(blob, 12, sizeof(strings));
    set_u64(blob, 16, kBase);
    for (uint32_t i = 0; i < 4; ++i) {
        size_t entry = SymbolTable::kHeaderSize + i * SymbolTable::kShortEntrySize;
        set_u32(blob, entry, 0x100000 + 0x100 * i);
        set_u32(blob, entry + 4, 0x10);
        set_u16(blob, entry + 8, static_cast<uint16_t>(offsets[i]));
    }
    blob.insert(blob.end(), strings, strings + sizeof(strings));
    auto parsed = SymbolTable::parse(blob.data(), blob.size());
    REQUIRE(parsed.is_ok());
    const SymbolTable& table = parsed.value();
    CHECK(std::string(table.name_at(0)) == "vfs::walk");
    CHECK(std::string(table.name_at(1)) == "walk");
    CHECK(std::string(table.name_at(2)) == "kernel_main");
    CHECK(std::string(table.name_at(3)) == "walk");
    CHECK(table.find("vfs::walk").value() == kBase + 0x100000);
    CHECK(table.find("walk").value() == kBase + 0x100100); // the first of the two
    CHECK(table.find("kernel_main").value() == kBase + 0x100200);
    CHECK(table.find("keel::vfs::walk").error() == Error::ENOENT);
    SymbolInfo info;
    REQUIRE(table.lookup(kBase + 0x100305, info));
    CHECK(std::string(info.name) == "walk");
    CHECK(info.offset == 5);
}

TEST_CASE("ksyms: name offsets are u32 once the names pass 64 KiB", "[ksyms]")
{
    // strings_size 0x10000 still has 10-byte entries (the largest offset,
    // 0xffff, fits); one byte more and they are 12 bytes.
    CHECK(SymbolTable::entry_size(0) == 10);
    CHECK(SymbolTable::entry_size(0x10000) == 10);
    CHECK(SymbolTable::entry_size(0x10001) == 12);
    CHECK(SymbolTable::entry_size(0xffffffff) == 12);

    for (size_t long_name : { size_t(0x10000 - 12), size_t(0x10000 - 11), size_t(0x20000) }) {
        INFO("long name of " << long_name);
        BlobBuilder builder;
        builder.symbols = {
            { kBase + 0x1000, 0x10, "first" }, { kBase + 0x2000, 0x10, std::string(long_name, 'x') },
            { kBase + 0x3000, 0x10, "last" }, // its name starts past 64 KiB in the wider tables
        };
        auto blob = builder.build();
        size_t strings_size = sizeof("first") + long_name + 1 + sizeof("last");
        size_t entry = strings_size <= 0x10000 ? 10 : 12;
        REQUIRE(blob.size() == SymbolTable::kHeaderSize + 3 * entry + strings_size);
        auto parsed = SymbolTable::parse(blob.data(), blob.size());
        REQUIRE(parsed.is_ok());
        const SymbolTable& table = parsed.value();
        SymbolInfo info;
        REQUIRE(table.lookup(kBase + 0x3008, info));
        CHECK(std::string(info.name) == "last");
        CHECK(strlen(table.name_at(1)) == long_name);
        CHECK(table.find("last").value() == kBase + 0x3000);
        if (entry == 12) {
            // A u32 name offset is checked in full.
            uint32_t field_at = static_cast<uint32_t>(SymbolTable::kHeaderSize + 2 * entry + 8);
            set_u32(blob, field_at, static_cast<uint32_t>(strings_size));
            CHECK(SymbolTable::parse(blob.data(), blob.size()).is_error());
            set_u32(blob, field_at, static_cast<uint32_t>(strings_size - 1));
            CHECK(SymbolTable::parse(blob.data(), blob.size()).is_ok());
        }
    }
}

TEST_CASE("ksyms: parse rejects malformed blobs", "[ksyms]")
{
    auto good = sample().build();
    const size_t entries = SymbolTable::kHeaderSize;
    const size_t entry = SymbolTable::kShortEntrySize;

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
        set_u32(blob, 4, 3);
        CHECK(rejects(blob));
        blob = good;
        set_u32(blob, 4, 0);
        CHECK(rejects(blob));
    }
    SECTION("a version 1 table")
    {
        // Version 1: a 16-byte header, then 16-byte entries (u64 address,
        // u32 size, u32 name offset).
        std::vector<unsigned char> blob(16 + 16 + 2, 0);
        set_u32(blob, 0, SymbolTable::kMagic);
        set_u32(blob, 4, 1);
        set_u32(blob, 8, 1);
        set_u32(blob, 12, 2);
        set_u64(blob, 16, 0xffffffff80100000);
        set_u32(blob, 24, 0x10);
        blob[32] = 'f';
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
    SECTION("unsorted or duplicate offsets")
    {
        auto blob = good;
        set_u32(blob, entries + entry * 2, 0x100050); // kmain before asm_label
        CHECK(rejects(blob));
        blob = good;
        set_u32(blob, entries + entry * 1, 0x100000); // same as _start
        CHECK(rejects(blob));
        blob = good;
        set_u32(blob, entries + entry * 4, 0); // last below the first
        CHECK(rejects(blob));
    }
    SECTION("name offset out of range")
    {
        auto blob = good;
        uint32_t strings_size;
        memcpy(&strings_size, &blob[12], 4);
        set_u16(blob, entries + entry * 3 + 8, static_cast<uint16_t>(strings_size));
        CHECK(rejects(blob));
        set_u16(blob, entries + entry * 3 + 8, 0xffff);
        CHECK(rejects(blob));
        set_u16(blob, entries + entry * 3 + 8, static_cast<uint16_t>(strings_size - 1)); // the final NUL: fine
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
    SECTION("base + offset or + size overflows")
    {
        auto blob = good;
        set_u32(blob, entries + entry * 4 + 4, 16);
        set_u64(blob, 16, UINT64_MAX - 0x101000 - 2); // last_label's end wraps
        CHECK(rejects(blob));
        set_u64(blob, 16, UINT64_MAX - 0x101000 - 16); // ends exactly at 2^64 - 1
        CHECK(!rejects(blob));
        set_u64(blob, 16, UINT64_MAX - 0x100800); // last_label's start wraps
        CHECK(rejects(blob));
    }
}
