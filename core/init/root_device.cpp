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

} // namespace

bool find_root_device(const char* spec, char* name, size_t size)
{
    const char* label = strncmp(spec, "LABEL=", 6) == 0 ? spec + 6 : nullptr;
    const char* uuid = strncmp(spec, "UUID=", 5) == 0 ? spec + 5 : nullptr;
    BlockDeviceName names[16];
    size_t count = block_device_names(names, 16);
    const char* plain = strncmp(spec, "/dev/", 5) == 0 ? spec + 5 : spec;
    for (size_t i = 0; i < count; i++) {
        const char* candidate = names[i];
        bool match;
        if (label || uuid) {
            fsprobe::Identity identity;
            match = bcache_identify(candidate, identity)
                && (label ? strcmp(identity.label, label) == 0 : equal_ignoring_case(identity.uuid, uuid));
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
