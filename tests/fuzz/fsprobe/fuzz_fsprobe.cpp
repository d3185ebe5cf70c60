// libFuzzer target for core/lib/fsprobe: any bytes as an ext superblock,
// of any length. The identity's strings must always be terminated and
// printable.
#include <initializer_list>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/fsprobe/fsprobe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    keel::fsprobe::Identity identity;
    memset(&identity, 0xaa, sizeof(identity));
    if (keel::fsprobe::probe_ext(data, size, identity)) {
        for (const char* text : { identity.type, identity.label, identity.uuid }) {
            size_t length = strnlen(text, sizeof(identity.uuid));
            if (length >= sizeof(identity.uuid))
                __builtin_trap();
            for (size_t i = 0; i < length; i++) {
                if (text[i] < 0x20 || text[i] > 0x7e)
                    __builtin_trap();
            }
        }
    }
    return 0;
}
