// A validating reader for cpio "newc" archives, the initramfs format.
//
// Both newc flavours are read: "070701" and "070702" ("newc with CRC"),
// whose c_check is the 32-bit sum of the data bytes of a regular file and is
// checked. Each entry is a 110-byte ASCII header of 8-hex-digit fields
//
//   c_magic[6] c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize
//   c_devmajor c_devminor c_rdevmajor c_rdevminor c_namesize c_check
//
// then c_namesize bytes of name (its NUL included) padded to a multiple of
// 4 from the start of the buffer, then c_filesize bytes of data padded
// likewise. The name "TRAILER!!!" ends an archive; as in Linux, archives may
// be concatenated, with zero bytes between them (the next one starts on a
// 4-byte boundary), and an archive's hard-link bookkeeping ends with its
// trailer.
//
// Nothing is allocated and nothing is copied: entries are views into the
// caller's buffer, which must outlive them. Every byte is treated as
// hostile: any malformation ends the walk with an error code and, if the
// caller gave a buffer, a message naming the entry, its offset, the field
// and its value, e.g.
//
//   entry 3 ("etc/x") at offset 0x1f4: c_filesize 0xffffffff exceeds the archive (0x200 bytes left)
//
// Usage:
//
//   Diagnostic diagnostic;
//   CpioReader reader(data, size, &diagnostic);
//   while (auto entry = reader.next()) {
//       const CpioEntry& e = entry.value();
//       if (e.is_trailer) continue;
//       ...
//   }
//   if (reader.status().is_error())
//       log("initramfs: %s", diagnostic.message);
//
// docs/initramfs.md lists every check and message.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel {

// The file type bits of c_mode (S_IFMT), with Linux's values.
enum class CpioFileType : uint32_t {
    Fifo = 0010000,
    CharDevice = 0020000,
    Directory = 0040000,
    BlockDevice = 0060000,
    Regular = 0100000,
    Symlink = 0120000,
    Socket = 0140000,
};

constexpr uint32_t kCpioTypeMask = 0170000;
constexpr size_t kCpioHeaderSize = 110;
// Longest name accepted, its NUL included (Linux's PATH_MAX); symlink
// targets are limited the same way.
constexpr size_t kCpioMaxNameSize = 4096;

struct CpioEntry {
    size_t index = 0;   // 1-based position in the whole buffer, trailers counted
    size_t offset = 0;  // of the header, from the start of the buffer
    size_t archive = 0; // 0-based number of the concatenated archive it is in

    // Normalized: leading "/" and "./" removed, so "" is the root directory
    // itself (written as "." or "/"). NUL-terminated inside the buffer; no
    // "..", "." or empty components.
    const char* name = nullptr;
    size_t name_length = 0;

    uint32_t ino = 0;
    uint32_t mode = 0; // type and permission bits
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 0;
    uint32_t mtime = 0;
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    uint32_t rdev_major = 0; // for character and block devices
    uint32_t rdev_minor = 0;
    uint32_t check = 0;        // c_check as stored
    bool has_checksum = false; // "070702"; the checksum of a regular file was verified

    // File contents, or a symlink's target (not NUL-terminated).
    const uint8_t* data = nullptr;
    size_t data_size = 0;

    bool is_trailer = false;

    // Hard links, as Linux's init/initramfs.c sees them: a regular file,
    // device, fifo or socket with nlink >= 2 whose (ino, dev_major,
    // dev_minor, file type) matches an earlier such entry of the same
    // archive is a link to that earlier entry's inode. An unpacker links
    // `name` to `link_target` and then, if data_size > 0, writes the data
    // into the shared inode from offset 0 without truncating it: writers
    // (Linux's gen_init_cpio, GNU cpio) give every link but the last a
    // c_filesize of 0 and put the contents in the last one.
    const char* link_target = nullptr; // normalized name of the first entry, or null
    size_t link_index = 0;             // its index

    CpioFileType type() const { return CpioFileType(mode & kCpioTypeMask); }
    uint32_t permissions() const { return mode & 07777; }
    bool is_regular() const { return type() == CpioFileType::Regular; }
    bool is_directory() const { return type() == CpioFileType::Directory; }
    bool is_symlink() const { return type() == CpioFileType::Symlink; }
    bool is_device() const { return type() == CpioFileType::CharDevice || type() == CpioFileType::BlockDevice; }
};

