// C string and memory functions. The kernel provides its own in string.cpp
// (the compiler also emits calls to memcpy/memset); host builds use libc's,
// whose declarations carry noexcept and C++ overloads (strchr) that ours
// would clash with, so hosted code takes the real <string.h> instead.
#pragma once

#include <stddef.h>

#if __STDC_HOSTED__
#include <string.h>
#else
extern "C" {
void* memcpy(void* dest, const void* src, size_t n);
void* memmove(void* dest, const void* src, size_t n);
void* memset(void* dest, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
void* memchr(const void* s, int c, size_t n);
size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
char* strchr(const char* s, int c);
}
// -ffreestanding makes every memcpy and memset a call, even for eight
// bytes (a relocation, a struct field): through the builtins a small
// constant size becomes plain moves, anything else still calls ours.
#define memcpy(dest, src, n) __builtin_memcpy(dest, src, n)
#define memset(dest, c, n) __builtin_memset(dest, c, n)
#endif
