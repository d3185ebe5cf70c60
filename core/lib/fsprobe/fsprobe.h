// What filesystem a disk holds, from its first bytes, as blkid says it
// (lsblk -f, root=LABEL= and root=UUID=). The bytes come from the disk:
// untrusted; every field is read within the buffer given.
//
// ext2, ext3 and ext4 share one superblock (1 KiB at byte 1024: magic
// 0xEF53 at 56, UUID at 104, volume name at 120) and are told apart by
// their feature flags the way blkid does: a feature ext3 lacks makes it
// ext4, else a journal makes it ext3, else it is ext2.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::fsprobe {

// Where the superblock lies and how much of it the probe reads.
inline constexpr size_t kExtSuperblockOffset = 1024;
inline constexpr size_t kExtSuperblockBytes = 1024;

struct Identity {
    char type[8];   // "ext2", "ext3", "ext4"
    char label[17]; // printable ASCII; other bytes as '?'; may be empty
    char uuid[37];  // 8-4-4-4-12 lower-case hex
};

// The identity of the ext superblock in `super` (the kExtSuperblockBytes at
// kExtSuperblockOffset); false when `length` is too short or the magic is
// not there.
bool probe_ext(const uint8_t* super, size_t length, Identity& out);

} // namespace keel::fsprobe
