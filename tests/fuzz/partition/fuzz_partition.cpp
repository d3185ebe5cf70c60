// Fuzzes the MBR and GPT readers over a fuzzed disk image: a disk is
// input the kernel reads as soon as it appears. The first byte holds
// options (the sector size; whether to recompute the GPT CRCs after the
// mutation, so mutations get past the checksums), the rest is the disk.
// Beyond the sanitizers (and the reader callback's refusal of any read
// past the disk): every partition returned lies on the disk, numbers are
// unique, data partitions do not overlap, names are UTF-8.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <vector>

#include "lib/base/crc32.h"
#include "lib/partition/partition.h"

using namespace keel;
using namespace keel::partition;

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

uint32_t le32(const uint8_t* p) { return uint32_t(p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24); }
uint64_t le64(const uint8_t* p) { return le32(p) | uint64_t(le32(p + 4)) << 32; }
void put32(uint8_t* p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = uint8_t(v >> (8 * i));
}

// Recomputes the array and header CRCs of the GPT header at `lba`, when it
// looks like one and its array is on the disk.
void reseal(std::vector<uint8_t>& disk, uint32_t sector_size, uint64_t lba)
{
    uint64_t sectors = disk.size() / sector_size;
    if (lba >= sectors)
        return;
    uint8_t* h = disk.data() + lba * sector_size;
    if (memcmp(h, "EFI PART", 8) != 0)
        return;
    uint32_t header_size = le32(h + 12);
    uint64_t array_lba = le64(h + 72);
    uint64_t array_bytes = uint64_t(le32(h + 80)) * le32(h + 84);
    if (array_lba < sectors && array_bytes <= (sectors - array_lba) * sector_size)
        put32(h + 88, crc32(disk.data() + array_lba * sector_size, size_t(array_bytes)));
    if (header_size >= 92 && header_size <= sector_size) {
        put32(h + 16, 0);
        put32(h + 16, crc32(h, header_size));
    }
}

struct Disk {
    std::vector<uint8_t> bytes;
    uint32_t sector_size;
};

bool valid_utf8(const char* s)
{
    for (const auto* p = reinterpret_cast<const uint8_t*>(s); *p;) {
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0)
            return false;
        ++p;
        for (int i = 0; i < extra; ++i, ++p) {
            if ((*p & 0xc0) != 0x80)
                return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t options = data[0];
    Disk disk;
    disk.sector_size = 512u << (options & 3);
    disk.bytes.assign(data + 1, data + size);
    // Whole sectors only; a short last sector reads as zeros.
    disk.bytes.resize((disk.bytes.size() + disk.sector_size - 1) / disk.sector_size * disk.sector_size, 0);
    uint64_t sectors = disk.bytes.size() / disk.sector_size;
    if (options & 4)
        reseal(disk.bytes, disk.sector_size, 1);
    if ((options & 8) && sectors > 0)
        reseal(disk.bytes, disk.sector_size, sectors - 1);

    BlockReader reader;
    reader.context = &disk;
    reader.sector_size = disk.sector_size;
    reader.sector_count = sectors;
    reader.read = [](void* context, uint64_t lba, uint32_t count, void* buffer) -> Result<void> {
        auto* d = static_cast<Disk*>(context);
        uint64_t total = d->bytes.size() / d->sector_size;
        check(lba < total && count <= total - lba && count > 0);
        memcpy(buffer, d->bytes.data() + lba * d->sector_size, size_t(count) * d->sector_size);
        return {};
    };

    std::vector<Partition> partitions(32);
    PartitionTable table;
    table.partitions = partitions.data();
    table.capacity = partitions.size();
    static uint8_t scratch[kPartitionScratchSize];
    Diagnostic diagnostic;
    auto result = read_partition_table(reader, table, scratch, sizeof(scratch), &diagnostic);
    if (result.is_error()) {
        check(!diagnostic.empty());
        return 0;
    }
    check(table.count <= table.capacity);
    check(table.scheme != Scheme::None || table.count == 0);
    std::set<uint32_t> numbers;
    for (size_t i = 0; i < table.count; ++i) {
        const Partition& p = partitions[i];
        check(p.number >= 1 && numbers.insert(p.number).second);
        check(p.sector_count >= 1 && p.first_lba >= 1);
        check(p.first_lba < sectors && p.sector_count <= sectors - p.first_lba);
        check(strnlen(p.name, sizeof(p.name)) < sizeof(p.name) && valid_utf8(p.name));
        check((p.kind == PartitionKind::Gpt) == (table.scheme == Scheme::Gpt));
        if (p.kind == PartitionKind::MbrExtended)
            continue;
        for (size_t j = 0; j < i; ++j) {
            const Partition& q = partitions[j];
            if (q.kind == PartitionKind::MbrExtended)
                continue;
            check(p.first_lba + p.sector_count <= q.first_lba || q.first_lba + q.sector_count <= p.first_lba);
        }
    }
    if (table.scheme == Scheme::Gpt)
        check(table.first_usable_lba <= table.last_usable_lba && table.last_usable_lba < sectors);
    return 0;
}
