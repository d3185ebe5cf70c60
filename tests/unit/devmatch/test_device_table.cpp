// The match-table section: a real one (C sources written against
// device_table_abi.h, linked into a shared object like a module, the
// section dumped with llvm-objcopy) and synthetic ones for every check.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lib/devmatch/device_table.h"
#include "lib/devmatch/glob.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::devmatch;

namespace {

struct Walk {
    std::vector<DeviceTable> tables;
    bool ok = false;
    Error error = Error(0);
    std::string message;
};

// Walks a copy of `bytes` in a buffer of exactly that size (ASan sees any
// read past the end). The copy lives as long as the Walk's tables are used.
Walk walk(const std::vector<uint8_t>& bytes, std::vector<uint8_t>& copy)
{
    copy = bytes;
    Diagnostic diagnostic;
    DeviceTableReader reader(copy.empty() ? nullptr : copy.data(), copy.size(), &diagnostic);
    Walk result;
    while (auto table = reader.next())
        result.tables.push_back(table.value());
    result.ok = reader.status().is_ok();
    result.error = result.ok ? Error(0) : reader.status().error();
    result.message = diagnostic.message;
    if (!result.ok)
        CHECK(reader.next().error() == result.error); // sticky
    return result;
}

template<typename T> void append(std::vector<uint8_t>& out, const T& value)
{
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out.insert(out.end(), p, p + sizeof(value));
}

keel_dt_header header(uint16_t bus, uint32_t entry_size, uint32_t count)
{
    return keel_dt_header { KEEL_DT_MAGIC, KEEL_DT_VERSION, bus, sizeof(keel_dt_header), entry_size, count, 0 };
}

keel_dt_of_id of_id(const char* name, const char* type, const char* compatible, uint64_t data = 0)
{
    keel_dt_of_id id {};
    strncpy(id.name, name, sizeof(id.name) - 1);
    strncpy(id.type, type, sizeof(id.type) - 1);
    strncpy(id.compatible, compatible, sizeof(id.compatible) - 1);
    id.driver_data = data;
    return id;
}

std::vector<uint8_t> good_section()
{
    std::vector<uint8_t> s;
    append(s, header(KEEL_DT_BUS_PCI, sizeof(keel_dt_pci_id), 2));
    append(s, keel_dt_pci_id { 0x1af4, 0x1042, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, 0, 0, 11 });
    append(s,
        keel_dt_pci_id {
            KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, 0x010601, 0xffffff, 12 });
    append(s, header(KEEL_DT_BUS_VIRTIO, sizeof(keel_dt_virtio_id), 1));
    append(s, keel_dt_virtio_id { 2, KEEL_DT_VIRTIO_ANY_ID, 13 });
    append(s, header(KEEL_DT_BUS_OF, sizeof(keel_dt_of_id), 1));
    append(s, of_id("", "", "arm,pl011", 14));
    return s;
}

void check_refused(const std::vector<uint8_t>& bytes, const std::string& message, size_t good_tables = 0)
{
    std::vector<uint8_t> copy;
    Walk w = walk(bytes, copy);
    CHECK_FALSE(w.ok);
    CHECK(w.error == Error::ENOEXEC);
    CHECK(w.message == message);
    CHECK(w.tables.size() == good_tables);
}

template<typename T> void put(std::vector<uint8_t>& bytes, size_t offset, T value)
{
    memcpy(bytes.data() + offset, &value, sizeof(value));
}

} // namespace

TEST_CASE("a module's section, as the C layout and the linker make it")
{
    const char* path = getenv("DEVICE_TABLE_SECTION");
    REQUIRE(path);
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 0);

    std::vector<uint8_t> copy;
    Walk w = walk(bytes, copy);
    INFO(w.message);
    REQUIRE(w.ok);
    REQUIRE(w.tables.size() == 3);
    // The linker padded after the 120-byte PCI table to the next table's
    // 16-byte alignment.
    CHECK(w.tables[0].offset == 0);
    CHECK(w.tables[1].offset == 128);

    std::vector<std::string> aliases;
    for (const DeviceTable& table : w.tables) {
        for (uint32_t i = 0; i < table.count; ++i) {
            char first[kOfAliasSize];
            char second[kOfAliasSize];
            switch (table.bus) {
            case DeviceBus::Pci:
                REQUIRE(format_pci_alias(pci_entry(table, i), first, sizeof(first)).is_ok());
                aliases.push_back(first);
                break;
            case DeviceBus::Virtio:
                REQUIRE(format_virtio_alias(virtio_entry(table, i), first, sizeof(first)).is_ok());
                aliases.push_back(first);
                break;
            case DeviceBus::Of:
                REQUIRE(format_of_aliases(of_entry(table, i), first, sizeof(first), second, sizeof(second)).is_ok());
                aliases.push_back(first);
                aliases.push_back(second);
                break;
            }
        }
    }
    std::sort(aliases.begin(), aliases.end());
    CHECK(aliases
        == std::vector<std::string> {
            "of:N*T*Cvirtio,mmio",
            "of:N*T*Cvirtio,mmioC*",
            "of:NserialT*",
            "of:NserialT*C*",
            "pci:v*d*sv*sd*bc01sc06i01*",
            "pci:v00001AF4d00001001sv*sd*bc*sc*i*",
            "pci:v00001AF4d00001042sv*sd*bc*sc*i*",
            "virtio:d00000002v*",
            "virtio:d00000004v00001AF4*",
        });
    CHECK(pci_entry(w.tables[0], 2).driver_data == 3);
    CHECK(pci_entry(w.tables[0], 2).class_mask == 0xffffff);
}

