#include "lib/cpio/cpio.h"

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

constexpr size_t kMagicSize = 6;
constexpr size_t kFieldCount = 13;
constexpr size_t kFieldSize = 8;
constexpr char kTrailerName[] = "TRAILER!!!";

// Header field order after the magic.
enum Field : size_t {
    Ino,
    Mode,
    Uid,
    Gid,
    Nlink,
    Mtime,
    Filesize,
    DevMajor,
    DevMinor,
    RdevMajor,
    RdevMinor,
    Namesize,
    Check,
};

constexpr const char* kFieldNames[kFieldCount] = {
    "c_ino",
    "c_mode",
    "c_uid",
    "c_gid",
    "c_nlink",
    "c_mtime",
    "c_filesize",
    "c_devmajor",
    "c_devminor",
    "c_rdevmajor",
    "c_rdevminor",
    "c_namesize",
    "c_check",
};

// Untrusted bytes shown in a message: quoted, non-printable bytes as \xNN,
// long strings cut with "..." so one bad name cannot fill the buffer.
struct Quoted {
    static constexpr size_t kMaxShown = 48;
    char text[kMaxShown * 4 + 8];

    Quoted(const void* bytes, size_t length)
    {
        const auto* p = static_cast<const uint8_t*>(bytes);
        size_t out = 0;
        text[out++] = '"';
        for (size_t i = 0; i < length && i < kMaxShown; ++i) {
            uint8_t c = p[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                text[out++] = char(c);
            } else {
                static constexpr char kHex[] = "0123456789abcdef";
                text[out++] = '\\';
                text[out++] = 'x';
                text[out++] = kHex[c >> 4];
                text[out++] = kHex[c & 15];
            }
        }
        if (length > kMaxShown) {
            text[out++] = '.';
            text[out++] = '.';
            text[out++] = '.';
        }
        text[out++] = '"';
        text[out] = '\0';
    }
};

bool parse_hex_field(const uint8_t* text, uint32_t& value)
{
    uint32_t result = 0;
    for (size_t i = 0; i < kFieldSize; ++i) {
        uint8_t c = text[i];
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return false;
        result = (result << 4) | digit;
    }
    value = result;
    return true;
}

bool known_type(uint32_t mode)
{
    switch (CpioFileType(mode & kCpioTypeMask)) {
    case CpioFileType::Fifo:
    case CpioFileType::CharDevice:
    case CpioFileType::Directory:
    case CpioFileType::BlockDevice:
    case CpioFileType::Regular:
    case CpioFileType::Symlink:
    case CpioFileType::Socket: return true;
    }
    return false;
}

// The types Linux's initramfs unpacker matches hard links for.
bool linkable_type(uint32_t mode)
{
    auto type = CpioFileType(mode & kCpioTypeMask);
    return type != CpioFileType::Directory && type != CpioFileType::Symlink;
}

// Leading "/" and "./" carry no meaning in an archive rooted at the
// unpack directory; "." alone is that directory.
const char* strip_leading(const char* name, size_t& length)
{
    for (;;) {
        if (length >= 1 && name[0] == '/') {
            ++name;
            --length;
        } else if (length >= 2 && name[0] == '.' && name[1] == '/') {
            name += 2;
            length -= 2;
        } else {
            break;
        }
    }
    if (length == 1 && name[0] == '.') {
        ++name;
        --length;
    }
    return name;
}

// Why a normalized name is unacceptable, or null.
const char* bad_component(const char* name, size_t length)
{
    size_t start = 0;
    while (start <= length && length > 0) {
        size_t end = start;
        while (end < length && name[end] != '/')
            ++end;
        size_t component = end - start;
        if (component == 0)
            return "empty path component";
        if (component == 1 && name[start] == '.')
            return "\".\" path component";
        if (component == 2 && name[start] == '.' && name[start + 1] == '.')
            return "\"..\" path component (would escape the unpack directory)";
        start = end + 1;
    }
    return nullptr;
}

