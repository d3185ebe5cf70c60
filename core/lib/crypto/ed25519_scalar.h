// Integers modulo the group order L = 2^252 + 27742317777372353535851937790883648493
// for Ed25519 verification (ed25519.cpp and its tests): reduction,
// multiplication, signed-digit recoding and the reduction of a challenge to
// a pair of short scalars.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::ed25519_scalar {

// A non-negative integer below 2^256, four 64-bit limbs, little-endian.
struct Scalar {
    uint64_t v[4];
};

constexpr Scalar order_l = { { 0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000 } };

Scalar scalar_from_bytes(const uint8_t* s);
bool scalar_less(const Scalar& a, const Scalar& b);
int scalar_bit_length(const Scalar& a);
// A 64-byte little-endian number (a SHA-512 digest) mod L.
Scalar reduce_wide(const uint8_t* bytes);
// a b mod L.
Scalar mul_mod_l(const Scalar& a, const Scalar& b);
// -a mod L, for a < L.
Scalar negate_mod_l(const Scalar& a);

// The `count` bits of a from bit `shift` up (count <= 256; zeros past
// bit 255): a = sum over parts of scalar_bits(a, shift, count) 2^shift.
Scalar scalar_bits(const Scalar& a, int shift, int count);

// Width-w non-adjacent form: a = sum digits[i] 2^i with every digit 0 or
// odd in (-2^(w-1), 2^(w-1)), and any two nonzero digits at least w places
// apart, so adding precomputed odd multiples costs about bits / (w + 1)
// additions. For w <= 8. Fills all wnaf_digits digits; returns how many are
// in use (one past the highest nonzero digit).
constexpr size_t wnaf_digits = 256 + 8;
size_t scalar_to_wnaf(const Scalar& a, int width, int8_t* digits);

// Verification splits its long scalars into parts of split_bits bits,
// each against its own table of odd multiples: B, [2^64]B, [2^128]B and
// [2^192]B for a 253-bit scalar, A, [2^64]A and [2^128]A for d below.
constexpr int split_bits = 64;
constexpr int key_parts = 3;

// For k < L: integers c and d with d = c k (mod L), c odd and 0 < |c| < L.
// For most k, |c| < 2^61 and d < 2^192 (key_parts parts of split_bits):
// an unbalanced pair, whose longest part is about a quarter of L's length
// (ed25519.cpp says why that is as exact as the balanced one). d is never
// negative; c is -|c| when c_negative.
struct ChallengePair {
    Scalar c;
    bool c_negative;
    Scalar d;
};
ChallengePair challenge_pair(const Scalar& k);

// The doublings a pair costs: the longest of c and d's parts (at least
// split_bits, the length of e's parts).
int challenge_pair_length(const ChallengePair& pair);

} // namespace keel::ed25519_scalar
