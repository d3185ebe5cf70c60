// core/lib/devtable: the .keel_device_table format as KEEL_DEVICE_TABLE
// writes it, every refusal of the parser, PCI matching with PCI_ANY_ID and
// class masks, modaliases and alias patterns byte-identical to Linux's,
// and alias globbing.
#include <catch2/catch_test_macros.hpp>
#include <string.h>

#include <string>
#include <vector>

#include <keel/device.h>

#include "lib/devtable/alias_glob.h"
#include "lib/devtable/device_table.h"
#include "lib/devtable/pci.h"

using namespace keel;
using namespace keel::devtable;

namespace {

KEEL_DEVICE_TABLE(pci, sample_ids, KEEL_PCI_DEVICE(0x1af4, 0x1042), KEEL_PCI_DEVICE_DATA(0x1234, 0x11e8, 7),
    KEEL_PCI_DEVICE_CLASS(0x0c0330, 0xffffff), KEEL_PCI_DEVICE_SUB(0x8086, 0x10d3, 0x8086, 0x0000));

std::vector<uint8_t> bytes_of(const void* data, size_t size)
{
    auto* p = static_cast<const uint8_t*>(data);
    return std::vector<uint8_t>(p, p + size);
}

std::vector<uint8_t> sample() { return bytes_of(&sample_ids, sizeof(sample_ids)); }

template<typename T> void put(std::vector<uint8_t>& bytes, size_t offset, T value)
{
    memcpy(bytes.data() + offset, &value, sizeof(value));
}

std::string refusal(const std::vector<uint8_t>& bytes)
{
    Diagnostic diagnostic;
    auto result = for_each_table(bytes.data(), bytes.size(), diagnostic, [](const Table&) { return true; });
    REQUIRE(result.is_error());
    return diagnostic.message;
}

std::string alias_of(const PciDeviceId& entry)
{
    char text[kAliasCapacity];
    pci_alias_pattern(entry, text, sizeof(text));
    return text;
}

std::string modalias_of(const PciIdentity& identity)
{
    char text[kAliasCapacity];
    pci_modalias(identity, text, sizeof(text));
    return text;
}

PciDeviceId any() { return { kPciAnyId, kPciAnyId, kPciAnyId, kPciAnyId, 0, 0, 0 }; }

} // namespace

TEST_CASE("KEEL_DEVICE_TABLE writes a table the parser accepts")
{
    std::vector<uint8_t> bytes = sample();
    REQUIRE(bytes.size() == 64 + 4 * 32);
    Diagnostic diagnostic;
    std::vector<std::string> aliases;
    auto count = for_each_table(bytes.data(), bytes.size(), diagnostic, [&](const Table& table) {
        CHECK(std::string(table.bus_name) == "pci");
        CHECK(std::string(table.name) == "sample_ids");
        CHECK(table.entry_count == 4);
        CHECK(pci_entry(table, 1).driver_data == 7);
        for (uint32_t i = 0; i < table.entry_count; i++) {
            char alias[kAliasCapacity];
            entry_alias(table, i, alias, sizeof(alias));
            aliases.push_back(alias);
        }
        return true;
    });
    REQUIRE(count.is_ok());
    CHECK(count.value() == 1);
    // What Linux's file2alias writes for the same entries.
    CHECK(aliases
        == std::vector<std::string> { "pci:v00001AF4d00001042sv*sd*bc*sc*i*", "pci:v00001234d000011E8sv*sd*bc*sc*i*",
            "pci:v*d*sv*sd*bc0Csc03i30*", "pci:v00008086d000010D3sv00008086sd00000000bc*sc*i*" });
    CHECK(KEEL_DEVICE_TABLE_OF(sample_ids)->entry_count == 4);
}

TEST_CASE("Two tables one after the other, with padding")
{
    std::vector<uint8_t> bytes = sample();
    std::vector<uint8_t> second = sample();
    second[32] = 't'; // another name
    bytes.insert(bytes.end(), second.begin(), second.end());
    Diagnostic diagnostic;
    size_t seen = 0;
    auto count = for_each_table(bytes.data(), bytes.size(), diagnostic, [&](const Table&) { return ++seen < 5; });
    REQUIRE(count.is_ok());
    CHECK(count.value() == 2);
    CHECK(seen == 2);
}

