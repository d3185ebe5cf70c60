// memmove for the kernel. The other C string functions, memcpy and memset
// among them, are arch-neutral (core/lib/base/string.cpp).
#include <stddef.h>
#include <stdint.h>

extern "C" {

void* memcpy(void* dest, const void* src, size_t n);

void* memmove(void* dest, const void* src, size_t n)
{
    if (reinterpret_cast<uintptr_t>(dest) <= reinterpret_cast<uintptr_t>(src)
        || reinterpret_cast<uintptr_t>(dest) >= reinterpret_cast<uintptr_t>(src) + n)
        return memcpy(dest, src, n);
    // Overlapping with dest above src: copy backwards (direction flag set
    // for the one instruction; the ABI wants it clear everywhere else).
    void* d = static_cast<uint8_t*>(dest) + n - 1;
    const void* s = static_cast<const uint8_t*>(src) + n - 1;
    asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dest;
}

} // extern "C"
