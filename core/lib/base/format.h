// printf-style formatting without a C library: the kernel's console, log
// and panic paths all format through vformat_to, which streams pieces to a
// callback so nothing needs a buffer large enough for the whole message.
//
// Supported: %d %i %u %x %X %o %c %s %p %%; flags '-' '0' '+' ' ' '#';
// width as a number or '*'; precision ('.N' or '.*') for strings and
// integers (minimum digit count, as printf); length modifiers hh h l ll z j t.
// %p prints "0x" and 16 hex digits; %s with a null pointer prints "(null)".
// An unknown conversion is copied to the output as written, so a bad format
// string is visible rather than silently eating arguments. There is no
// floating point: kernel code does not use the FPU.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace keel {

// Receives the formatted output piece by piece; `text` is not NUL-terminated.
using FormatEmit = void (*)(void* ctx, const char* text, size_t length);

// Streams the formatted text to `emit` and returns its total length.
size_t vformat_to(FormatEmit emit, void* ctx, const char* fmt, va_list args);
size_t format_to(FormatEmit emit, void* ctx, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// snprintf semantics: writes at most size-1 characters plus a NUL when
// size > 0 and returns the length the full output would have had, so
// `result >= size` means it was truncated.
size_t vformat(char* buffer, size_t size, const char* fmt, va_list args);
size_t format(char* buffer, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

} // namespace keel
