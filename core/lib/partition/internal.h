// What the MBR and GPT readers share. Private to lib/partition.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/string.h"
#include "lib/partition/partition.h"

namespace keel::partition {

inline uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | uint32_t(le16(p + 2)) << 16; }
inline uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

// One scan of a disk: the reader, the scratch sector, the output and the
// diagnostic, with the reads and the error messages in one place.
class Scan {
public:
    Scan(const BlockReader& disk, PartitionTable& table, uint8_t* scratch, size_t scratch_size, Diagnostic* diagnostic)
        : disk(disk)
        , table(table)
        , scratch(scratch)
        , scratch_size(scratch_size)
        , m_diagnostic(diagnostic)
    {
    }

    // Reads `count` sectors at `lba` into the scratch memory; `what` names
    // them in a message ("EBR", "GPT header").
    Result<void> read(uint64_t lba, uint32_t count, const char* what);

    Err fail(Error error, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    Err vfail(Error error, const char* fmt, va_list args);

    // Appends a partition, checking room and overlaps with the others of
    // `kinds` (a bit per PartitionKind).
    Result<Partition*> add(const Partition& partition, unsigned overlap_kinds, const char* scheme_name);

    Diagnostic* diagnostic() { return m_diagnostic; }

    const BlockReader& disk;
    PartitionTable& table;
    uint8_t* scratch;
    size_t scratch_size;

private:
    Diagnostic* m_diagnostic;
};

constexpr unsigned kind_bit(PartitionKind kind) { return 1u << unsigned(kind); }

Result<void> read_mbr(Scan& scan);
// After a protective MBR: the GPT, from the primary or the backup header.
Result<void> read_gpt(Scan& scan);

} // namespace keel::partition
