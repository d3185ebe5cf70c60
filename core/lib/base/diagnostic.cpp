#include "lib/base/diagnostic.h"

#include <stdarg.h>

#include "lib/base/format.h"

namespace keel {

Err reject(Diagnostic& diagnostic, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vformat(diagnostic.message, sizeof(diagnostic.message), fmt, args);
    va_end(args);
    return Err(Error::ENOEXEC);
}

Err reject_with(Error error, Diagnostic& diagnostic, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vformat(diagnostic.message, sizeof(diagnostic.message), fmt, args);
    va_end(args);
    return Err(error);
}

} // namespace keel
