// No compression function of the architecture's own: blake2b.cpp's C++
// one does all the work (x86_64's and AArch64's headers explain when there
// is one).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::crypto_arch {

inline bool blake2b_compress(uint64_t*, const uint8_t*, size_t, uint64_t, bool) { return false; }

} // namespace keel::crypto_arch
