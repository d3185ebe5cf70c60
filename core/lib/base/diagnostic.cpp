#include "lib/base/diagnostic.h"

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

Err Diagnostic::fail(Error error, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vformat(message, sizeof(message), fmt, args);
    va_end(args);
    return Err(error);
}

void Diagnostic::prefix(const char* fmt, ...)
{
    char reason[kCapacity];
    size_t kept = strnlen(message, sizeof(reason) - 1);
    memcpy(reason, message, kept);
    reason[kept] = '\0';
    va_list args;
    va_start(args, fmt);
    size_t length = vformat(message, sizeof(message), fmt, args);
    va_end(args);
    if (length < sizeof(message))
        format(message + length, sizeof(message) - length, "%s", reason);
}

void diagnose(Diagnostic* diagnostic, const char* fmt, ...)
{
    if (!diagnostic)
        return;
    va_list args;
    va_start(args, fmt);
    vformat(diagnostic->message, sizeof(diagnostic->message), fmt, args);
    va_end(args);
}

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
