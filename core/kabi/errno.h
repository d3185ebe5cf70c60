// The ABI returns negative errno values; keel::Error holds the same numbers.
#pragma once

#include <stdint.h>

#include "lib/base/errno.h"

namespace keel {

constexpr int32_t kabi_error(Error error) { return -static_cast<int32_t>(error); }

} // namespace keel
