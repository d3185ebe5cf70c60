// BLAKE2b's rotation for architectures without their own: the compiler
// turns it into a rotate instruction (AArch64's ror touches no flags, and
// under QEMU's TCG is one host instruction).
#pragma once

#include <stdint.h>

namespace keel::crypto_arch {

template<unsigned n> [[gnu::always_inline]] inline uint64_t blake2b_rotr(uint64_t x)
{
    return (x >> n) | (x << (64 - n));
}

} // namespace keel::crypto_arch