TEST_CASE("synthetic sections: typed entries, padding, growth")
{
    std::vector<uint8_t> copy;
    Walk w = walk(good_section(), copy);
    INFO(w.message);
    REQUIRE(w.ok);
    REQUIRE(w.tables.size() == 3);
    CHECK(w.tables[0].index == 1);
    CHECK(w.tables[0].bus == DeviceBus::Pci);
    CHECK(w.tables[0].count == 2);
    PciMatch pci = pci_entry(w.tables[0], 1);
    CHECK(pci.vendor == PCI_ANY_ID);
    CHECK(pci.class_code == 0x010601);
    CHECK(pci.driver_data == 12);
    CHECK(w.tables[1].bus == DeviceBus::Virtio);
    CHECK(w.tables[1].offset == 24 + 64);
    VirtioMatch virtio = virtio_entry(w.tables[1], 0);
    CHECK(virtio.device == 2);
    CHECK(virtio.vendor == VIRTIO_DEV_ANY_ID);
    CHECK(virtio.driver_data == 13);
    OfMatch of = of_entry(w.tables[2], 0);
    CHECK(std::string(of.compatible) == "arm,pl011");
    CHECK(std::string(of.name).empty());
    CHECK(of.driver_data == 14);
    CHECK(std::string(device_bus_name(w.tables[2].bus)) == "of");

    // Empty sections and sections of zeros hold no tables.
    CHECK(walk({}, copy).ok);
    Walk zeros = walk(std::vector<uint8_t>(64, 0), copy);
    CHECK(zeros.ok);
    CHECK(zeros.tables.empty());

    // Zero padding between tables and after the last; an empty table.
    std::vector<uint8_t> padded;
    append(padded, header(KEEL_DT_BUS_VIRTIO, sizeof(keel_dt_virtio_id), 0));
    padded.insert(padded.end(), 40, 0);
    append(padded, header(KEEL_DT_BUS_VIRTIO, sizeof(keel_dt_virtio_id), 1));
    append(padded, keel_dt_virtio_id { 1, 0x1af4, 0 });
    padded.insert(padded.end(), 3, 0);
    Walk p = walk(padded, copy);
    REQUIRE(p.ok);
    REQUIRE(p.tables.size() == 2);
    CHECK(p.tables[0].count == 0);
    CHECK(p.tables[1].offset == 64);

    // A later version's longer header and entries: the known fields are
    // read from the front of each.
    std::vector<uint8_t> grown;
    keel_dt_header h = header(KEEL_DT_BUS_PCI, sizeof(keel_dt_pci_id) + 8, 2);
    h.header_size = sizeof(keel_dt_header) + 8;
    append(grown, h);
    append(grown, uint64_t(0xdeadbeef)); // a new header field
    for (uint16_t device : { 0x1041, 0x1042 }) {
        append(grown, keel_dt_pci_id { 0x1af4, device, KEEL_DT_PCI_ANY_ID, KEEL_DT_PCI_ANY_ID, 0, 0, device });
        append(grown, uint64_t(0x1234)); // a new entry field
    }
    Walk g = walk(grown, copy);
    REQUIRE(g.ok);
    REQUIRE(g.tables.size() == 1);
    CHECK(pci_entry(g.tables[0], 1).device == 0x1042);
    CHECK(pci_entry(g.tables[0], 1).driver_data == 0x1042);
}

