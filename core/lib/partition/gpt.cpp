// GPT (UEFI 2.x, "GUID Partition Table Disk Layout"): a header at LBA 1
// and its copy at the disk's last LBA, each naming an array of partition
// entries and carrying CRC32s of itself and of the array. The primary is
// used when it is whole; otherwise the backup, and the table says why.
#include "lib/base/crc32.h"
#include "lib/base/format.h"
#include "lib/base/utility.h"
#include "lib/partition/internal.h"

namespace keel::partition {

namespace {

constexpr uint8_t kSignature[8] = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' };
constexpr uint32_t kMinimumHeaderSize = 92;
constexpr uint32_t kMinimumEntrySize = 128;
// Limits of this reader, far above what partitioning tools write (128
// entries of 128 bytes).
constexpr uint32_t kMaximumEntrySize = 4096;
constexpr uint64_t kMaximumArrayBytes = 1024 * 1024;
constexpr size_t kNameOffset = 56;
constexpr size_t kNameUnits = 36;

struct Header {
    uint64_t lba; // where it was read
    uint32_t revision;
    uint32_t header_size;
    uint32_t header_crc;
    uint64_t my_lba;
    uint64_t alternate_lba;
    uint64_t first_usable;
    uint64_t last_usable;
    Guid disk_guid;
    uint64_t entries_lba;
    uint32_t entry_count;
    uint32_t entry_size;
    uint32_t entries_crc;
};

// Untrusted bytes for a message: printable ASCII as is, others as \xNN.
struct Shown {
    char text[8 * 4 + 3];
    Shown(const uint8_t* bytes, size_t length)
    {
        size_t out = 0;
        text[out++] = '"';
        for (size_t i = 0; i < length; ++i) {
            uint8_t c = bytes[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                text[out++] = char(c);
            } else {
                out += format(text + out, sizeof(text) - out, "\\x%02x", c);
            }
        }
        text[out++] = '"';
        text[out] = '\0';
    }
};

// The problem with one copy of the table, kept apart from the diagnostic
// so both copies' can be reported.
struct Problem {
    char text[160];
    Problem() { text[0] = '\0'; }
    bool set(const char* fmt, ...) __attribute__((format(printf, 2, 3)))
    {
        va_list args;
        va_start(args, fmt);
        vformat(text, sizeof(text), fmt, args);
        va_end(args);
        return false;
    }
};

unsigned long long ull(uint64_t value) { return static_cast<unsigned long long>(value); }

// Reads and checks the header at `lba`; false (and why) if unusable.
Result<bool> read_header(Scan& scan, uint64_t lba, Header& h, Problem& problem)
{
    TRY(scan.read(lba, 1, "GPT header"));
    const uint8_t* s = scan.scratch;
    const uint32_t sector_size = scan.disk.sector_size;
    const uint64_t sectors = scan.disk.sector_count;
    if (memcmp(s, kSignature, sizeof(kSignature)) != 0)
        return problem.set("bad signature %s", Shown(s, sizeof(kSignature)).text);
    h.lba = lba;
    h.revision = le32(s + 8);
    h.header_size = le32(s + 12);
    h.header_crc = le32(s + 16);
    h.my_lba = le64(s + 24);
    h.alternate_lba = le64(s + 32);
    h.first_usable = le64(s + 40);
    h.last_usable = le64(s + 48);
    memcpy(h.disk_guid.bytes, s + 56, 16);
    h.entries_lba = le64(s + 72);
    h.entry_count = le32(s + 80);
    h.entry_size = le32(s + 84);
    h.entries_crc = le32(s + 88);

    if ((h.revision >> 16) != 1)
        return problem.set("revision 0x%08x is not 1.x", h.revision);
    if (h.header_size < kMinimumHeaderSize || h.header_size > sector_size)
        return problem.set("HeaderSize %u is outside %u..%u", h.header_size, kMinimumHeaderSize, sector_size);
    // The CRC covers HeaderSize bytes with its own field as zero.
    uint8_t zero[4] = {};
    uint32_t crc = crc32(s, 16);
    crc = crc32(zero, 4, crc);
    crc = crc32(s + 20, h.header_size - 20, crc);
    if (crc != h.header_crc)
        return problem.set("header CRC32 0x%08x, computed 0x%08x", h.header_crc, crc);
    if (h.my_lba != lba)
        return problem.set("MyLBA 0x%llx, but the header is at LBA 0x%llx", ull(h.my_lba), ull(lba));
    if (h.first_usable < 2 || h.first_usable > h.last_usable || h.last_usable >= sectors)
        return problem.set("usable LBAs 0x%llx-0x%llx are not inside 0x2-0x%llx", ull(h.first_usable),
            ull(h.last_usable), ull(sectors - 1));
    if (lba >= h.first_usable && lba <= h.last_usable)
        return problem.set("the header at LBA 0x%llx is inside the usable LBAs 0x%llx-0x%llx", ull(lba),
            ull(h.first_usable), ull(h.last_usable));
    if (h.entry_size < kMinimumEntrySize || h.entry_size > kMaximumEntrySize || !is_power_of_two(h.entry_size))
        return problem.set("SizeOfPartitionEntry %u is not 128 x 2^n up to %u", h.entry_size, kMaximumEntrySize);
    uint64_t array_bytes = uint64_t(h.entry_count) * h.entry_size;
    if (array_bytes > kMaximumArrayBytes)
        return problem.set("%u entries of %u bytes: more than the %llu bytes this reader takes", h.entry_count,
            h.entry_size, ull(kMaximumArrayBytes));
    uint64_t array_sectors = (array_bytes + sector_size - 1) / sector_size;
    if (array_sectors > 0) {
        uint64_t first = h.entries_lba;
        if (first == 0 || first >= sectors || array_sectors > sectors - first)
            return problem.set("the entry array at LBA 0x%llx (0x%llx sectors) is not inside the disk after the MBR "
                               "(0x%llx sectors)",
                ull(first), ull(array_sectors), ull(sectors));
        uint64_t last = first + array_sectors - 1;
        if (first <= h.last_usable && h.first_usable <= last)
            return problem.set("the entry array at LBAs 0x%llx-0x%llx overlaps the usable LBAs 0x%llx-0x%llx",
                ull(first), ull(last), ull(h.first_usable), ull(h.last_usable));
        if (first <= lba && lba <= last)
            return problem.set("the entry array at LBAs 0x%llx-0x%llx holds the header at LBA 0x%llx", ull(first),
                ull(last), ull(lba));
    }
    return true;
}

// The array in units of whole entries and whole sectors, read one unit at
// a time into the scratch memory: `visit(entry bytes, index)` for each
// entry, the CRC over the array's bytes.
template<typename Visit> Result<uint32_t> walk_array(Scan& scan, const Header& h, Visit&& visit)
{
    const uint32_t sector_size = scan.disk.sector_size;
    const uint32_t unit = max(sector_size, h.entry_size);
    const uint64_t array_bytes = uint64_t(h.entry_count) * h.entry_size;
    uint32_t crc = 0;
    uint32_t index = 0;
    for (uint64_t offset = 0; offset < array_bytes; offset += unit) {
        uint64_t bytes = min<uint64_t>(unit, array_bytes - offset);
        uint32_t count = uint32_t((bytes + sector_size - 1) / sector_size);
        TRY(scan.read(h.entries_lba + offset / sector_size, count, "GPT entry array"));
        crc = crc32(scan.scratch, size_t(bytes), crc);
        for (uint64_t at = 0; at < bytes; at += h.entry_size)
            TRY(visit(scan.scratch + at, index++));
    }
    return crc;
}

// UTF-16LE (36 code units, up to the first NUL) to UTF-8; a lone
// surrogate or a control character becomes U+FFFD.
void name_to_utf8(const uint8_t* units, char (&out)[kPartitionNameSize])
{
    size_t length = 0;
    auto put = [&](uint32_t cp) {
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            cp = 0xfffd;
        if (cp < 0x80) {
            out[length++] = char(cp);
        } else if (cp < 0x800) {
            out[length++] = char(0xc0 | cp >> 6);
            out[length++] = char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[length++] = char(0xe0 | cp >> 12);
            out[length++] = char(0x80 | ((cp >> 6) & 0x3f));
            out[length++] = char(0x80 | (cp & 0x3f));
        } else {
            out[length++] = char(0xf0 | cp >> 18);
            out[length++] = char(0x80 | ((cp >> 12) & 0x3f));
            out[length++] = char(0x80 | ((cp >> 6) & 0x3f));
            out[length++] = char(0x80 | (cp & 0x3f));
        }
    };
    for (size_t i = 0; i < kNameUnits; ++i) {
        uint32_t unit = le16(units + 2 * i);
        if (unit == 0)
            break;
        if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < kNameUnits) {
            uint32_t low = le16(units + 2 * (i + 1));
            if (low >= 0xdc00 && low <= 0xdfff) {
                put(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
                ++i;
                continue;
            }
        }
        put(unit >= 0xd800 && unit <= 0xdfff ? 0xfffd : unit);
    }
    out[length] = '\0';
}

// Reads the array of a header and checks its CRC; false (and why) if it
// does not match.
Result<bool> check_array(Scan& scan, const Header& h, Problem& problem)
{
    uint32_t crc = TRY(walk_array(scan, h, [](const uint8_t*, uint32_t) -> Result<void> { return {}; }));
    if (crc != h.entries_crc)
        return problem.set("entry array CRC32 0x%08x, computed 0x%08x", h.entries_crc, crc);
    return true;
}

Result<void> read_entries(Scan& scan, const Header& h)
{
    auto visit = [&](const uint8_t* e, uint32_t index) -> Result<void> {
        Partition p;
        p.kind = PartitionKind::Gpt;
        p.number = index + 1;
        memcpy(p.type_guid.bytes, e, 16);
        if (p.type_guid.is_zero())
            return {};
        memcpy(p.unique_guid.bytes, e + 16, 16);
        uint64_t first = le64(e + 32);
        uint64_t last = le64(e + 40);
        p.attributes = le64(e + 48);
        if (first > last)
            return scan.fail(Error::EINVAL, "GPT: entry %u: StartingLBA 0x%llx is after EndingLBA 0x%llx", p.number,
                ull(first), ull(last));
        if (first < h.first_usable || last > h.last_usable)
            return scan.fail(Error::EINVAL,
                "GPT: entry %u: LBAs 0x%llx-0x%llx are not inside the usable LBAs "
                "0x%llx-0x%llx",
                p.number, ull(first), ull(last), ull(h.first_usable), ull(h.last_usable));
        p.first_lba = first;
        p.sector_count = last - first + 1;
        name_to_utf8(e + kNameOffset, p.name);
        TRY(scan.add(p, kind_bit(PartitionKind::Gpt), "GPT"));
        return {};
    };
    TRY(walk_array(scan, h, visit));
    return {};
}

} // namespace

Result<void> read_gpt(Scan& scan)
{
    PartitionTable& table = scan.table;
    const uint64_t backup_lba = scan.disk.sector_count - 1;
    Header header;
    Problem primary;
    bool usable = TRY(read_header(scan, 1, header, primary));
    if (usable)
        usable = TRY(check_array(scan, header, primary));
    if (!usable) {
        Problem backup;
        bool backup_usable = false;
        if (backup_lba > 1)
            backup_usable = TRY(read_header(scan, backup_lba, header, backup));
        else
            backup.set("the disk has no room for one");
        if (backup_usable)
            backup_usable = TRY(check_array(scan, header, backup));
        if (!backup_usable)
            return scan.fail(Error::EINVAL,
                "GPT: neither copy is valid: primary at LBA 1: %s; backup at LBA 0x%llx: %s", primary.text,
                ull(backup_lba), backup.text);
        table.from_backup = true;
        format(table.primary_problem.message, sizeof(table.primary_problem.message), "primary GPT at LBA 1: %s",
            primary.text);
    }
    table.disk_guid = header.disk_guid;
    table.first_usable_lba = header.first_usable;
    table.last_usable_lba = header.last_usable;
    return read_entries(scan, header);
}

} // namespace keel::partition
