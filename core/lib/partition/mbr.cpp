// The MBR: four primary entries at byte 446 of LBA 0, the 0x55 0xaa
// signature at 510; extended partitions whose first sector (an EBR) holds a
// logical partition and a link to the next EBR, LBAs in an EBR counting
// from that EBR (the partition) or from the extended partition's start
// (the link). A protective entry (type 0xee from LBA 1) hands over to GPT.
#include "lib/base/utility.h"
#include "lib/partition/internal.h"

namespace keel::partition {

namespace {

constexpr size_t kEntriesOffset = 446;
constexpr size_t kEntrySize = 16;
constexpr size_t kSignatureOffset = 510;
constexpr size_t kDiskSignatureOffset = 440;
constexpr uint8_t kProtectiveType = 0xee;
// EBRs in a row that hold no logical partition before the chain is taken
// for a loop (Linux gives up after 100).
constexpr unsigned kMaxEmptyEbrs = 64;

struct Entry {
    uint8_t boot;
    uint8_t type;
    uint32_t start;
    uint32_t count;
};

Entry entry_at(const uint8_t* sector, unsigned slot)
{
    const uint8_t* p = sector + kEntriesOffset + slot * kEntrySize;
    return Entry { p[0], p[4], le32(p + 8), le32(p + 12) };
}

bool has_signature(const uint8_t* sector)
{
    return sector[kSignatureOffset] == 0x55 && sector[kSignatureOffset + 1] == 0xaa;
}

bool is_extended(uint8_t type) { return type == 0x05 || type == 0x0f || type == 0x85; }

// The stub Linux registers for an extended partition: two 512-byte
// sectors, or one sector of a larger size.
uint64_t extended_stub(uint64_t count, uint32_t sector_size)
{
    return min<uint64_t>(count, sector_size == 512 ? 2 : 1);
}

struct Extended {
    uint64_t start;
    uint64_t count;
    unsigned slot;
};

Result<void> read_chain(Scan& scan, const Extended& extended, uint32_t& next_number)
{
    const uint64_t end = extended.start + extended.count;
    uint64_t ebr = extended.start;
    uint64_t linked_from = 0;
    unsigned empty = 0;
    for (;;) {
        // A loop: an EBR already read comes round again.
        for (size_t i = 0; i < scan.table.count; ++i) {
            const Partition& p = scan.table.partitions[i];
            if (p.kind == PartitionKind::MbrLogical && p.table_lba == ebr)
                return scan.fail(Error::ELOOP,
                    "MBR: EBR chain loops: EBR at LBA 0x%llx (linked from LBA 0x%llx) was "
                    "already read",
                    static_cast<unsigned long long>(ebr), static_cast<unsigned long long>(linked_from));
        }
        if (empty == kMaxEmptyEbrs)
            return scan.fail(Error::ELOOP,
                "MBR: EBR chain loops: %u EBRs in a row hold no partition (the chain goes on "
                "at LBA 0x%llx)",
                empty, static_cast<unsigned long long>(ebr));
        TRY(scan.read(ebr, 1, "EBR"));
        // An extended partition without logical partitions may hold no EBR
        // at all; the chain ends there, as in Linux.
        if (!has_signature(scan.scratch))
            return {};

        bool found = false;
        for (unsigned slot = 0; slot < 4; ++slot) {
            Entry e = entry_at(scan.scratch, slot);
            if (e.count == 0 || is_extended(e.type))
                continue;
            uint64_t first = ebr + e.start;
            uint64_t last = first + e.count - 1;
            if (first <= ebr || last >= end) {
                // Linux ignores the third and fourth entries when they do
                // not fit: some tools leave garbage there.
                if (slot >= 2)
                    continue;
                return scan.fail(Error::EINVAL,
                    "MBR: EBR at LBA 0x%llx, entry %u: LBAs 0x%llx-0x%llx are not inside "
                    "extended partition %u (0x%llx-0x%llx) after the EBR",
                    static_cast<unsigned long long>(ebr), slot + 1, static_cast<unsigned long long>(first),
                    static_cast<unsigned long long>(last), extended.slot,
                    static_cast<unsigned long long>(extended.start), static_cast<unsigned long long>(end - 1));
            }
            Partition p;
            p.number = next_number++;
            p.kind = PartitionKind::MbrLogical;
            p.first_lba = first;
            p.sector_count = e.count;
            p.mbr_type = e.type;
            p.bootable = e.boot == 0x80;
            p.table_lba = ebr;
            TRY(scan.add(p, kind_bit(PartitionKind::MbrPrimary) | kind_bit(PartitionKind::MbrLogical), "MBR"));
            found = true;
        }
        empty = found ? 0 : empty + 1;

        // The link: the first extended entry, relative to the extended
        // partition's start.
        bool linked = false;
        for (unsigned slot = 0; slot < 4; ++slot) {
            Entry e = entry_at(scan.scratch, slot);
            if (e.count == 0 || !is_extended(e.type))
                continue;
            uint64_t next = extended.start + e.start;
            if (next >= end)
                return scan.fail(Error::EINVAL,
                    "MBR: EBR at LBA 0x%llx links to LBA 0x%llx, outside extended "
                    "partition %u (0x%llx-0x%llx)",
                    static_cast<unsigned long long>(ebr), static_cast<unsigned long long>(next), extended.slot,
                    static_cast<unsigned long long>(extended.start), static_cast<unsigned long long>(end - 1));
            if (next == ebr)
                return scan.fail(Error::ELOOP, "MBR: EBR chain loops: EBR at LBA 0x%llx links to itself",
                    static_cast<unsigned long long>(ebr));
            linked_from = ebr;
            ebr = next;
            linked = true;
            break;
        }
        if (!linked)
            return {};
    }
}

} // namespace

Result<void> read_mbr(Scan& scan)
{
    TRY(scan.read(0, 1, "MBR"));
    const uint8_t* sector = scan.scratch;
    if (!has_signature(sector))
        return {};
    Entry entries[4];
    for (unsigned slot = 0; slot < 4; ++slot) {
        entries[slot] = entry_at(sector, slot);
        // A boot indicator other than 0x00 or 0x80: a boot sector (a FAT
        // file system's, say) rather than a partition table.
        if (entries[slot].boot != 0 && entries[slot].boot != 0x80)
            return {};
    }
    for (unsigned slot = 0; slot < 4; ++slot) {
        if (entries[slot].type != kProtectiveType)
            continue;
        if (entries[slot].start != 1)
            return scan.fail(Error::EINVAL, "MBR: protective entry %u (type 0xee) starts at LBA 0x%x, not 1", slot + 1,
                entries[slot].start);
        scan.table.scheme = Scheme::Gpt;
        return read_gpt(scan);
    }

    scan.table.scheme = Scheme::Mbr;
    scan.table.mbr_signature = le32(sector + kDiskSignatureOffset);
    const uint64_t sectors = scan.disk.sector_count;
    Extended extended[4];
    unsigned extended_count = 0;
    for (unsigned slot = 0; slot < 4; ++slot) {
        const Entry& e = entries[slot];
        if (e.count == 0)
            continue;
        uint64_t last = uint64_t(e.start) + e.count - 1;
        if (e.start == 0)
            return scan.fail(Error::EINVAL, "MBR: entry %u starts at LBA 0, over the MBR", slot + 1);
        if (last >= sectors)
            return scan.fail(Error::EINVAL,
                "MBR: entry %u: LBAs 0x%x-0x%llx run past the end of the disk (0x%llx "
                "sectors)",
                slot + 1, e.start, static_cast<unsigned long long>(last), static_cast<unsigned long long>(sectors));
        Partition p;
        p.number = slot + 1;
        p.first_lba = e.start;
        p.sector_count = e.count;
        p.mbr_type = e.type;
        p.bootable = e.boot == 0x80;
        if (is_extended(e.type)) {
            p.kind = PartitionKind::MbrExtended;
            p.sector_count = extended_stub(e.count, scan.disk.sector_size);
            extended[extended_count++] = Extended { e.start, e.count, slot + 1 };
        }
        // Extended partitions overlap the logical ones inside them by
        // design; two extended partitions must not overlap each other,
        // which the stubs (their first sectors) alone do not show.
        TRY(scan.add(p, kind_bit(PartitionKind::MbrPrimary), "MBR"));
    }
    for (unsigned i = 0; i < extended_count; ++i) {
        for (unsigned j = 0; j < i; ++j) {
            const Extended& a = extended[i];
            const Extended& b = extended[j];
            if (a.start < b.start + b.count && b.start < a.start + a.count)
                return scan.fail(Error::EINVAL, "MBR: extended partitions %u and %u overlap", b.slot, a.slot);
        }
        // Primary partitions inside an extended one would overlap its
        // logical partitions.
        for (size_t k = 0; k < scan.table.count; ++k) {
            const Partition& p = scan.table.partitions[k];
            if (p.kind == PartitionKind::MbrPrimary && p.first_lba < extended[i].start + extended[i].count
                && extended[i].start < p.first_lba + p.sector_count)
                return scan.fail(
                    Error::EINVAL, "MBR: partition %u lies inside extended partition %u", p.number, extended[i].slot);
        }
    }
    uint32_t next_number = 5;
    for (unsigned i = 0; i < extended_count; ++i)
        TRY(read_chain(scan, extended[i], next_number));
    return {};
}

} // namespace keel::partition