TEST_CASE("Malformed tables are refused naming the field and value")
{
    std::vector<uint8_t> bytes = sample();
    SECTION("short") { CHECK(refusal(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 40)).find("less than a 64-byte header") != std::string::npos); }
    SECTION("magic")
    {
        bytes[0] = 'X';
        CHECK(refusal(bytes).find("is not \"KDEV\"") != std::string::npos);
    }
    SECTION("version")
    {
        put<uint16_t>(bytes, 4, 2);
        CHECK(refusal(bytes) == "table sample_ids: format version 2 is not supported (1)");
    }
    SECTION("header size")
    {
        put<uint16_t>(bytes, 6, 48);
        CHECK(refusal(bytes) == "table sample_ids: header size 48 is not 64");
    }
    SECTION("bus name")
    {
        memcpy(bytes.data() + 16, "PCI", 3);
        CHECK(refusal(bytes).find("bus \"PCI\" is not 1 to 15 of [a-z0-9_]") != std::string::npos);
    }
    SECTION("unknown bus")
    {
        memcpy(bytes.data() + 16, "usb", 3);
        CHECK(refusal(bytes) == "table sample_ids: bus \"usb\" is unknown (known: pci)");
    }
    SECTION("name not NUL-padded")
    {
        memset(bytes.data() + 32, 'a', 32);
        CHECK(refusal(bytes).find("is not 1 to 31 of [a-z0-9_], NUL-padded") != std::string::npos);
    }
    SECTION("garbage after the name")
    {
        bytes[32 + 20] = 'x';
        CHECK(refusal(bytes).find("NUL-padded") != std::string::npos);
    }
    SECTION("entry size")
    {
        put<uint32_t>(bytes, 8, 24);
        CHECK(refusal(bytes) == "table sample_ids: entry size 24 is not the pci bus's 32");
    }
    SECTION("count zero")
    {
        put<uint32_t>(bytes, 12, 0);
        CHECK(refusal(bytes) == "table sample_ids: entry count 0 is not 1 to 4096");
    }
    SECTION("count too large")
    {
        put<uint32_t>(bytes, 12, 0xffffffff);
        CHECK(refusal(bytes) == "table sample_ids: entry count 4294967295 is not 1 to 4096");
    }
    SECTION("count past the end")
    {
        put<uint32_t>(bytes, 12, 5);
        CHECK(refusal(bytes).find("5 entries of 32 bytes run 32 bytes past the section's end") != std::string::npos);
    }
    SECTION("vendor not 16 bits")
    {
        put<uint32_t>(bytes, 64, 0x12345);
        CHECK(refusal(bytes) == "table sample_ids, entry 0: vendor 0x12345 is neither 16 bits nor PCI_ANY_ID");
    }
    SECTION("partial class mask")
    {
        put<uint32_t>(bytes, 64 + 2 * 32 + 20, 0xfff000);
        CHECK(refusal(bytes).find("class_mask 0xfff000 masks part of a byte") != std::string::npos);
    }
    SECTION("class bits outside the mask")
    {
        put<uint32_t>(bytes, 64 + 2 * 32 + 20, 0xffff00);
        CHECK(refusal(bytes).find("class 0x0c0330 has bits outside class_mask 0xffff00") != std::string::npos);
    }
    SECTION("an all-zero terminator")
    {
        memset(bytes.data() + 64 + 3 * 32, 0, 32);
        CHECK(refusal(bytes).find("entry 3: all zero") != std::string::npos);
    }
    SECTION("matching everything")
    {
        put<uint32_t>(bytes, 64 + 2 * 32 + 16, 0);
        put<uint32_t>(bytes, 64 + 2 * 32 + 20, 0);
        CHECK(refusal(bytes) == "table sample_ids, entry 2: matches every PCI function");
    }
    SECTION("non-zero padding")
    {
        std::vector<uint8_t> padded = bytes;
        padded.push_back(1);
        CHECK(refusal(padded).find("less than a 64-byte header") != std::string::npos);
    }
}

