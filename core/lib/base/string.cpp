// Kernel implementations of the C string functions (host builds use libc;
// tests/unit/test_string.cpp checks these against it). no_builtin stops
// Clang from recognising a loop as a libc call and compiling the function
// into a call to itself. memcpy and memset are in
// memory.cpp, memmove is the architecture's (arch/*/string.cpp).
//
// memcmp, memchr, strlen and strnlen look at eight bytes at a time: module loading
// compares digests and measures every string of a module, and under QEMU's
// TCG each loop iteration costs far more than the work in it.
#include "lib/base/string.h"

#include <stdint.h>

#define KEEL_NO_BUILTIN __attribute__((no_builtin))

namespace {

using UnalignedWord = uint64_t __attribute__((may_alias, aligned(1)));
using Word = uint64_t __attribute__((may_alias));

constexpr uint64_t kLowBits = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Nonzero if a byte of `word` is zero; the lowest set bit marks the first
// zero byte exactly (borrows only create false marks above it).
inline uint64_t zero_bytes(uint64_t word) { return (word - kLowBits) & ~word & kHighBits; }

inline size_t first_marked_byte(uint64_t marks) { return size_t(__builtin_ctzll(marks)) / 8; }

// An aligned word never straddles a page, so reading the bytes after a
// string's NUL inside the same word cannot fault.
inline bool word_aligned(const char* p) { return (reinterpret_cast<uintptr_t>(p) & 7) == 0; }

} // namespace

extern "C" {

KEEL_NO_BUILTIN int memcmp(const void* a, const void* b, size_t n)
{
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    size_t i = 0;
    while (
        n - i >= 8 && *reinterpret_cast<const UnalignedWord*>(x + i) == *reinterpret_cast<const UnalignedWord*>(y + i))
        i += 8;
    for (; i < n; ++i) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

KEEL_NO_BUILTIN void* memchr(const void* s, int c, size_t n)
{
    const auto* p = static_cast<const unsigned char*>(s);
    const auto wanted = static_cast<unsigned char>(c);
    const uint64_t pattern = kLowBits * wanted;
    size_t i = 0;
    // A word XORed with the byte in every lane has a zero byte where the byte is.
    for (; n - i >= 8; i += 8) {
        uint64_t marks = zero_bytes(*reinterpret_cast<const UnalignedWord*>(p + i) ^ pattern);
        if (marks)
            return const_cast<unsigned char*>(p + i + first_marked_byte(marks));
    }
    for (; i < n; ++i) {
        if (p[i] == wanted)
            return const_cast<unsigned char*>(p + i);
    }
    return nullptr;
}

KEEL_NO_BUILTIN size_t strlen(const char* s)
{
    const char* p = s;
    for (; !word_aligned(p); ++p) {
        if (*p == '\0')
            return size_t(p - s);
    }
    uint64_t marks;
    while ((marks = zero_bytes(*reinterpret_cast<const Word*>(p))) == 0)
        p += 8;
    return size_t(p - s) + first_marked_byte(marks);
}

KEEL_NO_BUILTIN size_t strnlen(const char* s, size_t max)
{
    size_t n = 0;
    for (; n < max && !word_aligned(s + n); ++n) {
        if (s[n] == '\0')
            return n;
    }
    for (; max - n >= 8; n += 8) {
        uint64_t marks = zero_bytes(*reinterpret_cast<const Word*>(s + n));
        if (marks)
            return n + first_marked_byte(marks);
    }
    while (n < max && s[n])
        ++n;
    return n;
}

KEEL_NO_BUILTIN int strcmp(const char* a, const char* b)
{
    for (;; ++a, ++b) {
        auto x = static_cast<unsigned char>(*a);
        auto y = static_cast<unsigned char>(*b);
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            return 0;
    }
}

KEEL_NO_BUILTIN int strncmp(const char* a, const char* b, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        auto x = static_cast<unsigned char>(a[i]);
        auto y = static_cast<unsigned char>(b[i]);
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            return 0;
    }
    return 0;
}

KEEL_NO_BUILTIN char* strchr(const char* s, int c)
{
    const char wanted = static_cast<char>(c);
    for (;; ++s) {
        if (*s == wanted)
            return const_cast<char*>(s);
        if (*s == '\0')
            return nullptr;
    }
}

} // extern "C"
