// Error codes: Linux's errno numbers, so they map straight onto the
// Linux-compatible syscall layer and match what module authors know.
// keel::Error is generated from the ABI description's errno table
// (abi/keel.toml, [[errors]]), the one list the core, C, C++ and Rust share.
#pragma once

// Hosted builds (unit tests) also see the C library's errno macros, which
// would turn `Error::ENOMEM` into `Error::12`. Include them once here; the
// generated header then takes every colliding name away, so inclusion order
// does not matter. Host code that includes this header uses keel::Error
// instead of the macros.
#if __STDC_HOSTED__
#include <errno.h>
#endif

#include "lib/errno_table.h"

namespace keel {

// "ENOMEM", "EINVAL", ...; "E?" for a code without a name.
const char* error_name(Error error);

// "Out of memory", "Invalid argument", ...; "Unknown error" for a code
// without a name.
const char* error_description(Error error);

} // namespace keel
