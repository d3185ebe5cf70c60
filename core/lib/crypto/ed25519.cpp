// Ed25519 verification (RFC 8032 section 5.1.7) on the group operations of
// curve25519.h and the scalar arithmetic of ed25519_scalar.h.
//
// With k = SHA-512(R || A || M) mod L, a signature (R, S) on M under A is
// valid when [S]B - [k]A encodes to R. Two ways to check it:
//
//  * full length: compute [S]B - [k]A, encode it (a field inversion) and
//    compare the bytes with R, as libsodium does: 253-bit scalars, so about
//    253 doublings (here 128 and more additions: k is split against A,
//    [2^64]A and [2^128]A);
//  * short (Antipa et al. 2005, "Accelerated verification of ECDSA
//    signatures"; Pornin 2020, "Optimized lattice basis reduction in
//    dimension 2, and fast Schnorr and EdDSA signature verification"): find
//    c and d with d = c k (mod L) and check [e]B - [d]A - [c]R = identity,
//    e = c S mod L. The literature balances c and d (about 127 bits each).
//    Here they are unbalanced, c of about 61 bits and d of about 192
//    (challenge_pair): e is four 64-bit parts against tables of B,
//    [2^64]B, [2^128]B and [2^192]B, d three against A, [2^64]A and
//    [2^128]A (prepared with the key), c one against R's odd multiples:
//    about 65 doublings instead of 128, and no inversion, but R must be
//    decoded.
//
// The short check computes [c]T for T = [S]B - [k]A - R, and is the byte
// comparison exactly (cofactorless, as libsodium's) when
//  (a) c is odd: T's order divides 8L, and [c]T = identity with
//      0 < |c| < L needs the order to divide c, which for odd c leaves only
//      T = identity. An even c would accept R plus a point of order 2.
//      Nothing in this needs c and d of equal length;
//  (b) A has no torsion component: [d]A = [c k]A needs [L]A = identity.
// challenge_pair always returns an odd c with 0 < |c| < L, and
// ed25519_prepare_key records (b); keys without it take the full-length
// path.
#include "lib/crypto/ed25519.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"
#include "lib/crypto/ed25519_scalar.h"
#include "lib/crypto/sha512.h"

