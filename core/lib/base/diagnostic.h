// Why something was refused, in words its author can act on: the part of
// the input, the field and the value ("program header 2 (PT_LOAD):
// p_offset 0x1000 + p_filesz 0x2000 exceeds file size 0x1800"). The error
// code alone (ENOEXEC) cannot say which of a hundred checks failed. One type
// for every parser and checker: the ELF checks, the crypto, the cpio
// reader, the loader, the VFS's checks of a module's tables.
//
//     Result<void> check(..., Diagnostic& diagnostic)
//     {
//         if (bad)
//             return diagnostic.fail(Error::EINVAL, "field %s is %u", ...);
//     }
//
// Functions whose callers may not want the words take a Diagnostic* that
// may be null, and write through diagnose().
#pragma once

#include <stddef.h>

#include "lib/base/result.h"

namespace keel {

struct Diagnostic {
    static constexpr size_t kCapacity = 320;

    // Always NUL-terminated; empty until something fails. Long messages are
    // truncated rather than overflowing. Only the first byte is set when a
    // Diagnostic is made: hot paths make one per call (each virtqueue
    // operation), and zeroing all of it was a fifth of a UDP send's guest
    // instructions under TCG (docs/performance.md, "Issue 16, the send path").
    char message[kCapacity];

    Diagnostic() { message[0] = '\0'; }

    void clear() { message[0] = '\0'; }
    bool empty() const { return message[0] == '\0'; }
    // Formats the message and returns `error`, for `return d.fail(...)`.
    Err fail(Error error, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    // Puts "PREFIX" before what the message says ("tmpfs: " + the reason).
    void prefix(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
};

// Writes the message when there is a diagnostic to write to.
void diagnose(Diagnostic* diagnostic, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Formats the message into `diagnostic` and returns ENOEXEC, the error for
// every malformed or unsupported module: `return reject(d, "...", ...);`.
Err reject(Diagnostic& diagnostic, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Same, with another error code (a resolver failing with ENOENT).
Err reject_with(Error error, Diagnostic& diagnostic, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

} // namespace keel
