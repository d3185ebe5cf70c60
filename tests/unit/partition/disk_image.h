// Disk images for the partition tests and the fuzzer: an in-memory disk
// behind a BlockReader, and writers for MBRs, EBR chains and GPTs (with
// correct CRCs, so a test can then break exactly one thing).
#pragma once

#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "lib/base/crc32.h"
#include "lib/partition/partition.h"

namespace partition_test {

using namespace keel::partition;

struct MemoryDisk {
    MemoryDisk(uint32_t sector_size, uint64_t sectors)
        : sector_size(sector_size)
        , bytes(size_t(sector_size * sectors), 0)
    {
    }

    uint8_t* sector(uint64_t lba) { return bytes.data() + lba * sector_size; }
    uint64_t sectors() const { return bytes.size() / sector_size; }

    BlockReader reader()
    {
        BlockReader r;
        r.context = this;
        r.sector_size = sector_size;
        r.sector_count = sectors();
        r.read = [](void* context, uint64_t lba, uint32_t count, void* buffer) -> keel::Result<void> {
            auto* disk = static_cast<MemoryDisk*>(context);
            ++disk->reads;
            if (lba == disk->failing_lba)
                return keel::Err(keel::Error::EIO);
            if (lba >= disk->sectors() || count > disk->sectors() - lba)
                abort(); // the reader must never ask for this
            memcpy(buffer, disk->sector(lba), size_t(count) * disk->sector_size);
            return {};
        };
        return r;
    }

    uint32_t sector_size;
    std::vector<uint8_t> bytes;
    size_t reads = 0;
    uint64_t failing_lba = ~uint64_t(0);
};

inline void put16(uint8_t* p, uint16_t v)
{
    p[0] = uint8_t(v);
    p[1] = uint8_t(v >> 8);
}
inline void put32(uint8_t* p, uint32_t v)
{
    put16(p, uint16_t(v));
    put16(p + 2, uint16_t(v >> 16));
}
inline void put64(uint8_t* p, uint64_t v)
{
    put32(p, uint32_t(v));
    put32(p + 4, uint32_t(v >> 32));
}

struct MbrEntry {
    uint8_t boot = 0;
    uint8_t type = 0;
    uint32_t start = 0;
    uint32_t count = 0;
};

// Writes a partition table sector (an MBR or an EBR) with its signature.
inline void write_table_sector(uint8_t* sector, const std::vector<MbrEntry>& entries, uint32_t disk_signature = 0)
{
    put32(sector + 440, disk_signature);
    for (size_t i = 0; i < entries.size() && i < 4; ++i) {
        uint8_t* p = sector + 446 + 16 * i;
        p[0] = entries[i].boot;
        p[4] = entries[i].type;
        put32(p + 8, entries[i].start);
        put32(p + 12, entries[i].count);
    }
    sector[510] = 0x55;
    sector[511] = 0xaa;
}

// A GUID from its text form ("c12a7328-f81f-11d2-ba4b-00a0c93ec93b").
inline Guid guid(const char* text)
{
    uint8_t raw[16];
    size_t n = 0;
    for (const char* p = text; *p && n < 16; ++p) {
        if (*p == '-')
            continue;
        raw[n++] = uint8_t(std::stoul(std::string(p, 2), nullptr, 16));
        ++p;
    }
    Guid g;
    // The first three fields are little-endian on disk.
    const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    for (size_t i = 0; i < 16; ++i)
        g.bytes[i] = raw[order[i]];
    return g;
}

struct GptEntry {
    uint32_t index; // in the array
    Guid type;
    Guid unique;
    uint64_t first;
    uint64_t last;
    uint64_t attributes = 0;
    std::u16string name;
};

struct GptLayout {
    uint32_t entry_count = 128;
    uint32_t entry_size = 128;
    uint64_t first_usable = 0; // 0: the usual place after the primary array
    uint64_t last_usable = 0;  // 0: before the backup array
    Guid disk_guid = guid("01234567-89ab-cdef-0123-456789abcdef");
};

// Writes a protective MBR, both headers and both arrays.
inline void write_gpt(MemoryDisk& disk, const std::vector<GptEntry>& entries, GptLayout layout = {})
{
    const uint32_t ss = disk.sector_size;
    const uint64_t sectors = disk.sectors();
    const uint64_t array_bytes = uint64_t(layout.entry_count) * layout.entry_size;
    const uint64_t array_sectors = (array_bytes + ss - 1) / ss;
    if (!layout.first_usable)
        layout.first_usable = 2 + array_sectors;
    if (!layout.last_usable)
        layout.last_usable = sectors - 2 - array_sectors;

    write_table_sector(disk.sector(0), { { 0, 0xee, 1, uint32_t(std::min<uint64_t>(sectors - 1, 0xffffffff)) } });

    std::vector<uint8_t> array(size_t(array_sectors * ss), 0);
    for (const GptEntry& e : entries) {
        uint8_t* p = array.data() + size_t(e.index) * layout.entry_size;
        memcpy(p, e.type.bytes, 16);
        memcpy(p + 16, e.unique.bytes, 16);
        put64(p + 32, e.first);
        put64(p + 40, e.last);
        put64(p + 48, e.attributes);
        for (size_t i = 0; i < e.name.size() && i < 36; ++i)
            put16(p + 56 + 2 * i, uint16_t(e.name[i]));
    }
    uint32_t array_crc = keel::crc32(array.data(), size_t(array_bytes));

    auto write_header = [&](uint64_t lba, uint64_t alternate, uint64_t array_lba) {
        uint8_t* h = disk.sector(lba);
        memset(h, 0, ss);
        memcpy(h, "EFI PART", 8);
        put32(h + 8, 0x00010000);
        put32(h + 12, 92);
        put64(h + 24, lba);
        put64(h + 32, alternate);
        put64(h + 40, layout.first_usable);
        put64(h + 48, layout.last_usable);
        memcpy(h + 56, layout.disk_guid.bytes, 16);
        put64(h + 72, array_lba);
        put32(h + 80, layout.entry_count);
        put32(h + 84, layout.entry_size);
        put32(h + 88, array_crc);
        put32(h + 16, keel::crc32(h, 92));
        memcpy(disk.sector(array_lba), array.data(), array.size());
    };
    write_header(1, sectors - 1, 2);
    write_header(sectors - 1, 1, sectors - 1 - array_sectors);
}

// Recomputes a header's CRC after a test changed a field.
inline void reseal_header(MemoryDisk& disk, uint64_t lba)
{
    uint8_t* h = disk.sector(lba);
    uint32_t size = h[12] | h[13] << 8;
    put32(h + 16, 0);
    put32(h + 16, keel::crc32(h, std::min<uint32_t>(size, disk.sector_size)));
}

} // namespace partition_test