namespace keel {

using namespace curve25519;
using namespace ed25519_scalar;

namespace {

// A key's odd multiples, computed once, go up to 15 [2^(64 j)]A (three
// tables of eight keep the prepared key near 3 KiB); R's, computed for each
// signature for a c of about 61 bits, up to 7 R.
constexpr int key_table_window = Ed25519PublicKey::table_window;
static_assert(Ed25519PublicKey::table_size <= max_affine_multiples);
static_assert(base_table_split == split_bits && Ed25519PublicKey::table_count == size_t(key_parts));
constexpr int r_table_window = 4;
constexpr size_t r_table_size = size_t(1) << (r_table_window - 2);

// y < p for an encoded point (bit 255 masked off). p = 2^255 - 19 is
// 0xed, 0xff x 30, 0x7f in little-endian bytes, so only encodings whose
// top 250 bits are all ones can reach it.
bool encoding_is_canonical(const uint8_t* s)
{
    if ((s[31] & 0x7f) != 0x7f)
        return true;
    for (int i = 30; i >= 1; --i) {
        if (s[i] != 0xff)
            return true;
    }
    return s[0] < 0xed;
}

// Canonical y coordinates of the eight points of order dividing 8: the
// identity (y = 1), the point of order 2 (y = -1), the two of order 4
// (y = 0) and the four of order 8 (y = +-c, c a root of d y^4 + 2 y^2 = 1).
// Either sign of x gives a small-order point or no point at all.
constexpr uint8_t small_order_y[5][32] = {
    { 0 },
    { 1 },
    { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac,
        0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
    { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53,
        0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
};

// For a canonical encoding: does it name a point of small order? Cheaper
// than decoding, which R otherwise never needs.
bool encoding_has_small_order(const uint8_t* s)
{
    for (const auto& y : small_order_y) {
        if (memcmp(s, y, 31) == 0 && (s[31] & 0x7f) == y[31])
            return true;
    }
    return false;
}

// One scalar of a multi-scalar multiplication: its signed digits and the
// odd multiples of its point that they select.
struct Term {
    int8_t digits[wnaf_digits];
    size_t length;
    const Cached* cached; // exactly one of cached and niels is set
    const Niels* niels;
    bool subtract; // the term is -[scalar]P

    void set(const Scalar& scalar, int window, const Cached* cached_table, const Niels* niels_table, bool negate)
    {
        cached = cached_table;
        niels = niels_table;
        subtract = negate;
        length = scalar_to_wnaf(scalar, window, digits);
    }
};

CompletedPoint add_multiple(const Point& p, const Term& term, int digit)
{
    bool subtract = (digit < 0) != term.subtract;
    size_t index = size_t(digit < 0 ? -digit : digit) / 2;
    if (term.niels)
        return subtract ? point_sub(p, term.niels[index]) : point_add(p, term.niels[index]);
    return subtract ? point_sub(p, term.cached[index]) : point_add(p, term.cached[index]);
}

// The sum of the terms, walked together from the top digit down (Straus)
// so that they share the doublings. A doubling followed by another one
// skips the extended coordinate T.
ProjectivePoint multi_scalar_mult(const Term* terms, size_t count)
{
    size_t length = 0;
    for (size_t j = 0; j < count; ++j)
        length = terms[j].length > length ? terms[j].length : length;
    ProjectivePoint r = { fe_zero, fe_one, fe_one };
    for (size_t i = length; i-- > 0;) {
        CompletedPoint sum = point_double(r);
        for (size_t j = 0; j < count; ++j) {
            if (int digit = terms[j].digits[i])
                sum = add_multiple(to_extended(sum), terms[j], digit);
        }
        r = to_projective(sum);
    }
    return r;
}

Ed25519Status decode_key(const uint8_t* public_key, Point& a)
{
    if (!encoding_is_canonical(public_key))
        return Ed25519Status::NonCanonicalKey;
    if (!point_decode(a, public_key))
        return Ed25519Status::KeyNotOnCurve;
    if (point_has_small_order(a))
        return Ed25519Status::SmallOrderKey;
    return Ed25519Status::Valid;
}

// The checks on (R, S) alone, which come before the key's.
Ed25519Status check_signature_encoding(const uint8_t* signature, Scalar& s)
{
    const uint8_t* r_bytes = signature;
    s = scalar_from_bytes(signature + 32);
    if (!scalar_less(s, order_l))
        return Ed25519Status::NonCanonicalS;
    if (!encoding_is_canonical(r_bytes))
        return Ed25519Status::NonCanonicalR;
    if (encoding_has_small_order(r_bytes))
        return Ed25519Status::SmallOrderR;
    return Ed25519Status::Valid;
}

// k = SHA-512(R || A || M) mod L
Scalar challenge(const uint8_t* signature, const Ed25519PublicKey& key, const void* message, size_t message_size)
{
    Sha512 sha;
    sha.update(signature, 32);
    sha.update(key.bytes, ed25519_public_key_size);
    sha.update(message, message_size);
    return reduce_wide(sha.finish().bytes);
}

// The terms of [s]B for s < 2^256: its 64-bit parts against the base
// tables.
void base_terms(const Scalar& s, Term* terms)
{
    for (size_t j = 0; j < base_table_count; ++j)
        terms[j].set(scalar_bits(s, int(j) * split_bits, j + 1 < base_table_count ? split_bits : 256),
            base_table_window, nullptr, base_table[j], false);
}

// The terms of -[s]A for s below 2^256: its parts against the key's
// tables, the last one taking every bit above the others (long only for
// the full-length check and the rare long pair).
void key_terms(const Scalar& s, const Ed25519PublicKey& key, Term* terms)
{
    for (size_t j = 0; j < Ed25519PublicKey::table_count; ++j)
        terms[j].set(scalar_bits(s, int(j) * split_bits, j + 1 < Ed25519PublicKey::table_count ? split_bits : 256),
            key_table_window, nullptr, key.odd_multiples[j], true);
}

constexpr size_t term_count = base_table_count + Ed25519PublicKey::table_count;

Ed25519Status check_full_length(const uint8_t* signature, const Scalar& s, const Scalar& k, const Ed25519PublicKey& key)
{
    Term terms[term_count];
    base_terms(s, terms);
    key_terms(k, key, terms + base_table_count);
    uint8_t r_check[32];
    point_encode(r_check, multi_scalar_mult(terms, term_count));
    return memcmp(r_check, signature, 32) == 0 ? Ed25519Status::Valid : Ed25519Status::EquationMismatch;
}

Ed25519Status check_short(const uint8_t* signature, const Scalar& s, const Scalar& k, const Ed25519PublicKey& key)
{
    // An R no point has never equals an encoded [S]B - [k]A.
    Point r;
    if (!point_decode(r, signature))
        return Ed25519Status::EquationMismatch;
    ChallengePair pair = challenge_pair(k);
    Scalar e = mul_mod_l(pair.c, s);
    if (pair.c_negative)
        e = negate_mod_l(e);
    Cached r_multiples[r_table_size];
    odd_multiples(r, r_multiples, r_table_size);
    // [e]B - [d]A - [c]R, with c = -|c| when c_negative.
    Term terms[term_count + 1];
    base_terms(e, terms);
    key_terms(pair.d, key, terms + base_table_count);
    terms[term_count].set(pair.c, r_table_window, r_multiples, nullptr, !pair.c_negative);
    return point_is_identity(multi_scalar_mult(terms, term_count + 1)) ? Ed25519Status::Valid
                                                                       : Ed25519Status::EquationMismatch;
}

} // namespace

const char* ed25519_status_text(Ed25519Status status)
{
    switch (status) {
    case Ed25519Status::Valid: return "valid";
    case Ed25519Status::NonCanonicalS: return "S is not below the group order (non-canonical, malleable)";
    case Ed25519Status::NonCanonicalR: return "R is a non-canonical point encoding";
    case Ed25519Status::SmallOrderR: return "R is a point of small order";
    case Ed25519Status::NonCanonicalKey: return "public key is a non-canonical point encoding";
    case Ed25519Status::KeyNotOnCurve: return "public key is not a point on the curve";
    case Ed25519Status::SmallOrderKey: return "public key is a point of small order";
    case Ed25519Status::EquationMismatch: return "signature does not match the key and message";
    }
    return "unknown status";
}

Ed25519Status ed25519_check_public_key(const uint8_t* public_key)
{
    Point a;
    return decode_key(public_key, a);
}

Ed25519Status ed25519_prepare_key(const uint8_t* public_key, Ed25519PublicKey& key)
{
    memcpy(key.bytes, public_key, ed25519_public_key_size);
    key.torsion_free = false;
    Point a;
    key.status = decode_key(public_key, a);
    if (key.status != Ed25519Status::Valid)
        return key.status;
    Point shifted = a; // [2^(64 j)]A
    for (size_t j = 0; j < Ed25519PublicKey::table_count; ++j) {
        if (j > 0) {
            for (int i = 0; i < split_bits; ++i)
                shifted = to_extended(point_double(shifted));
        }
        odd_multiples(shifted, key.odd_multiples[j], Ed25519PublicKey::table_size);
    }
    Term l_times_a;
    l_times_a.set(order_l, key_table_window, nullptr, key.odd_multiples[0], false);
    key.torsion_free = point_is_identity(multi_scalar_mult(&l_times_a, 1));
    return key.status;
}

namespace {

// The short check needs a torsion-free key (see the top of this file); the
// full-length one is exact for every key, and tests compare the two.
Ed25519Status verify_prepared(
    const uint8_t* signature, const Ed25519PublicKey& key, const void* message, size_t message_size, bool short_allowed)
{
    Scalar s;
    Ed25519Status status = check_signature_encoding(signature, s);
    if (status != Ed25519Status::Valid)
        return status;
    if (key.status != Ed25519Status::Valid)
        return key.status;
    Scalar k = challenge(signature, key, message, message_size);
    return short_allowed && key.torsion_free ? check_short(signature, s, k, key)
                                             : check_full_length(signature, s, k, key);
}

} // namespace

Ed25519Status ed25519_verify_prepared(
    const uint8_t* signature, const Ed25519PublicKey& key, const void* message, size_t message_size)
{
    return verify_prepared(signature, key, message, message_size, true);
}

Ed25519Status ed25519_verify_full_length(
    const uint8_t* signature, const Ed25519PublicKey& key, const void* message, size_t message_size)
{
    return verify_prepared(signature, key, message, message_size, false);
}

Ed25519Status ed25519_verify_detailed(
    const uint8_t* signature, const uint8_t* public_key, const void* message, size_t message_size)
{
    Ed25519PublicKey key;
    ed25519_prepare_key(public_key, key);
    return ed25519_verify_prepared(signature, key, message, message_size);
}

} // namespace keel
