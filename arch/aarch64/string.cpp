// memcpy, memmove and memset for the kernel. The other C string functions
// are arch-neutral (core/lib/base/string.cpp).
#include <stddef.h>
#include <stdint.h>

extern "C" {

using Word = uint64_t __attribute__((may_alias, aligned(1)));

// Eight bytes per access, eight per iteration, then the tail: under QEMU's
// TCG every store to a page that once held executed code takes the slow
// path, so wide stores matter (arch/x86_64/string.cpp measured it).
__attribute__((no_builtin)) void* memcpy(void* dest, const void* src, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    for (; n >= 64; n -= 64, d += 64, s += 64) {
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; ++i)
            reinterpret_cast<Word*>(d)[i] = reinterpret_cast<const Word*>(s)[i];
    }
    for (; n >= 8; n -= 8, d += 8, s += 8)
        *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
    for (; n > 0; --n)
        *d++ = *s++;
    return dest;
}

__attribute__((no_builtin)) void* memmove(void* dest, const void* src, size_t n)
{
    if (reinterpret_cast<uintptr_t>(dest) <= reinterpret_cast<uintptr_t>(src)
        || reinterpret_cast<uintptr_t>(dest) >= reinterpret_cast<uintptr_t>(src) + n)
        return memcpy(dest, src, n);
    // Overlapping with dest above src: copy backwards.
    auto* d = static_cast<unsigned char*>(dest) + n;
    const auto* s = static_cast<const unsigned char*>(src) + n;
    for (; n >= 8; n -= 8) {
        d -= 8;
        s -= 8;
        *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
    }
    while (n-- > 0)
        *--d = *--s;
    return dest;
}

__attribute__((no_builtin)) void* memset(void* dest, int c, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    uint64_t pattern = 0x0101010101010101ull * uint8_t(c);
    for (; n >= 64; n -= 64, d += 64) {
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; ++i)
            reinterpret_cast<Word*>(d)[i] = pattern;
    }
    for (; n >= 8; n -= 8, d += 8)
        *reinterpret_cast<Word*>(d) = pattern;
    for (; n > 0; --n)
        *d++ = uint8_t(c);
    return dest;
}

} // extern "C"
