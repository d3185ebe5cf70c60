// Host builds (tests, fuzzers, tools): a failed assertion aborts, which
// the sanitizers and libFuzzer report with a stack trace.
#include <stdio.h>
#include <stdlib.h>

#include "lib/base/assert.h"

namespace keel {

void assertion_failed(const char* expression, const char* file, unsigned line)
{
    fprintf(stderr, "ASSERTION FAILED: %s at %s:%u\n", expression, file, line);
    abort();
}

void must_failed(const char* expression, Error error, const char* file, unsigned line)
{
    fprintf(stderr, "MUST(%s) failed with %s at %s:%u\n", expression, error_name(error), file, line);
    abort();
}

} // namespace keel
