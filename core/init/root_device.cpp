// root=LABEL= and root=UUID= read every block device's ext2 superblock
// (1 KiB at byte 1024: magic, UUID at 104, volume name at 120).
#include "init/root_device.h"

#include "bcache/bcache.h"
#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

constexpr uint32_t kSuperOffset = 1024;
constexpr uint16_t kExt2Magic = 0xef53;

struct Identity {
    char label[17];
    char uuid[37];
};

bool read_identity(const char* device, Identity& out)
{
    auto handle = bcache_open(device, 0);
    if (handle.is_error())
        return false;
    bool found = false;
    if (bcache_set_block_size(*handle.value(), 1024).is_ok()) {
        if (auto block = bcache_read(*handle.value(), kSuperOffset / 1024); block.is_ok()) {
            const uint8_t* super = block.value()->data;
            uint16_t magic = uint16_t(super[56] | super[57] << 8);
            if (magic == kExt2Magic) {
                memcpy(out.label, super + 120, 16);
                out.label[16] = '\0';
                const uint8_t* uuid = super + 104;
                format(out.uuid, sizeof(out.uuid),
                    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0], uuid[1], uuid[2],
                    uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12],
                    uuid[13], uuid[14], uuid[15]);
                found = true;
            }
            bcache_put(block.value());
        }
    }
    (void)bcache_close(handle.value());
    return found;
}

bool equal_ignoring_case(const char* a, const char* b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? char(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? char(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

struct Search {
    const char* label;
    const char* uuid;
    char names[16][kBlockDeviceNameMax + 1];
    size_t count;
};

} // namespace

bool find_root_device(const char* spec, char* name, size_t size)
{
    Search search {};
    if (strncmp(spec, "LABEL=", 6) == 0)
        search.label = spec + 6;
    else if (strncmp(spec, "UUID=", 5) == 0)
        search.uuid = spec + 5;
    // The registry's names first (no device is opened under its walk).
    block_device_for_each(
        [](const BlockDevice& device, uint32_t, void* arg) {
            auto& search = *static_cast<Search*>(arg);
            if (search.count < 16)
                memcpy(search.names[search.count++], device.name, kBlockDeviceNameMax + 1);
        },
        &search);
    const char* plain = strncmp(spec, "/dev/", 5) == 0 ? spec + 5 : spec;
    for (size_t i = 0; i < search.count; i++) {
        const char* candidate = search.names[i];
        bool match;
        if (search.label || search.uuid) {
            Identity identity;
            match = read_identity(candidate, identity)
                && (search.label ? strcmp(identity.label, search.label) == 0
                                 : equal_ignoring_case(identity.uuid, search.uuid));
        } else {
            match = strcmp(candidate, plain) == 0;
        }
        if (match) {
            format(name, size, "%s", candidate);
            return true;
        }
    }
    return false;
}

} // namespace keel
