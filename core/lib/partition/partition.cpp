#include "lib/partition/partition.h"

#include "lib/base/format.h"
#include "lib/base/utility.h"
#include "lib/partition/internal.h"

namespace keel::partition {

bool Guid::is_zero() const
{
    for (uint8_t byte : bytes) {
        if (byte)
            return false;
    }
    return true;
}

bool Guid::operator==(const Guid& other) const { return memcmp(bytes, other.bytes, sizeof(bytes)) == 0; }

void format_guid(const Guid& guid, char (&text)[kGuidTextSize])
{
    const uint8_t* b = guid.bytes;
    format(text, sizeof(text), "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(b), le16(b + 4), le16(b + 6),
        b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

namespace {

struct KnownGuid {
    uint8_t bytes[16];
    const char* name;
};

// Stored as they sit on disk (the text form's first three fields reversed).
constexpr KnownGuid kGptTypes[] = {
    { { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b },
        "EFI system partition" },
    { { 0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e, 0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49 },
        "BIOS boot partition" },
    { { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 },
        "Linux filesystem" },
    { { 0xe3, 0xbc, 0x68, 0x4f, 0xcd, 0xe8, 0xb1, 0x4d, 0x96, 0xe7, 0xfb, 0xca, 0xf9, 0x84, 0xb7, 0x09 },
        "Linux root (x86-64)" },
    { { 0x6d, 0xfd, 0x57, 0x06, 0xab, 0xa4, 0xc4, 0x43, 0x84, 0xe5, 0x09, 0x33, 0xc8, 0x4b, 0x4f, 0x4f },
        "Linux swap" },
    { { 0x79, 0xd3, 0xd6, 0xe6, 0x07, 0xf5, 0xc2, 0x44, 0xa2, 0x3c, 0x23, 0x8f, 0x2a, 0x3d, 0xf9, 0x28 }, "Linux LVM" },
    { { 0x0f, 0x88, 0x9d, 0xa1, 0xfc, 0x05, 0x3b, 0x4d, 0xa0, 0x06, 0x74, 0x3f, 0x0f, 0x84, 0x91, 0x1e },
        "Linux RAID" },
    { { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 },
        "Microsoft basic data" },
};

} // namespace

const char* gpt_type_name(const Guid& type)
{
    for (const KnownGuid& known : kGptTypes) {
        if (memcmp(known.bytes, type.bytes, sizeof(known.bytes)) == 0)
            return known.name;
    }
    return nullptr;
}

const char* mbr_type_name(uint8_t type)
{
    switch (type) {
    case 0x00: return "Empty";
    case 0x01: return "FAT12";
    case 0x04: return "FAT16 <32M";
    case 0x05: return "Extended";
    case 0x06: return "FAT16";
    case 0x07: return "HPFS/NTFS/exFAT";
    case 0x0b: return "W95 FAT32";
    case 0x0c: return "W95 FAT32 (LBA)";
    case 0x0e: return "W95 FAT16 (LBA)";
    case 0x0f: return "W95 Ext'd (LBA)";
    case 0x82: return "Linux swap / Solaris";
    case 0x83: return "Linux";
    case 0x85: return "Linux extended";
    case 0x8e: return "Linux LVM";
    case 0xee: return "GPT";
    case 0xef: return "EFI (FAT-12/16/32)";
    case 0xfd: return "Linux raid autodetect";
    }
    return nullptr;
}

Result<void> Scan::read(uint64_t lba, uint32_t count, const char* what)
{
    VERIFY(size_t(count) * disk.sector_size <= scratch_size);
    if (lba >= disk.sector_count || count > disk.sector_count - lba)
        return fail(Error::EINVAL, "%s at LBA 0x%llx (%u sectors) is past the end of the disk (0x%llx sectors)", what,
            static_cast<unsigned long long>(lba), count, static_cast<unsigned long long>(disk.sector_count));
    auto result = disk.read(disk.context, lba, count, scratch);
    if (result.is_error())
        return fail(result.error(), "reading the %s at LBA 0x%llx: %s", what, static_cast<unsigned long long>(lba),
            error_name(result.error()));
    return {};
}

Err Scan::vfail(Error error, const char* fmt, va_list args)
{
    if (m_diagnostic)
        vformat(m_diagnostic->message, sizeof(m_diagnostic->message), fmt, args);
    return Err(error);
}

Err Scan::fail(Error error, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    Err err = vfail(error, fmt, args);
    va_end(args);
    return err;
}

Result<Partition*> Scan::add(const Partition& partition, unsigned overlap_kinds, const char* scheme_name)
{
    uint64_t last = partition.first_lba + partition.sector_count - 1;
    for (size_t i = 0; i < table.count; ++i) {
        const Partition& other = table.partitions[i];
        if (!(overlap_kinds & kind_bit(other.kind)))
            continue;
        uint64_t other_last = other.first_lba + other.sector_count - 1;
        if (partition.first_lba <= other_last && other.first_lba <= last)
            return fail(Error::EINVAL, "%s: partition %u (LBAs 0x%llx-0x%llx) overlaps partition %u (0x%llx-0x%llx)",
                scheme_name, partition.number, static_cast<unsigned long long>(partition.first_lba),
                static_cast<unsigned long long>(last), other.number, static_cast<unsigned long long>(other.first_lba),
                static_cast<unsigned long long>(other_last));
    }
    if (table.count == table.capacity)
        return fail(Error::ENOSPC, "%s: more than %zu partitions (partition %u has no room)", scheme_name,
            table.capacity, partition.number);
    Partition* slot = &table.partitions[table.count++];
    *slot = partition;
    return slot;
}

Result<void> read_partition_table(
    const BlockReader& disk, PartitionTable& table, void* scratch, size_t scratch_size, Diagnostic* diagnostic)
{
    table.count = 0;
    table.scheme = Scheme::None;
    table.mbr_signature = 0;
    table.disk_guid = Guid {};
    table.first_usable_lba = 0;
    table.last_usable_lba = 0;
    table.from_backup = false;
    table.primary_problem.clear();
    if (diagnostic)
        diagnostic->clear();

    uint32_t size = disk.sector_size;
    if (size < 512 || size > 4096 || !is_power_of_two(size)) {
        diagnose(diagnostic, "sector size %u is not 512, 1024, 2048 or 4096", size);
        return Err(Error::EINVAL);
    }
    if (!disk.read || !scratch || scratch_size < kPartitionScratchSize || (table.capacity && !table.partitions)) {
        diagnose(diagnostic, "no read function, scratch memory (%zu bytes, %zu needed) or partition array",
            scratch_size, kPartitionScratchSize);
        return Err(Error::EINVAL);
    }
    if (disk.sector_count == 0)
        return {};
    Scan scan(disk, table, static_cast<uint8_t*>(scratch), scratch_size, diagnostic);
    return read_mbr(scan);
}

} // namespace keel::partition
