// diagnose() for code that links the parsers but not the formatter (the
// protocol modules, modules/meson.build): the message is the format
// string itself, the values left out ("icmp: bad checksum %#06x"), so it
// still says which check refused the input. The modules pass no
// Diagnostic to the parsers today, so nothing they print changes; leaving
// lib/base/format.cpp out keeps about 5 KiB out of each of them. The rest
// of lib/base/diagnostic.cpp (fail, prefix, reject) formats and is not
// here: code that needs it links diagnostic.cpp and the formatter.
#include <stdarg.h>

#include "lib/base/diagnostic.h"

namespace keel {

void diagnose(Diagnostic* diagnostic, const char* fmt, ...)
{
    if (!diagnostic)
        return;
    size_t length = 0;
    while (fmt[length] && length + 1 < sizeof(diagnostic->message)) {
        diagnostic->message[length] = fmt[length];
        length++;
    }
    diagnostic->message[length] = '\0';
}

} // namespace keel
