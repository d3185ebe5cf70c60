// memmove for the kernel. The other C string functions, memcpy and memset
// among them, are arch-neutral (core/lib/base/string.cpp).
#include <stddef.h>
#include <stdint.h>

extern "C" {

void* memcpy(void* dest, const void* src, size_t n);

using Word = uint64_t __attribute__((may_alias, aligned(1)));

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

} // extern "C"
