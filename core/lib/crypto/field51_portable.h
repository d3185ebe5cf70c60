// Multiplication and squaring of field elements mod p = 2^255 - 19 held as
// five 51-bit limbs, in plain C++ with 128-bit products: the reference for
// every architecture's crypto_arch/field51.h (x86_64's is assembly, and the tests
// compare it with this), and the implementation where there is no other.
//
// Both write the five 51-bit limbs of the result's columns, each column's
// carry already added into the next, and return the carry out of the top
// column, which the caller folds back in at limb 0 times 19 (2^255 = 19 mod
// p). Input limbs may be as large as 2^59: column sums stay below 2^125.
#pragma once

#include <stdint.h>

namespace keel::field51_portable {

using u128 = unsigned __int128;

constexpr uint64_t mask51 = (uint64_t(1) << 51) - 1;

inline u128 carry_columns(uint64_t* h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    r1 += r0 >> 51;
    r2 += r1 >> 51;
    r3 += r2 >> 51;
    r4 += r3 >> 51;
    h[0] = uint64_t(r0) & mask51;
    h[1] = uint64_t(r1) & mask51;
    h[2] = uint64_t(r2) & mask51;
    h[3] = uint64_t(r3) & mask51;
    h[4] = uint64_t(r4) & mask51;
    return r4 >> 51;
}

// Limb i * limb j lands at 2^(51(i+j)); past limb 4 it wraps around
// multiplied by 19, hence the pre-multiplied b * 19.
inline u128 mul(uint64_t* h, const uint64_t* a, const uint64_t* b)
{
    uint64_t b1_19 = b[1] * 19, b2_19 = b[2] * 19, b3_19 = b[3] * 19, b4_19 = b[4] * 19;
    u128 r0 = u128(a[0]) * b[0] + u128(a[1]) * b4_19 + u128(a[2]) * b3_19 + u128(a[3]) * b2_19 + u128(a[4]) * b1_19;
    u128 r1 = u128(a[0]) * b[1] + u128(a[1]) * b[0] + u128(a[2]) * b4_19 + u128(a[3]) * b3_19 + u128(a[4]) * b2_19;
    u128 r2 = u128(a[0]) * b[2] + u128(a[1]) * b[1] + u128(a[2]) * b[0] + u128(a[3]) * b4_19 + u128(a[4]) * b3_19;
    u128 r3 = u128(a[0]) * b[3] + u128(a[1]) * b[2] + u128(a[2]) * b[1] + u128(a[3]) * b[0] + u128(a[4]) * b4_19;
    u128 r4 = u128(a[0]) * b[4] + u128(a[1]) * b[3] + u128(a[2]) * b[2] + u128(a[3]) * b[1] + u128(a[4]) * b[0];
    return carry_columns(h, r0, r1, r2, r3, r4);
}

inline u128 square(uint64_t* h, const uint64_t* a)
{
    uint64_t a0_2 = a[0] * 2, a1_2 = a[1] * 2;
    uint64_t a3_19 = a[3] * 19, a4_19 = a[4] * 19;
    u128 r0 = u128(a[0]) * a[0] + u128(a1_2) * a4_19 + u128(a[2] * 2) * a3_19;
    u128 r1 = u128(a0_2) * a[1] + u128(a[2] * 2) * a4_19 + u128(a[3]) * a3_19;
    u128 r2 = u128(a0_2) * a[2] + u128(a[1]) * a[1] + u128(a[3] * 2) * a4_19;
    u128 r3 = u128(a0_2) * a[3] + u128(a1_2) * a[2] + u128(a[4]) * a4_19;
    u128 r4 = u128(a0_2) * a[4] + u128(a1_2) * a[3] + u128(a[2]) * a[2];
    return carry_columns(h, r0, r1, r2, r3, r4);
}

} // namespace keel::field51_portable
