// No compression function of the architecture's own: blake2b.cpp's C++
// one does all the work (the x86_64 header explains when there is one),
// with rotations the compiler turns into rotate instructions (AArch64's
// ror touches no flags, and under QEMU's TCG is one host instruction).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::crypto_arch {

template<unsigned n> [[gnu::always_inline]] inline uint64_t blake2b_rotr(uint64_t x)
{
    return (x >> n) | (x << (64 - n));
}

inline bool blake2b_compress(uint64_t*, const uint8_t*, size_t, uint64_t, bool) { return false; }

} // namespace keel::crypto_arch