// Storage for hard-link bookkeeping, provided by the caller (see
// CpioReader::set_link_table). Opaque.
struct CpioLinkSlot {
    size_t generation;
    uint32_t ino;
    uint32_t dev_major;
    uint32_t dev_minor;
    uint32_t type;
    size_t index;
    const char* name;
};

class CpioReader {
public:
    // `diagnostic` (optional) receives a description of the first error;
    // it is cleared here. The reader keeps pointers only.
    CpioReader(const void* data, size_t size, Diagnostic* diagnostic = nullptr);

    // The next entry, trailers included. Fails with ENODATA at the clean end
    // of the buffer, or with the error that ended the walk (then every later
    // call fails the same way):
    //   EINVAL    malformed header, name, size or padding, truncation
    //   EBADMSG   checksum mismatch ("070702")
    //   ENOTSUP   a compressed archive or another cpio format
    //   ENOSPC    the link table given to set_link_table is full
    // status() tells the two endings apart.
    Result<CpioEntry> next();

    // After next() failed: success if the buffer ended cleanly, else the
    // error (and the message buffer describes it). Before that, success.
    Result<void> status() const;
    bool at_end() const { return m_state == State::Done; }
    bool failed() const { return m_state == State::Failed; }

    // Hard links are matched against earlier entries of the same archive.
    // With a table (before the first next()), that costs O(1) per entry and
    // at most `count` distinct linked inodes per archive (more fail with
    // ENOSPC). Without one, the reader re-reads the archive's earlier
    // headers for each entry with nlink >= 2: no memory, but quadratic in
    // the number of such entries, so give the kernel's unpacker a table.
    void set_link_table(CpioLinkSlot* slots, size_t count);
    // No link matching at all: link_target stays null (cpio_find uses this).
    void disable_links() { m_links_enabled = false; }

private:
    enum class State { BetweenArchives, InArchive, Done, Failed };
    struct Where;

    // Records the error, writes "entry N ("name") at offset 0xOFF: " and the
    // formatted text to the message buffer, and returns the error.
    Error fail(Error error, const Where& where, const char* fmt, ...) __attribute__((format(printf, 4, 5)));
    // Validates the entry at `offset` (entry.index already set) and fills
    // `entry`; `verify` sums checksums.
    Result<void> decode(size_t offset, CpioEntry& entry, size_t& next_offset, bool verify);
    Result<void> find_link(CpioEntry& entry);

    const uint8_t* m_data;
    size_t m_size;
    char* m_message;
    size_t m_message_size;

    State m_state = State::BetweenArchives;
    Error m_error = Error::EINVAL;
    size_t m_offset = 0;
    size_t m_index = 0;   // entries returned (or attempted) so far
    size_t m_archive = 0; // archives completed
    size_t m_archive_start = 0;
    size_t m_archive_first_index = 1;

    bool m_links_enabled = true;
    CpioLinkSlot* m_link_slots = nullptr;
    size_t m_link_capacity = 0;
};

// The file `path` ("lib/modules/x.kmod"; leading "/" and "./" ignored) as
// the unpacked initramfs would hold it, read straight from the archive: the
// last entry of that name wins (a later archive overrides an earlier one,
// as in Linux), and for a hard-linked regular file `data` is taken from the
// last entry of its link group that carries data. Fails with ENOENT if no
// entry has that name, or with the archive's error if the archive is
// malformed anywhere (it is read to the end). The entry may be of any type;
// callers check type(). `diagnostic` as for CpioReader.
Result<CpioEntry> cpio_find(const void* data, size_t size, const char* path, Diagnostic* diagnostic = nullptr);

// cpio_find for an archive that may be damaged, as the kernel reads its
// early modules: the entries before the damage count (the last of them
// with that name wins, a hard link gets the data of the links before the
// damage), and `damaged` says whether there was damage, which
// `diagnostic` then describes. Fails with the archive's error when the
// name is not found before the damage, with ENOENT when an intact archive
// lacks it.
Result<CpioEntry> cpio_find_before_damage(
    const void* data, size_t size, const char* path, bool& damaged, Diagnostic* diagnostic = nullptr);

// "regular file", "directory", ... for messages; "unknown" otherwise.
const char* cpio_type_name(uint32_t mode);

} // namespace keel
