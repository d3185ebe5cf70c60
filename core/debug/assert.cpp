// The kernel's assertion failures (lib/base/assert.h) are panics, with the
// backtrace that names the caller.
#include "lib/base/assert.h"
#include "debug/panic.h"

namespace keel {

void assertion_failed(const char* expression, const char* file, unsigned line)
{
    panic("ASSERTION FAILED: %s at %s:%u", expression, file, line);
}

void must_failed(const char* expression, Error error, const char* file, unsigned line)
{
    panic("MUST(%s) failed with %s at %s:%u", expression, error_name(error), file, line);
}

} // namespace keel