TEST_CASE("PCI matching follows Linux's PCI_ANY_ID and class-mask rules")
{
    PciIdentity blk { 0x1af4, 0x1001, 0x1af4, 0x0002, 0x010000 };
    PciDeviceId entry = any();
    entry.vendor = 0x1af4;
    CHECK(pci_id_matches(entry, blk));
    entry.device = 0x1042;
    CHECK(!pci_id_matches(entry, blk));
    entry = any();
    entry.subdevice = 0x0002;
    CHECK(pci_id_matches(entry, blk));
    entry.subdevice = 0x0003;
    CHECK(!pci_id_matches(entry, blk));
    entry = any();
    entry.class_code = 0x010000;
    entry.class_mask = 0xff0000;
    CHECK(pci_id_matches(entry, blk));
    entry.class_code = 0x020000;
    CHECK(!pci_id_matches(entry, blk));
    entry.class_mask = 0;
    CHECK(pci_id_matches(entry, blk));
}

TEST_CASE("Modaliases are byte-identical to Linux's for QEMU's virtio devices")
{
    // /sys/bus/pci/devices/*/modalias of QEMU 7.2's transitional devices.
    CHECK(modalias_of({ 0x1af4, 0x1001, 0x1af4, 0x0002, 0x010000 })
        == "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00");
    CHECK(modalias_of({ 0x1af4, 0x1000, 0x1af4, 0x0001, 0x020000 })
        == "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00");
    CHECK(modalias_of({ 0x1af4, 0x1005, 0x1af4, 0x0004, 0x00ff00 })
        == "pci:v00001AF4d00001005sv00001AF4sd00000004bc00scFFi00");
    // Modern-only (non-transitional) virtio-blk.
    CHECK(modalias_of({ 0x1af4, 0x1042, 0x1af4, 0x1100, 0x010000 })
        == "pci:v00001AF4d00001042sv00001AF4sd00001100bc01sc00i00");
}

TEST_CASE("Alias patterns as Linux's file2alias writes them")
{
    PciDeviceId entry = any();
    entry.vendor = 0x1af4;
    CHECK(alias_of(entry) == "pci:v00001AF4d*sv*sd*bc*sc*i*"); // virtio_pci's
    entry = any();
    entry.class_code = 0x010802;
    entry.class_mask = 0xffffff;
    CHECK(alias_of(entry) == "pci:v*d*sv*sd*bc01sc08i02*"); // nvme's class entry
    entry.class_code = 0x010800;
    entry.class_mask = 0xffff00;
    CHECK(alias_of(entry) == "pci:v*d*sv*sd*bc01sc08i*");
    char tiny[8];
    CHECK(pci_alias_pattern(entry, tiny, sizeof(tiny)) == strlen("pci:v*d*sv*sd*bc01sc08i*"));
    CHECK(std::string(tiny) == "pci:v*d");
}

TEST_CASE("Alias globs match as modprobe's fnmatch does")
{
    const char* blk = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";
    CHECK(alias_glob_match("pci:v00001AF4d*sv*sd*bc*sc*i*", blk));
    CHECK(alias_glob_match("pci:v00001AF4d00001001sv*sd*bc*sc*i*", blk));
    CHECK(!alias_glob_match("pci:v00001AF4d00001042sv*sd*bc*sc*i*", blk));
    CHECK(alias_glob_match("pci:v*d*sv*sd*bc01sc00i*", blk));
    CHECK(alias_glob_match("pci:v0000????d*", blk));
    CHECK(alias_glob_match("pci:v0000[0-9A-F]AF4*", blk));
    CHECK(!alias_glob_match("pci:v0000[!1]AF4*", blk));
    CHECK(alias_glob_match("*", ""));
    CHECK(!alias_glob_match("a", ""));
    CHECK(alias_glob_match("[", "["));
    CHECK(!alias_glob_match("[abc", "a"));
    CHECK(alias_glob_match("a*b*c*d*e*f", "aXbXcXdXeXf"));
    // Many stars on a long text: no exponential backtracking.
    std::string text(5000, 'a');
    CHECK(!alias_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", text.c_str()));
}
