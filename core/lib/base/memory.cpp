// memcpy and memset for the kernel (host builds use libc's). Kept apart from
// string.cpp, which the host tests link beside libc under other names.
#include "lib/base/string.h"

#include <stdint.h>

#define KEEL_NO_BUILTIN __attribute__((no_builtin))
// Both start a 256-byte slot, so that neither (each under 256 bytes) ever
// straddles a 4 KiB page, wherever the link puts it. Under QEMU's TCG a
// loop across a page boundary runs measurably slower, and these loops run
// more iterations than any other in the kernel: when a change elsewhere
// moved memset across one, the page allocator's set-up (one memset of its
// 768 KiB array) went from 0.89 to 1.08 ms and the rest of the boot slowed
// with it.
#define KEEL_LOOP_ALIGNED __attribute__((aligned(256)))

using UnalignedWord = uint64_t __attribute__((may_alias, aligned(1)));

extern "C" {

// memcpy and memset: eight bytes per store, eight stores per iteration, then
// the tail. Under QEMU's TCG every store to a page that once held executed
// code (a freed module's text) takes the emulator's slow path, so wide
// stores matter: a byte loop took 87 ms to map a large module where
// `rep movsq` took 7, and this unrolled loop beats `rep movsq`/`rep stosq`
// again (mapping the 190 KB bench module: 52 -> 45 us). The names are in
// parentheses because lib/base/string.h routes calls through the builtins.
KEEL_LOOP_ALIGNED KEEL_NO_BUILTIN void*(memcpy)(void* dest, const void* src, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    for (; n >= 64; n -= 64, d += 64, s += 64) {
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; ++i)
            reinterpret_cast<UnalignedWord*>(d)[i] = reinterpret_cast<const UnalignedWord*>(s)[i];
    }
    for (; n >= 8; n -= 8, d += 8, s += 8)
        *reinterpret_cast<UnalignedWord*>(d) = *reinterpret_cast<const UnalignedWord*>(s);
    for (; n > 0; --n)
        *d++ = *s++;
    return dest;
}

KEEL_LOOP_ALIGNED KEEL_NO_BUILTIN void*(memset)(void* dest, int c, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    uint64_t pattern = 0x0101010101010101ull * uint8_t(c);
    for (; n >= 64; n -= 64, d += 64) {
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; ++i)
            reinterpret_cast<UnalignedWord*>(d)[i] = pattern;
    }
    for (; n >= 8; n -= 8, d += 8)
        *reinterpret_cast<UnalignedWord*>(d) = pattern;
    for (; n > 0; --n)
        *d++ = uint8_t(c);
    return dest;
}

} // extern "C"
