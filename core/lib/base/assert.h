// Assertions for the kernel's own invariants (never for input: a module
// file, an archive or a command line that breaks a rule gets an error).
//
//     VERIFY(count <= capacity);     always checked
//     ASSERT(list.contains(node));   checked unless the build defines NDEBUG
//     VERIFY_NOT_REACHED();
//     Page* page = MUST(alloc_page());   a Result that cannot fail here
//
// A failure panics (in the kernel) or aborts (in host builds) naming the
// expression, the file and the line; the kernel's panic adds a backtrace.
// Result::value() of an error traps (__builtin_trap: one instruction per
// use, where a call with a message would cost the image 4 KiB); the trap's
// panic names the function that asked.
#pragma once

#include "lib/base/errno.h"

namespace keel {

[[noreturn, gnu::cold]] void assertion_failed(const char* expression, const char* file, unsigned line);
[[noreturn, gnu::cold]] void must_failed(const char* expression, Error error, const char* file, unsigned line);

} // namespace keel

#define VERIFY(expression)                                                                                             \
    (__builtin_expect(!!(expression), 1) ? (void)0 : ::keel::assertion_failed(#expression, __FILE_NAME__, __LINE__))

#define VERIFY_NOT_REACHED() ::keel::assertion_failed("not reached", __FILE_NAME__, __LINE__)

#ifdef NDEBUG
#define ASSERT(expression) ((void)sizeof(!(expression)))
#else
#define ASSERT(expression) VERIFY(expression)
#endif

// The value of a Result that cannot be an error here; panics if it is.
#define MUST(expression)                                                                                               \
    ({                                                                                                                 \
        auto _keel_must_result = (expression);                                                                         \
        if (__builtin_expect(_keel_must_result.is_error(), 0))                                                         \
            ::keel::must_failed(#expression, _keel_must_result.error(), __FILE_NAME__, __LINE__);                      \
        _keel_must_result.release_value();                                                                             \
    })
