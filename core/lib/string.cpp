// Kernel implementations of the C string functions (host builds use libc).
// Plain loops: no_builtin stops Clang from recognising a loop as a libc
// call and compiling the function into a call to itself. memcpy, memmove
// and memset are the architecture's (arch/x86_64/string.cpp): they are the
// hot ones.
#include "lib/string.h"

#include <stdint.h>

#define KEEL_NO_BUILTIN __attribute__((no_builtin))

extern "C" {

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
