// Building a modalias or an alias pattern in a caller's buffer: appends
// that remember whether everything fitted, and modpost's two idioms (a
// field that is a fixed-width hex number or "*", and the trailing
// wildcard). Private to lib/devmatch.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel::devmatch {

class TextBuffer {
public:
    TextBuffer(char* buffer, size_t size);

    void append(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    void append_char(char c);
    // NAME then the value as 8 (or 2) upper-case hex digits, or "*".
    void field32(const char* name, bool exact, uint32_t value);
    void field8(const char* name, bool exact, uint8_t value);
    // modpost's add_wildcard: a "*" at the end, unless there is one.
    void add_wildcard();

    size_t length() const { return m_length; }
    char* data() { return m_buffer; }
    // The length written, or ERANGE when something did not fit (the buffer
    // then holds a truncated, NUL-terminated string).
    Result<size_t> finish() const;

private:
    char* m_buffer;
    size_t m_size;
    size_t m_length = 0;
    bool m_overflow = false;
};

} // namespace keel::devmatch