// The signatures of compressors Linux's initramfs can be packed with.
const char* compression_name(const uint8_t* p, size_t left)
{
    struct Magic {
        const char* name;
        uint8_t length;
        uint8_t bytes[6];
    };
    static constexpr Magic kMagics[] = {
        { "gzip", 2, { 0x1f, 0x8b } },
        { "gzip", 2, { 0x1f, 0x9e } },
        { "bzip2", 3, { 'B', 'Z', 'h' } },
        { "xz", 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
        { "lzma", 3, { 0x5d, 0x00, 0x00 } },
        { "lzo", 4, { 0x89, 'L', 'Z', 'O' } },
        { "lz4", 4, { 0x02, 0x21, 0x4c, 0x18 } },
        { "zstd", 4, { 0x28, 0xb5, 0x2f, 0xfd } },
    };
    for (const Magic& magic : kMagics) {
        if (left >= magic.length && memcmp(p, magic.bytes, magic.length) == 0)
            return magic.name;
    }
    return nullptr;
}

size_t link_hash(uint32_t ino, uint32_t major, uint32_t minor, uint32_t type)
{
    uint64_t h = ino;
    h = h * 0x9e3779b97f4a7c15ull + major;
    h = h * 0x9e3779b97f4a7c15ull + minor;
    h = h * 0x9e3779b97f4a7c15ull + type;
    return size_t(h ^ (h >> 29));
}

bool same_inode(const CpioEntry& a, const CpioEntry& b)
{
    return a.ino == b.ino && a.dev_major == b.dev_major && a.dev_minor == b.dev_minor && a.type() == b.type();
}

} // namespace

// Context for an error message: which entry, and its name once known.
struct CpioReader::Where {
    size_t index;
    size_t offset;
    const uint8_t* name = nullptr;
    size_t name_length = 0;
};

const char* cpio_type_name(uint32_t mode)
{
    switch (CpioFileType(mode & kCpioTypeMask)) {
    case CpioFileType::Fifo: return "fifo";
    case CpioFileType::CharDevice: return "character device";
    case CpioFileType::Directory: return "directory";
    case CpioFileType::BlockDevice: return "block device";
    case CpioFileType::Regular: return "regular file";
    case CpioFileType::Symlink: return "symlink";
    case CpioFileType::Socket: return "socket";
    }
    return "unknown";
}

CpioReader::CpioReader(const void* data, size_t size, Diagnostic* diagnostic)
    : m_data(static_cast<const uint8_t*>(data))
    , m_size(data ? size : 0)
    , m_message(diagnostic ? diagnostic->message : nullptr)
    , m_message_size(diagnostic ? sizeof(diagnostic->message) : 0)
{
    if (m_message_size > 0)
        m_message[0] = '\0';
}

void CpioReader::set_link_table(CpioLinkSlot* slots, size_t count)
{
    m_link_slots = count ? slots : nullptr;
    m_link_capacity = slots ? count : 0;
    for (size_t i = 0; i < m_link_capacity; ++i)
        m_link_slots[i].generation = 0;
}

Result<void> CpioReader::status() const
{
    if (m_state == State::Failed)
        return Err(m_error);
    return {};
}

Error CpioReader::fail(Error error, const Where& where, const char* fmt, ...)
{
    m_state = State::Failed;
    m_error = error;
    if (m_message_size == 0)
        return error;
    size_t used;
    if (where.name) {
        used = format(m_message, m_message_size, "entry %zu (%s) at offset 0x%zx: ", where.index,
            Quoted(where.name, where.name_length).text, where.offset);
    } else {
        used = format(m_message, m_message_size, "entry %zu at offset 0x%zx: ", where.index, where.offset);
    }
    if (used < m_message_size) {
        va_list args;
        va_start(args, fmt);
        vformat(m_message + used, m_message_size - used, fmt, args);
        va_end(args);
    }
    return error;
}

