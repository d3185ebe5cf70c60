// memcpy, memmove and memset for the kernel with the x86 string
// instructions: `rep movsq`/`rep stosq` instead of a loop per byte (fast-string microcode on hardware, a single helper
// under QEMU's TCG). The other C string functions are arch-neutral (core/lib/string.cpp).
#include <stddef.h>
#include <stdint.h>

extern "C" {

// Eight bytes at a time, then the tail: under QEMU's TCG every store to a
// page that once held executed code (a freed module's text, say) takes the
// emulator's slow path, so fewer, wider stores matter there.
void* memcpy(void* dest, const void* src, size_t n)
{
    void* d = dest;
    size_t quads = n / 8;
    size_t tail = n % 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(quads) : : "memory");
    asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(tail) : : "memory");
    return dest;
}

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

void* memset(void* dest, int c, size_t n)
{
    void* d = dest;
    uint64_t pattern = 0x0101010101010101ull * uint8_t(c);
    size_t quads = n / 8;
    size_t tail = n % 8;
    asm volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
    asm volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
    return dest;
}

} // extern "C"