TEST_CASE("every malformation of a section is named")
{
    std::vector<uint8_t> s = good_section();
    const size_t second = 24 + 64; // the virtio table's header
    const size_t third = second + 24 + 16;

    SECTION("truncated header")
    {
        std::vector<uint8_t> t(s.begin(), s.begin() + long(second + 10));
        check_refused(t, "table 2 at offset 0x58: 0xa bytes left, a header takes 0x18", 1);
    }
    SECTION("bad magic")
    {
        put(s, second, uint32_t(0x12345678));
        check_refused(s, "table 2 at offset 0x58: magic 0x12345678 is not 0x4254444b (\"KDTB\")", 1);
    }
    SECTION("a later format version")
    {
        put(s, 4, uint16_t(2));
        check_refused(s, "table 1 at offset 0x0: format version 2 is not supported (this kernel reads version 1)");
    }
    SECTION("unknown bus")
    {
        put(s, 6, uint16_t(7));
        check_refused(s, "table 1 at offset 0x0: bus 7 is unknown (1 pci, 2 virtio, 3 of)");
    }
    SECTION("header_size too small or past the end")
    {
        put(s, 8, uint32_t(16));
        check_refused(
            s, "table 1 at offset 0x0: header_size 0x10 is outside 0x18..0x160 (the header's size..the bytes left)");
        put(s, 8, uint32_t(0xffffffff));
        check_refused(s,
            "table 1 at offset 0x0: header_size 0xffffffff is outside 0x18..0x160 (the header's size..the bytes left)");
    }
    SECTION("entry_size below the version's entry")
    {
        put(s, second + 12, uint32_t(8));
        check_refused(s, "table 2 at offset 0x58: entry_size 8 is smaller than a version-1 virtio entry (16 bytes)", 1);
        put(s, 12, uint32_t(24));
        check_refused(s, "table 1 at offset 0x0: entry_size 24 is smaller than a version-1 PCI entry (32 bytes)");
    }
    SECTION("flags")
    {
        put(s, third + 20, uint32_t(1));
        check_refused(s, "table 3 at offset 0x80: flags 0x1: none are defined in version 1", 2);
    }
    SECTION("entries past the end, and a count whose size overflows 32 bits")
    {
        put(s, third + 16, uint32_t(2));
        check_refused(s,
            "table 3 at offset 0x80: 2 entries of 200 bytes (0x190) run past the end of the section (0xc8 bytes after "
            "the header)",
            2);
        put(s, third + 16, uint32_t(0xffffffff));
        check_refused(s,
            "table 3 at offset 0x80: 4294967295 entries of 200 bytes (0xc7ffffff38) run past the end of the section "
            "(0xc8 bytes after the header)",
            2);
        put(s, third + 12, uint32_t(0xffffffff));
        check_refused(s,
            "table 3 at offset 0x80: 4294967295 entries of 4294967295 bytes (0xfffffffe00000001) run past the end of "
            "the section (0xc8 bytes after the header)",
            2);
    }
    SECTION("a table that does not start 8-byte aligned")
    {
        std::vector<uint8_t> t;
        keel_dt_header h = header(KEEL_DT_BUS_VIRTIO, sizeof(keel_dt_virtio_id) + 1, 1);
        append(t, h);
        append(t, keel_dt_virtio_id { 1, 2, 3 });
        t.push_back(0xee);
        append(t, header(KEEL_DT_BUS_VIRTIO, sizeof(keel_dt_virtio_id), 0));
        check_refused(t,
            "table 2 at offset 0x29: junk byte 0x4b where a table or zero padding should be (tables start 8-byte "
            "aligned)",
            1);
    }
    SECTION("junk after zero padding")
    {
        s.insert(s.end(), { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 });
        check_refused(s, "table 4 at offset 0x168: 0x4 bytes left, a header takes 0x18", 3);
    }
    SECTION("PCI IDs wider than 16 bits, classes wider than 24")
    {
        put(s, 24 + 4, uint32_t(0x10042));
        check_refused(
            s, "table 1 at offset 0x0: entry 0: device 0x10042 is neither a 16-bit ID nor PCI_ANY_ID (0xffffffff)");
        s = good_section();
        put(s, 24 + 32 + 16, uint32_t(0x1010601));
        check_refused(
            s, "table 1 at offset 0x0: entry 1: class 0x1010601 / mask 0xffffff exceed the 24-bit class code");
    }
    SECTION("OF strings without their NUL, and an entry that would match everything")
    {
        memset(s.data() + third + 24, 'a', 32);
        check_refused(s, "table 3 at offset 0x80: entry 0: name is not NUL-terminated within its 32 bytes", 2);
        s = good_section();
        memset(s.data() + third + 24 + 64, 'c', 128);
        check_refused(s, "table 3 at offset 0x80: entry 0: compatible is not NUL-terminated within its 128 bytes", 2);
        s = good_section();
        memset(s.data() + third + 24, 0, 192);
        check_refused(s,
            "table 3 at offset 0x80: entry 0: name, type and compatible are all empty (it would match every node)", 2);
    }
}