Result<void> CpioReader::decode(size_t offset, CpioEntry& entry, size_t& next_offset, bool verify)
{
    Where where { entry.index, offset };
    size_t left = m_size - offset;
    if (left < kMagicSize)
        return fail(
            Error::EINVAL, where, "header truncated: 0x%zx bytes left, a header takes 0x%zx", left, kCpioHeaderSize);

    const uint8_t* header = m_data + offset;
    bool with_checksum = memcmp(header, "070702", kMagicSize) == 0;
    if (!with_checksum && memcmp(header, "070701", kMagicSize) != 0) {
        if (memcmp(header, "070707", kMagicSize) == 0)
            return fail(Error::ENOTSUP, where, "old portable cpio format (magic \"070707\") not supported; use newc");
        if ((header[0] == 0xc7 && header[1] == 0x71) || (header[0] == 0x71 && header[1] == 0xc7))
            return fail(Error::ENOTSUP, where, "old binary cpio format not supported; use newc");
        return fail(
            Error::EINVAL, where, "bad magic %s (expected \"070701\" or \"070702\")", Quoted(header, kMagicSize).text);
    }

    if (left < kCpioHeaderSize)
        return fail(
            Error::EINVAL, where, "header truncated: 0x%zx bytes left, a header takes 0x%zx", left, kCpioHeaderSize);

    uint32_t fields[kFieldCount];
    for (size_t i = 0; i < kFieldCount; ++i) {
        const uint8_t* text = header + kMagicSize + i * kFieldSize;
        if (!parse_hex_field(text, fields[i]))
            return fail(
                Error::EINVAL, where, "%s %s is not 8 hex digits", kFieldNames[i], Quoted(text, kFieldSize).text);
    }

    size_t name_size = fields[Namesize];
    if (name_size == 0)
        return fail(Error::EINVAL, where, "c_namesize 0 (the name's NUL must be counted)");
    if (name_size > kCpioMaxNameSize)
        return fail(Error::EINVAL, where, "c_namesize 0x%zx exceeds PATH_MAX (0x%zx)", name_size, kCpioMaxNameSize);

    // The header is inside the buffer and name_size <= PATH_MAX, so none of
    // these sums can wrap.
    size_t name_offset = offset + kCpioHeaderSize;
    left = m_size - name_offset;
    if (name_size > left)
        return fail(Error::EINVAL, where, "name (c_namesize 0x%zx) runs past the end of the archive (0x%zx bytes left)",
            name_size, left);
    const uint8_t* raw_name = m_data + name_offset;
    if (raw_name[name_size - 1] != '\0')
        return fail(Error::EINVAL, where, "name %s is not NUL-terminated (c_namesize 0x%zx)",
            Quoted(raw_name, name_size).text, name_size);
    size_t raw_length = strnlen(reinterpret_cast<const char*>(raw_name), name_size);
    if (raw_length != name_size - 1)
        return fail(Error::EINVAL, where, "name %s has a NUL byte at 0x%zx, before its end (c_namesize 0x%zx)",
            Quoted(raw_name, name_size - 1).text, raw_length, name_size);
    where.name = raw_name;
    where.name_length = raw_length;

    size_t data_offset = align_up(name_offset + name_size, size_t(4));
    if (data_offset > m_size)
        return fail(Error::EINVAL, where, "padding after the name runs past the end of the archive");
    left = m_size - data_offset;
    size_t data_size = fields[Filesize];
    if (data_size > left)
        return fail(Error::EINVAL, where, "c_filesize 0x%zx exceeds the archive (0x%zx bytes left)", data_size, left);

    entry.ino = fields[Ino];
    entry.mode = fields[Mode];
    entry.uid = fields[Uid];
    entry.gid = fields[Gid];
    entry.nlink = fields[Nlink];
    entry.mtime = fields[Mtime];
    entry.dev_major = fields[DevMajor];
    entry.dev_minor = fields[DevMinor];
    entry.rdev_major = fields[RdevMajor];
    entry.rdev_minor = fields[RdevMinor];
    entry.check = fields[Check];
    entry.has_checksum = with_checksum;
    entry.data = m_data + data_offset;
    entry.data_size = data_size;
    entry.link_target = nullptr;
    entry.link_index = 0;
    // Linux recognises the trailer by its name alone and skips any data.
    entry.is_trailer = raw_length == sizeof(kTrailerName) - 1 && memcmp(raw_name, kTrailerName, raw_length) == 0;

    // The end of the data is at most m_size; its padding may be cut off by
    // the end of the buffer, which only matters if an entry should follow.
    next_offset = min(align_up(data_offset + data_size, size_t(4)), m_size);

    if (entry.is_trailer) {
        entry.name = reinterpret_cast<const char*>(raw_name);
        entry.name_length = raw_length;
        return {};
    }

    size_t length = raw_length;
    entry.name = strip_leading(reinterpret_cast<const char*>(raw_name), length);
    entry.name_length = length;
    if (const char* why = bad_component(entry.name, length))
        return fail(Error::EINVAL, where, "bad name: %s", why);

    if (!known_type(entry.mode))
        return fail(
            Error::EINVAL, where, "c_mode 0x%x has an unknown file type (0%o)", entry.mode, entry.mode & kCpioTypeMask);
    if (length == 0 && !entry.is_directory())
        return fail(Error::EINVAL, where, "the root directory entry is a %s", cpio_type_name(entry.mode));

    switch (entry.type()) {
    case CpioFileType::Regular: break;
    case CpioFileType::Symlink:
        if (data_size == 0)
            return fail(Error::EINVAL, where, "symlink with an empty target (c_filesize 0)");
        if (data_size >= kCpioMaxNameSize)
            return fail(Error::EINVAL, where, "symlink target of 0x%zx bytes exceeds PATH_MAX (0x%zx)", data_size,
                kCpioMaxNameSize);
        for (size_t i = 0; i < data_size; ++i) {
            if (entry.data[i] == '\0')
                return fail(Error::EINVAL, where, "symlink target has a NUL byte at 0x%zx", i);
        }
        break;
    default:
        if (data_size != 0)
            return fail(Error::EINVAL, where, "%s with c_filesize 0x%zx (only regular files and symlinks have data)",
                cpio_type_name(entry.mode), data_size);
        break;
    }

    // As in Linux, the sum covers regular files only: writers leave c_check
    // 0 for everything else.
    if (verify && with_checksum && entry.is_regular()) {
        uint32_t sum = 0;
        for (size_t i = 0; i < data_size; ++i)
            sum += entry.data[i];
        if (sum != entry.check)
            return fail(Error::EBADMSG, where, "checksum mismatch: header 0x%08x, computed 0x%08x", entry.check, sum);
    }
    return {};
}

