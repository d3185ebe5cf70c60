// A module's parameters given on the kernel command line, as Linux's
// modprobe reads them from /proc/cmdline: `edu_test.dma_bits=32` is
// parameter `dma_bits=32` of module edu_test ('-' and '_' are the same in
// the module's name). Autoload and modprobe pass them to the module.
#pragma once

#include <stddef.h>

#include "lib/base/result.h"

namespace keel {

// Parses `cmdline` (a copy: it is parsed in place) and writes the
// parameters of `module` into `out` as "key=value key2" (values holding
// whitespace, or empty, in double quotes; the parser has removed every
// quote of the line), in command-line order. Returns the length; ERANGE
// when they do not fit in `size`.
Result<size_t> module_params_from_cmdline(char* cmdline, const char* module, char* out, size_t size);

} // namespace keel
