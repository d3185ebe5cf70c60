// Partition tables: MBR (with extended partitions and their EBR chains)
// and GPT (with the backup header when the primary is damaged), read
// through a callback so the block layer, a disk image on the host and a
// test's in-memory disk all work alike. Every sector is hostile: sizes,
// LBAs, counts and checksums are checked before anything is believed, and
// a table that fails says where and why, e.g.
//
//   GPT: neither copy is valid: primary at LBA 1: header CRC32 0x1c2d3e4f, computed 0x5a6b7c8d; backup at LBA 2047: bad
//   signature "\x00\x00..." MBR: EBR chain loops: EBR at LBA 0x1800 (linked from LBA 0x3000) was already read GPT entry
//   3: LBAs 0x800-0x1fff overlap entry 1's 0x800-0x17ff
//
// Partitions are numbered as Linux numbers them (vda1, vda2, ...): MBR
// slots 1-4 keep their numbers whether or not earlier slots are used, an
// extended partition is listed as a 1- or 2-sector stub (as Linux does,
// so nothing formats it), logical partitions follow from 5 in chain order;
// GPT entries are numbered by their index in the array, plus one.
//
// Where this reader is stricter than Linux, it refuses rather than
// truncates: a partition past the end of the disk, overlapping partitions,
// a logical partition outside its extended partition. Linux's BSD,
// Solaris and other nested labels inside MBR partitions are not read.
//
//   PartitionTable table;
//   table.partitions = parts;  table.capacity = 64;
//   TRY(read_partition_table(disk, table, scratch, sizeof(scratch), &diagnostic));
//   for (size_t i = 0; i < table.count; ++i) ... parts[i].number, first_lba, sector_count ...
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::partition {

// How the tables are read: `read` fills `buffer` with `count` sectors from
// `lba` (count * sector_size bytes) or fails (the error is passed on).
struct BlockReader {
    void* context = nullptr;
    uint32_t sector_size = 512; // 512, 1024, 2048 or 4096
    uint64_t sector_count = 0;  // the disk's size
    Result<void> (*read)(void* context, uint64_t lba, uint32_t count, void* buffer) = nullptr;
};

// The caller's scratch memory for one read: at least this many bytes.
constexpr size_t kPartitionScratchSize = 4096;

enum class Scheme : uint8_t { None, Mbr, Gpt };
enum class PartitionKind : uint8_t { MbrPrimary, MbrExtended, MbrLogical, Gpt };

// A GUID as GPT stores it: the first three fields little-endian.
struct Guid {
    uint8_t bytes[16];
    bool is_zero() const;
    bool operator==(const Guid& other) const;
};
// "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" and its NUL, as Linux shows
// PARTUUIDs.
constexpr size_t kGuidTextSize = 37;
void format_guid(const Guid& guid, char (&text)[kGuidTextSize]);
// "EFI system partition", "Linux filesystem", ...; null for others.
const char* gpt_type_name(const Guid& type);
// "Linux", "W95 FAT32 (LBA)", "Extended", ...; null for others.
const char* mbr_type_name(uint8_t type);

// A GPT name is 36 UTF-16 code units; as UTF-8 that is at most 108 bytes.
constexpr size_t kPartitionNameSize = 109;

struct Partition {
    uint32_t number = 0; // vda<number>
    PartitionKind kind = PartitionKind::MbrPrimary;
    uint64_t first_lba = 0;
    uint64_t sector_count = 0;
    // MBR
    uint8_t mbr_type = 0;   // the system ID byte
    bool bootable = false;  // boot indicator 0x80
    uint64_t table_lba = 0; // the sector holding its entry: 0, or its EBR
    // GPT
    Guid type_guid {};
    Guid unique_guid {};
    uint64_t attributes = 0;
    char name[kPartitionNameSize] = {}; // UTF-8, control characters as U+FFFD
};

struct PartitionTable {
    // In: where the partitions go.
    Partition* partitions = nullptr;
    size_t capacity = 0;
    // Out.
    size_t count = 0;
    Scheme scheme = Scheme::None;
    uint32_t mbr_signature = 0; // the disk identifier at byte 440 of the MBR
    Guid disk_guid {};
    uint64_t first_usable_lba = 0;
    uint64_t last_usable_lba = 0;
    bool from_backup = false; // the primary GPT was damaged: why, in primary_problem
    Diagnostic primary_problem;
};

// Reads the disk's partition table into `table`. A disk without one (no
// MBR signature, or a boot sector that is not a partition table) is not an
// error: scheme None, no partitions. Errors:
//   EINVAL     a malformed table, or a bad BlockReader or scratch
//   ELOOP      an EBR chain that loops
//   ENOSPC     more partitions than table.capacity
//   others     as the read callback returned them
Result<void> read_partition_table(const BlockReader& disk, PartitionTable& table, void* scratch, size_t scratch_size,
    Diagnostic* diagnostic = nullptr);

} // namespace keel::partition
