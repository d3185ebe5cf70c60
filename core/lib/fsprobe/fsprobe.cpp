#include "lib/fsprobe/fsprobe.h"

#include "lib/base/format.h"
#include "lib/crypto/bytes.h"

namespace keel::fsprobe {

namespace {

constexpr uint16_t kExtMagic = 0xef53;
constexpr size_t kMagic = 56;
constexpr size_t kFeatureCompat = 92;
constexpr size_t kFeatureIncompat = 96;
constexpr size_t kFeatureRoCompat = 100;
constexpr size_t kUuid = 104;
constexpr size_t kVolumeName = 120;

constexpr uint32_t kCompatHasJournal = 0x4;
// What ext3 knows: filetype, needs_recovery, journal_dev, meta_bg;
// sparse_super, large_file, btree_dir. Anything else is ext4's.
constexpr uint32_t kExt3Incompat = 0x2 | 0x4 | 0x8 | 0x10;
constexpr uint32_t kExt3RoCompat = 0x1 | 0x2 | 0x4;

} // namespace

bool probe_ext(const uint8_t* super, size_t length, Identity& out)
{
    if (!super || length < kVolumeName + 16 || uint16_t(super[kMagic] | super[kMagic + 1] << 8) != kExtMagic)
        return false;
    uint32_t incompat = load_le32(super + kFeatureIncompat);
    uint32_t ro_compat = load_le32(super + kFeatureRoCompat);
    bool journal = load_le32(super + kFeatureCompat) & kCompatHasJournal;
    const char* type = (incompat & ~kExt3Incompat) || (ro_compat & ~kExt3RoCompat) ? "ext4" : journal ? "ext3" : "ext2";
    format(out.type, sizeof(out.type), "%s", type);
    size_t i = 0;
    for (; i < 16 && super[kVolumeName + i]; i++) {
        uint8_t c = super[kVolumeName + i];
        out.label[i] = c >= 0x20 && c < 0x7f ? char(c) : '?';
    }
    out.label[i] = '\0';
    const uint8_t* u = super + kUuid;
    format(out.uuid, sizeof(out.uuid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
        u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return true;
}

} // namespace keel::fsprobe
