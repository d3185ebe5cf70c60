// root=LABEL= and root=UUID= compare what blkid would say of each block
// device (bcache_identify, lib/fsprobe).
#include "init/root_device.h"

#include "bcache/bcache.h"
#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

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
            fsprobe::Identity identity;
            match = bcache_identify(candidate, identity)
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
