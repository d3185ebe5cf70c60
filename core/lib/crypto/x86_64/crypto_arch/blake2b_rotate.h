// BLAKE2b's rotation for blake2b.cpp's C++ compression function on x86_64
// (CPUs without BMI2, and the host's tests).
#pragma once

#include <stdint.h>

namespace keel::crypto_arch {

// For the C++ compression function: two shifts and an or, not a rotate
// instruction. A rotate leaves some flags unchanged, so QEMU's TCG computes
// the previous instruction's flags out of line before every one, and
// BLAKE2b's 384 rotations per block then cost more in the guest than
// everything else together (the empty asm keeps the compiler from fusing
// the shifts back into a rotate). In the guest this hashes 1.7x faster than
// with rotate instructions; natively it is about a third slower.
template<unsigned n> [[gnu::always_inline]] inline uint64_t blake2b_rotr(uint64_t x)
{
    uint64_t high = x << (64 - n);
    asm("" : "+r"(high));
    return (x >> n) | high;
}

} // namespace keel::crypto_arch