Result<void> CpioReader::find_link(CpioEntry& entry)
{
    if (entry.nlink < 2 || !linkable_type(entry.mode))
        return {};

    if (m_link_slots) {
        size_t generation = m_archive + 1;
        size_t slot = link_hash(entry.ino, entry.dev_major, entry.dev_minor, uint32_t(entry.type())) % m_link_capacity;
        for (size_t probe = 0; probe < m_link_capacity; ++probe) {
            CpioLinkSlot& s = m_link_slots[slot];
            if (s.generation != generation) {
                s = CpioLinkSlot { generation, entry.ino, entry.dev_major, entry.dev_minor, uint32_t(entry.type()),
                    entry.index, entry.name };
                return {};
            }
            if (s.ino == entry.ino && s.dev_major == entry.dev_major && s.dev_minor == entry.dev_minor
                && s.type == uint32_t(entry.type())) {
                entry.link_target = s.name;
                entry.link_index = s.index;
                return {};
            }
            slot = (slot + 1) % m_link_capacity;
        }
        Where where { entry.index, entry.offset, reinterpret_cast<const uint8_t*>(entry.name), entry.name_length };
        return fail(
            Error::ENOSPC, where, "more than %zu hard-linked inodes in one archive (link table full)", m_link_capacity);
    }

    // No table: the earlier entries of this archive were all validated, so
    // decoding them again cannot fail; checksums need not be summed again.
    size_t offset = m_archive_start;
    for (size_t index = m_archive_first_index; index < entry.index; ++index) {
        CpioEntry earlier;
        earlier.index = index;
        size_t next_offset;
        if (decode(offset, earlier, next_offset, false).is_error())
            break;
        if (earlier.nlink >= 2 && linkable_type(earlier.mode) && same_inode(earlier, entry)) {
            entry.link_target = earlier.name;
            entry.link_index = index;
            break;
        }
        offset = next_offset;
    }
    return {};
}

