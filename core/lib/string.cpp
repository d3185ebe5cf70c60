// Kernel implementations of the C memory and string functions (host builds
// use libc). Plain byte loops: no_builtin stops Clang from recognising a
// loop as "memcpy" and compiling memcpy into a call to itself, and keeps the
// file arch-neutral. Speed is not the point yet; a tuned x86 version can
// replace this file behind the same header.
#include "lib/string.h"

#include <stdint.h>

#define KEEL_NO_BUILTIN __attribute__((no_builtin))

extern "C" {

KEEL_NO_BUILTIN void* memcpy(void* dest, const void* src, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    for (size_t i = 0; i < n; ++i)
        d[i] = s[i];
    return dest;
}

KEEL_NO_BUILTIN void* memmove(void* dest, const void* src, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    // Compare as integers: relational comparison of unrelated pointers is
    // unspecified in C++.
    if (reinterpret_cast<uintptr_t>(d) <= reinterpret_cast<uintptr_t>(s)) {
        for (size_t i = 0; i < n; ++i)
            d[i] = s[i];
    } else {
        for (size_t i = n; i > 0; --i)
            d[i - 1] = s[i - 1];
    }
    return dest;
}

KEEL_NO_BUILTIN void* memset(void* dest, int c, size_t n)
{
    auto* d = static_cast<unsigned char*>(dest);
    for (size_t i = 0; i < n; ++i)
        d[i] = static_cast<unsigned char>(c);
    return dest;
}

KEEL_NO_BUILTIN int memcmp(const void* a, const void* b, size_t n)
{
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

KEEL_NO_BUILTIN size_t strlen(const char* s)
{
    size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

KEEL_NO_BUILTIN size_t strnlen(const char* s, size_t max)
{
    size_t n = 0;
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
