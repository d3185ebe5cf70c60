// MBR and GPT partition tables from images built here: numbering as
// Linux does, extended partitions and EBR chains (loops, bounds, garbage),
// GPT names, GUIDs, entry sizes, sector sizes, the backup header, and every
// refusal's message.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "disk_image.h"

using keel::Diagnostic;
using keel::Error;
using namespace partition_test;

namespace {

// What read_partition_table returned (Result<void> cannot be assigned).
struct Outcome {
    Error code = Error(0);
    bool is_ok() const { return code == Error(0); }
    bool is_error() const { return !is_ok(); }
    Error error() const { return code; }
};

struct Scanned {
    Outcome result;
    PartitionTable table;
    std::vector<Partition> partitions;
    std::string message;
};

Scanned scan(MemoryDisk& disk, size_t capacity = 64)
{
    Scanned s { {}, {}, std::vector<Partition>(capacity), {} };
    s.table.partitions = s.partitions.data();
    s.table.capacity = capacity;
    static uint8_t scratch[kPartitionScratchSize];
    Diagnostic diagnostic;
    BlockReader reader = disk.reader();
    auto result = read_partition_table(reader, s.table, scratch, sizeof(scratch), &diagnostic);
    s.result.code = result.is_ok() ? Error(0) : result.error();
    s.message = diagnostic.message;
    s.partitions.resize(s.table.count);
    if (s.result.is_ok())
        CHECK(s.message.empty());
    return s;
}

void check_refused(MemoryDisk& disk, Error error, const std::string& message)
{
    Scanned s = scan(disk);
    REQUIRE(s.result.is_error());
    CHECK(s.result.error() == error);
    CHECK(s.message == message);
}

std::string text(const Guid& g)
{
    char buffer[kGuidTextSize];
    format_guid(g, buffer);
    return buffer;
}

const Guid kLinux = guid("0fc63daf-8483-4772-8e79-3d69d8477de4");
const Guid kEsp = guid("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
const Guid kSwap = guid("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f");

} // namespace

TEST_CASE("disks without a partition table")
{
    MemoryDisk blank(512, 100);
    Scanned s = scan(blank);
    REQUIRE(s.result.is_ok());
    CHECK(s.table.scheme == Scheme::None);
    CHECK(s.partitions.empty());

    // A FAT boot sector: the signature, but "boot indicators" that are
    // code, not 0x00 or 0x80.
    MemoryDisk fat(512, 100);
    write_table_sector(fat.sector(0), { { 0x29, 0x0c, 1, 50 } });
    CHECK(scan(fat).table.scheme == Scheme::None);

    MemoryDisk empty(512, 0);
    REQUIRE(scan(empty).result.is_ok());
}

TEST_CASE("MBR primaries keep their slot numbers")
{
    MemoryDisk disk(512, 4096);
    write_table_sector(
        disk.sector(0), { { 0x80, 0x83, 2048, 1000 }, { 0, 0x82, 3048, 500 }, {}, { 0, 0x0c, 3548, 548 } }, 0xdeadbeef);
    Scanned s = scan(disk);
    INFO(s.message);
    REQUIRE(s.result.is_ok());
    CHECK(s.table.scheme == Scheme::Mbr);
    CHECK(s.table.mbr_signature == 0xdeadbeef);
    REQUIRE(s.partitions.size() == 3);
    CHECK(s.partitions[0].number == 1);
    CHECK(s.partitions[0].bootable);
    CHECK(s.partitions[0].first_lba == 2048);
    CHECK(s.partitions[0].sector_count == 1000);
    CHECK(s.partitions[0].mbr_type == 0x83);
    CHECK(std::string(mbr_type_name(s.partitions[0].mbr_type)) == "Linux");
    CHECK(s.partitions[1].number == 2);
    CHECK_FALSE(s.partitions[1].bootable);
    CHECK(s.partitions[2].number == 4);
    CHECK(s.partitions[2].kind == PartitionKind::MbrPrimary);
    CHECK(s.partitions[2].first_lba + s.partitions[2].sector_count == 4096); // up to the last sector
}

namespace {

// An MBR with partition 1 primary and partition 2 extended holding
// logical partitions of `sizes` sectors, one EBR before each.
void write_extended(MemoryDisk& disk, uint8_t extended_type, const std::vector<uint32_t>& sizes)
{
    const uint32_t extended_start = 1000;
    const uint32_t extended_count = uint32_t(disk.sectors()) - extended_start;
    write_table_sector(disk.sector(0), { { 0, 0x83, 100, 900 }, { 0, extended_type, extended_start, extended_count } });
    uint32_t ebr = extended_start;
    for (size_t i = 0; i < sizes.size(); ++i) {
        uint32_t next = ebr + 1 + sizes[i] + 7; // a gap, as tools align partitions
        std::vector<MbrEntry> entries = { { 0, 0x83, 1, sizes[i] } };
        if (i + 1 < sizes.size())
            entries.push_back({ 0, 0x05, next - extended_start, sizes[i + 1] + 1 });
        write_table_sector(disk.sector(ebr), entries);
        ebr = next;
    }
}

} // namespace

TEST_CASE("extended partitions: logical partitions from 5, in chain order")
{
    for (uint8_t type : { 0x05, 0x0f, 0x85 }) {
        for (uint32_t sector_size : { 512u, 4096u }) {
            INFO("type " << int(type) << " sector size " << sector_size);
            MemoryDisk disk(sector_size, 4096);
            write_extended(disk, type, { 300, 200, 100 });
            Scanned s = scan(disk);
            INFO(s.message);
            REQUIRE(s.result.is_ok());
            REQUIRE(s.partitions.size() == 5);
            CHECK(s.partitions[0].number == 1);
            const Partition& extended = s.partitions[1];
            CHECK(extended.number == 2);
            CHECK(extended.kind == PartitionKind::MbrExtended);
            CHECK(extended.first_lba == 1000);
            // Linux's stub: two 512-byte sectors, or one larger one.
            CHECK(extended.sector_count == (sector_size == 512 ? 2u : 1u));
            const uint64_t expected[][3] = { { 5, 1001, 300 }, { 6, 1309, 200 }, { 7, 1517, 100 } };
            for (size_t i = 0; i < 3; ++i) {
                const Partition& p = s.partitions[2 + i];
                CHECK(p.kind == PartitionKind::MbrLogical);
                CHECK(p.number == expected[i][0]);
                CHECK(p.first_lba == expected[i][1]);
                CHECK(p.sector_count == expected[i][2]);
                CHECK(p.table_lba == expected[i][1] - 1);
            }
        }
    }
}

TEST_CASE("EBR chains: an empty extended partition, garbage, the first EBR empty")
{
    SECTION("no EBR at all")
    {
        MemoryDisk disk(512, 4096);
        write_table_sector(disk.sector(0), { { 0, 0x05, 1000, 3000 } });
        Scanned s = scan(disk);
        REQUIRE(s.result.is_ok());
        REQUIRE(s.partitions.size() == 1);
        CHECK(s.partitions[0].kind == PartitionKind::MbrExtended);
    }
    SECTION("garbage in an EBR's third and fourth entries is ignored")
    {
        MemoryDisk disk(512, 4096);
        write_extended(disk, 0x05, { 300 });
        write_table_sector(
            disk.sector(1000), { { 0, 0x83, 1, 300 }, {}, { 0, 0x07, 0xfffffff0, 0x100 }, { 0, 0x0b, 5, 0xffffff00 } });
        Scanned s = scan(disk);
        INFO(s.message);
        REQUIRE(s.result.is_ok());
        CHECK(s.partitions.size() == 3);
    }
    SECTION("a first EBR holding only the link")
    {
        MemoryDisk disk(512, 4096);
        write_table_sector(disk.sector(0), { { 0, 0x05, 1000, 3000 } });
        write_table_sector(disk.sector(1000), { {}, { 0, 0x05, 100, 51 } });
        write_table_sector(disk.sector(1100), { { 0, 0x83, 1, 50 } });
        Scanned s = scan(disk);
        REQUIRE(s.result.is_ok());
        REQUIRE(s.partitions.size() == 2);
        CHECK(s.partitions[1].number == 5);
        CHECK(s.partitions[1].first_lba == 1101);
    }
}

TEST_CASE("EBR chains that loop or leave their extended partition")
{
    SECTION("back to the first EBR")
    {
        MemoryDisk disk(512, 4096);
        write_extended(disk, 0x05, { 300, 200, 100 });
        // The last EBR (at 1516) links back to the first (1000).
        write_table_sector(disk.sector(1516), { { 0, 0x83, 1, 100 }, { 0, 0x05, 0, 301 } });
        check_refused(
            disk, Error::ELOOP, "MBR: EBR chain loops: EBR at LBA 0x3e8 (linked from LBA 0x5ec) was already read");
    }
    SECTION("to itself")
    {
        MemoryDisk disk(512, 4096);
        write_extended(disk, 0x05, { 300 });
        write_table_sector(disk.sector(1000), { { 0, 0x83, 1, 300 }, { 0, 0x05, 0, 301 } });
        check_refused(disk, Error::ELOOP, "MBR: EBR chain loops: EBR at LBA 0x3e8 links to itself");
    }
    SECTION("through EBRs that hold nothing")
    {
        MemoryDisk disk(512, 4096);
        write_table_sector(disk.sector(0), { { 0, 0x05, 1000, 3000 } });
        write_table_sector(disk.sector(1000), { {}, { 0, 0x05, 1, 1 } });
        write_table_sector(disk.sector(1001), { {}, { 0, 0x05, 0, 1 } });
        check_refused(disk, Error::ELOOP,
            "MBR: EBR chain loops: 64 EBRs in a row hold no partition (the chain goes on at LBA 0x3e8)");
    }
    SECTION("a logical partition outside the extended one")
    {
        MemoryDisk disk(512, 4096);
        write_extended(disk, 0x05, { 300 });
        write_table_sector(disk.sector(1000), { { 0, 0x83, 1, 5000 } });
        check_refused(disk, Error::EINVAL,
            "MBR: EBR at LBA 0x3e8, entry 1: LBAs 0x3e9-0x1770 are not inside extended partition 2 (0x3e8-0xfff) after "
            "the EBR");
        write_table_sector(disk.sector(1000), { { 0, 0x83, 0, 10 } });
        check_refused(disk, Error::EINVAL,
            "MBR: EBR at LBA 0x3e8, entry 1: LBAs 0x3e8-0x3f1 are not inside extended partition 2 (0x3e8-0xfff) after "
            "the EBR");
    }
    SECTION("a link outside the extended partition")
    {
        MemoryDisk disk(512, 4096);
        write_extended(disk, 0x05, { 300 });
        write_table_sector(disk.sector(1000), { { 0, 0x83, 1, 300 }, { 0, 0x05, 3096, 10 } });
        check_refused(disk, Error::EINVAL,
            "MBR: EBR at LBA 0x3e8 links to LBA 0x1000, outside extended partition 2 (0x3e8-0xfff)");
    }
    SECTION("logical partitions overlapping each other")
    {
        MemoryDisk disk(512, 4096);
        write_table_sector(disk.sector(0), { { 0, 0x05, 1000, 3000 } });
        write_table_sector(disk.sector(1000), { { 0, 0x83, 1, 200 }, { 0, 0x05, 100, 101 } });
        write_table_sector(disk.sector(1100), { { 0, 0x83, 1, 50 } });
        check_refused(disk, Error::EINVAL, "MBR: partition 6 (LBAs 0x44d-0x47e) overlaps partition 5 (0x3e9-0x4b0)");
    }
}

TEST_CASE("MBR primaries that cannot be")
{
    MemoryDisk disk(512, 4096);
    write_table_sector(disk.sector(0), { { 0, 0x83, 2048, 2049 } });
    check_refused(disk, Error::EINVAL, "MBR: entry 1: LBAs 0x800-0x1000 run past the end of the disk (0x1000 sectors)");
    write_table_sector(disk.sector(0), { {}, { 0, 0x83, 0, 10 } });
    check_refused(disk, Error::EINVAL, "MBR: entry 2 starts at LBA 0, over the MBR");
    write_table_sector(disk.sector(0), { { 0, 0x83, 100, 1000 }, { 0, 0x83, 1099, 10 } });
    check_refused(disk, Error::EINVAL, "MBR: partition 2 (LBAs 0x44b-0x454) overlaps partition 1 (0x64-0x44b)");
    write_table_sector(disk.sector(0), { { 0, 0x05, 100, 1000 }, { 0, 0x83, 500, 10 } });
    check_refused(disk, Error::EINVAL, "MBR: partition 2 lies inside extended partition 1");
    write_table_sector(disk.sector(0), { { 0, 0x05, 100, 1000 }, { 0, 0x0f, 1000, 10 } });
    check_refused(disk, Error::EINVAL, "MBR: extended partitions 1 and 2 overlap");
    write_table_sector(disk.sector(0), { {}, { 0, 0xee, 2, 100 } });
    check_refused(disk, Error::EINVAL, "MBR: protective entry 2 (type 0xee) starts at LBA 0x2, not 1");
}

TEST_CASE("GPT: numbers by array index, names, GUIDs, types")
{
    MemoryDisk disk(512, 8192);
    std::vector<GptEntry> entries = {
        { 0, kEsp, guid("a0a0a0a0-b1b1-c2c2-d3d3-e4e4e4e4e4e4"), 2048, 4095, 0, u"EFI System" },
        { 2, kLinux, guid("11111111-2222-3333-4444-555555555555"), 4096, 6143, 0x8000000000000001, u"Données été" },
        { 5, kSwap, guid("66666666-7777-8888-9999-aaaaaaaaaaaa"), 6144, 8000, 0, u"\U0001F600 swap \x0007 \xD800 end" },
        { 127, guid("12345678-1234-1234-1234-123456789abc"), guid("00000000-0000-0000-0000-000000000001"), 8001, 8001,
            0, u"0123456789012345678901234567890123456789" },
    };
    write_gpt(disk, entries);
    Scanned s = scan(disk);
    INFO(s.message);
    REQUIRE(s.result.is_ok());
    CHECK(s.table.scheme == Scheme::Gpt);
    CHECK_FALSE(s.table.from_backup);
    CHECK(text(s.table.disk_guid) == "01234567-89ab-cdef-0123-456789abcdef");
    CHECK(s.table.first_usable_lba == 34);
    CHECK(s.table.last_usable_lba == 8192 - 34);
    REQUIRE(s.partitions.size() == 4);
    CHECK(s.partitions[0].number == 1);
    CHECK(s.partitions[0].first_lba == 2048);
    CHECK(s.partitions[0].sector_count == 2048);
    CHECK(std::string(s.partitions[0].name) == "EFI System");
    CHECK(text(s.partitions[0].type_guid) == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    CHECK(std::string(gpt_type_name(s.partitions[0].type_guid)) == "EFI system partition");
    CHECK(text(s.partitions[0].unique_guid) == "a0a0a0a0-b1b1-c2c2-d3d3-e4e4e4e4e4e4");
    CHECK(s.partitions[1].number == 3);
    CHECK(std::string(s.partitions[1].name) == "Données été");
    CHECK(s.partitions[1].attributes == 0x8000000000000001);
    CHECK(std::string(gpt_type_name(s.partitions[1].type_guid)) == "Linux filesystem");
    CHECK(s.partitions[2].number == 6);
    // A surrogate pair, a control character and a lone surrogate.
    CHECK(std::string(s.partitions[2].name) == "\U0001F600 swap \uFFFD \uFFFD end");
    CHECK(s.partitions[3].number == 128);
    CHECK(std::string(s.partitions[3].name) == "012345678901234567890123456789012345"); // 36 units
    CHECK(gpt_type_name(s.partitions[3].type_guid) == nullptr);
}

TEST_CASE("GPT: sector sizes and entry sizes")
{
    struct Case {
        uint32_t sector_size;
        uint32_t entry_size;
        uint32_t entry_count;
    };
    const Case cases[] = {
        { 512, 128, 128 },
        { 512, 256, 64 },
        { 512, 512, 32 },
        { 512, 1024, 16 },
        { 512, 4096, 4 },
        { 4096, 128, 128 },
        { 4096, 1024, 9 },
        { 1024, 256, 7 },
        { 2048, 128, 3 },
    };
    for (const Case& c : cases) {
        INFO("sector " << c.sector_size << " entry " << c.entry_size << " x " << c.entry_count);
        MemoryDisk disk(c.sector_size, 1024);
        GptLayout layout;
        layout.entry_size = c.entry_size;
        layout.entry_count = c.entry_count;
        std::vector<GptEntry> entries = {
            { 0, kLinux, guid("11111111-2222-3333-4444-555555555555"), 100, 199, 0, u"first" },
            { c.entry_count - 1, kSwap, guid("11111111-2222-3333-4444-555555555556"), 200, 299, 0, u"last" },
        };
        write_gpt(disk, entries, layout);
        Scanned s = scan(disk);
        INFO(s.message);
        REQUIRE(s.result.is_ok());
        REQUIRE(s.partitions.size() == 2);
        CHECK(s.partitions[1].number == c.entry_count);
        CHECK(std::string(s.partitions[1].name) == "last");
        CHECK(s.partitions[1].first_lba == 200);
    }
}

TEST_CASE("GPT: a damaged primary falls back to the backup, saying why")
{
    std::vector<GptEntry> entries = { { 0, kLinux, guid("11111111-2222-3333-4444-555555555555"), 100, 199, 0, u"a" } };
    SECTION("the primary header's CRC")
    {
        MemoryDisk disk(512, 1024);
        write_gpt(disk, entries);
        disk.sector(1)[48] ^= 1; // LastUsableLBA
        Scanned s = scan(disk);
        INFO(s.message);
        REQUIRE(s.result.is_ok());
        CHECK(s.table.from_backup);
        CHECK(std::string(s.table.primary_problem.message).rfind("primary GPT at LBA 1: header CRC32 0x", 0) == 0);
        REQUIRE(s.partitions.size() == 1);
        CHECK(s.partitions[0].first_lba == 100);
    }
    SECTION("the primary array's CRC")
    {
        MemoryDisk disk(512, 1024);
        write_gpt(disk, entries);
        disk.sector(2)[40] ^= 0xff; // the entry's EndingLBA
        Scanned s = scan(disk);
        REQUIRE(s.result.is_ok());
        CHECK(s.table.from_backup);
        CHECK(std::string(s.table.primary_problem.message).find("entry array CRC32") != std::string::npos);
        CHECK(s.partitions[0].sector_count == 100);
    }
    SECTION("the primary header wiped")
    {
        MemoryDisk disk(4096, 256);
        write_gpt(disk, entries);
        memset(disk.sector(1), 0, 4096);
        Scanned s = scan(disk);
        REQUIRE(s.result.is_ok());
        CHECK(std::string(s.table.primary_problem.message)
            == "primary GPT at LBA 1: bad signature \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"");
    }
    SECTION("both damaged")
    {
        MemoryDisk disk(512, 1024);
        write_gpt(disk, entries);
        memcpy(disk.sector(1), "EFI PARX", 8);
        disk.sector(1023)[88] ^= 1; // the backup's array CRC field
        reseal_header(disk, 1023);
        Scanned s = scan(disk);
        REQUIRE(s.result.is_error());
        CHECK(s.result.error() == Error::EINVAL);
        CHECK(s.message.rfind(
                  "GPT: neither copy is valid: primary at LBA 1: bad signature \"EFI PARX\"; backup at LBA 0x3ff: "
                  "entry array CRC32 0x",
                  0)
            == 0);
    }
}

TEST_CASE("GPT: each header check")
{
    struct Case {
        const char* what;
        void (*mutate)(MemoryDisk&);
        const char* problem;
    };
    const Case cases[] = {
        { "revision", [](MemoryDisk& d) { put32(d.sector(1) + 8, 0x00020000); }, "revision 0x00020000 is not 1.x" },
        { "header size too small", [](MemoryDisk& d) { put32(d.sector(1) + 12, 91); },
            "HeaderSize 91 is outside 92..512" },
        { "header size past the sector", [](MemoryDisk& d) { put32(d.sector(1) + 12, 513); },
            "HeaderSize 513 is outside 92..512" },
        { "MyLBA", [](MemoryDisk& d) { put64(d.sector(1) + 24, 2); }, "MyLBA 0x2, but the header is at LBA 0x1" },
        { "usable past the end", [](MemoryDisk& d) { put64(d.sector(1) + 48, 1024); },
            "usable LBAs 0x22-0x400 are not inside 0x2-0x3ff" },
        { "usable backwards", [](MemoryDisk& d) { put64(d.sector(1) + 40, 1000); },
            "usable LBAs 0x3e8-0x3de are not inside 0x2-0x3ff" },
        { "usable over the header", [](MemoryDisk& d) { put64(d.sector(1) + 40, 1); },
            "usable LBAs 0x1-0x3de are not inside 0x2-0x3ff" },
        { "entry size 100", [](MemoryDisk& d) { put32(d.sector(1) + 84, 100); },
            "SizeOfPartitionEntry 100 is not 128 x 2^n up to 4096" },
        { "entry size 8192", [](MemoryDisk& d) { put32(d.sector(1) + 84, 8192); },
            "SizeOfPartitionEntry 8192 is not 128 x 2^n up to 4096" },
        { "a huge array", [](MemoryDisk& d) { put32(d.sector(1) + 80, 0xffffffff); },
            "4294967295 entries of 128 bytes: more than the 1048576 bytes this reader takes" },
        { "array over the usable LBAs", [](MemoryDisk& d) { put64(d.sector(1) + 72, 30); },
            "the entry array at LBAs 0x1e-0x3d overlaps the usable LBAs 0x22-0x3de" },
        { "array past the end", [](MemoryDisk& d) { put64(d.sector(1) + 72, 1020); },
            "the entry array at LBA 0x3fc (0x20 sectors) is not inside the disk after the MBR (0x400 sectors)" },
        { "array at LBA 0", [](MemoryDisk& d) { put64(d.sector(1) + 72, 0); },
            "the entry array at LBA 0x0 (0x20 sectors) is not inside the disk after the MBR (0x400 sectors)" },
        { "array over its own header",
            [](MemoryDisk& d) {
                put64(d.sector(1) + 72, 1);
                put64(d.sector(1) + 40, 40);
            },
            "the entry array at LBAs 0x1-0x20 holds the header at LBA 0x1" },
    };
    for (const Case& c : cases) {
        INFO(c.what);
        MemoryDisk disk(512, 1024);
        write_gpt(disk, { { 0, kLinux, guid("11111111-2222-3333-4444-555555555555"), 100, 199, 0, u"a" } });
        c.mutate(disk);
        reseal_header(disk, 1);
        Scanned s = scan(disk);
        INFO(s.message);
        REQUIRE(s.result.is_ok()); // the backup is whole
        CHECK(s.table.from_backup);
        CHECK(std::string(s.table.primary_problem.message) == std::string("primary GPT at LBA 1: ") + c.problem);
    }
}

TEST_CASE("GPT: entries that cannot be")
{
    auto refused = [](std::vector<GptEntry> entries, const std::string& message) {
        MemoryDisk disk(512, 1024);
        write_gpt(disk, entries);
        check_refused(disk, Error::EINVAL, message);
    };
    const Guid u = guid("11111111-2222-3333-4444-555555555555");
    refused({ { 3, kLinux, u, 200, 100, 0, u"" } }, "GPT: entry 4: StartingLBA 0xc8 is after EndingLBA 0x64");
    refused(
        { { 0, kLinux, u, 10, 100, 0, u"" } }, "GPT: entry 1: LBAs 0xa-0x64 are not inside the usable LBAs 0x22-0x3de");
    refused({ { 0, kLinux, u, 100, 0x3df, 0, u"" } },
        "GPT: entry 1: LBAs 0x64-0x3df are not inside the usable LBAs 0x22-0x3de");
    refused(
        { { 0, kLinux, u, 100, 199, 0, u"" }, { 1, kLinux, u, 300, 399, 0, u"" }, { 2, kLinux, u, 199, 250, 0, u"" } },
        "GPT: partition 3 (LBAs 0xc7-0xfa) overlaps partition 1 (0x64-0xc7)");
    refused({ { 0, kLinux, u, 100, 199, 0, u"" }, { 9, kLinux, u, 50, 400, 0, u"" } },
        "GPT: partition 10 (LBAs 0x32-0x190) overlaps partition 1 (0x64-0xc7)");
}

TEST_CASE("hybrid and protective MBRs lead to the GPT; capacity; read errors; bad arguments")
{
    MemoryDisk disk(512, 1024);
    const Guid u = guid("11111111-2222-3333-4444-555555555555");
    std::vector<GptEntry> entries;
    for (uint32_t i = 0; i < 10; ++i)
        entries.push_back({ i, kLinux, u, 100 + 10 * i, 109 + 10 * i, 0, u"" });
    write_gpt(disk, entries);
    // A hybrid MBR: the protective entry and a copy of a GPT partition.
    write_table_sector(disk.sector(0), { { 0x80, 0x83, 100, 10 }, { 0, 0xee, 1, 1023 } });
    Scanned s = scan(disk);
    REQUIRE(s.result.is_ok());
    CHECK(s.table.scheme == Scheme::Gpt);
    CHECK(s.partitions.size() == 10);

    Scanned small = scan(disk, 4);
    CHECK(small.result.error() == Error::ENOSPC);
    CHECK(small.message == "GPT: more than 4 partitions (partition 5 has no room)");

    disk.failing_lba = 2;
    Scanned failed = scan(disk);
    CHECK(failed.result.error() == Error::EIO);
    CHECK(failed.message == "reading the GPT entry array at LBA 0x2: EIO");

    PartitionTable table;
    uint8_t scratch[kPartitionScratchSize];
    Diagnostic diagnostic;
    BlockReader odd = disk.reader();
    odd.sector_size = 768;
    CHECK(read_partition_table(odd, table, scratch, sizeof(scratch), &diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "sector size 768 is not 512, 1024, 2048 or 4096");
    BlockReader fine = disk.reader();
    CHECK(read_partition_table(fine, table, scratch, 512, &diagnostic).error() == Error::EINVAL);

    // A one-sector disk with a protective MBR: no room for a GPT.
    MemoryDisk tiny(512, 1);
    write_table_sector(tiny.sector(0), { { 0, 0xee, 1, 1 } });
    check_refused(tiny, Error::EINVAL, "GPT header at LBA 0x1 (1 sectors) is past the end of the disk (0x1 sectors)");
}