Result<CpioEntry> CpioReader::next()
{
    if (m_state == State::Failed)
        return Err(m_error);
    if (m_state == State::Done)
        return Err(Error::ENODATA);

    if (m_state == State::BetweenArchives) {
        // Zero padding may surround archives (Linux skips it); the next
        // archive starts on a 4-byte boundary.
        while (m_offset < m_size && m_data[m_offset] == 0)
            ++m_offset;
        if (m_offset == m_size) {
            m_state = State::Done;
            return Err(Error::ENODATA);
        }
        Where where { m_index + 1, m_offset };
        if (const char* compressor = compression_name(m_data + m_offset, m_size - m_offset))
            return fail(
                Error::ENOTSUP, where, "%s-compressed initramfs not supported (build it uncompressed)", compressor);
        if (m_offset % 4 != 0)
            return fail(Error::EINVAL, where,
                "junk byte 0x%02x after zero padding (an archive must start on a 4-byte boundary)", m_data[m_offset]);
        m_state = State::InArchive;
        m_archive_start = m_offset;
        m_archive_first_index = m_index + 1;
    }

    CpioEntry entry;
    entry.index = m_index + 1;
    entry.offset = m_offset;
    entry.archive = m_archive;
    if (m_offset >= m_size)
        return fail(
            Error::EINVAL, Where { entry.index, m_offset }, "archive ends without a TRAILER!!! entry (truncated?)");
    ++m_index;

    size_t next_offset = 0;
    TRY(decode(m_offset, entry, next_offset, true));
    if (entry.is_trailer) {
        ++m_archive;
        m_state = State::BetweenArchives;
    } else if (m_links_enabled) {
        TRY(find_link(entry));
    }
    m_offset = next_offset;
    return entry;
}

namespace {

// cpio_find and cpio_find_before_damage: with `damaged` null, damage
// anywhere fails the search; otherwise the entries before it count.
Result<CpioEntry> find_entry(const void* data, size_t size, const char* path, bool* damaged, Diagnostic* diagnostic)
{
    if (!path)
        return Err(Error::EINVAL);
    size_t length = strlen(path);
    path = strip_leading(path, length);

    CpioReader reader(data, size, diagnostic);
    reader.disable_links();
    CpioEntry found;
    bool have = false;
    size_t entries = 0;
    while (auto result = reader.next()) {
        const CpioEntry& entry = result.value();
        ++entries;
        if (!entry.is_trailer && entry.name_length == length && memcmp(entry.name, path, length) == 0) {
            found = entry;
            have = true;
        }
    }
    if (damaged)
        *damaged = reader.failed();
    if (!damaged || !have)
        TRY(reader.status());
    if (!have) {
        diagnose(diagnostic, "%s not found in the initramfs (%zu entries)", Quoted(path, length).text, entries);
        return Err(Error::ENOENT);
    }

    // A hard link's contents usually travel with the last link of its
    // group (gen_init_cpio gives the others c_filesize 0). In a damaged
    // archive, only the links before the damage are seen.
    if (found.is_regular() && found.nlink >= 2) {
        CpioReader group(data, size);
        group.disable_links();
        while (auto result = group.next()) {
            const CpioEntry& entry = result.value();
            if (entry.archive > found.archive)
                break;
            if (entry.archive == found.archive && !entry.is_trailer && entry.nlink >= 2 && same_inode(entry, found)
                && entry.data_size > 0) {
                found.data = entry.data;
                found.data_size = entry.data_size;
            }
        }
    }
    return found;
}

} // namespace

Result<CpioEntry> cpio_find(const void* data, size_t size, const char* path, Diagnostic* diagnostic)
{
    return find_entry(data, size, path, nullptr, diagnostic);
}

Result<CpioEntry> cpio_find_before_damage(
    const void* data, size_t size, const char* path, bool& damaged, Diagnostic* diagnostic)
{
    return find_entry(data, size, path, &damaged, diagnostic);
}

} // namespace keel
