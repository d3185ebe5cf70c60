// Why a module was refused, in words a module author can act on: the part
// of the file, the field and the value ("program header 2 (PT_LOAD):
// p_offset 0x1000 + p_filesz 0x2000 exceeds file size 0x1800"). The error
// code alone (ENOEXEC) cannot say which of a hundred checks failed.
#pragma once

#include "lib/base/result.h"

namespace keel {

struct Diagnostic {
    // Always NUL-terminated; empty until something fails. Long messages
    // are truncated rather than overflowing.
    char message[256] = {};

    void clear() { message[0] = '\0'; }
};

// Formats the message into `diagnostic` and returns ENOEXEC, the error for
// every malformed or unsupported module: `return reject(d, "...", ...);`.
Err reject(Diagnostic& diagnostic, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Same, with another error code (a resolver failing with ENOENT).
Err reject_with(Error error, Diagnostic& diagnostic, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

} // namespace keel
