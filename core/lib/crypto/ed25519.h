// Ed25519 signature verification (RFC 8032 section 5.1.7), strict in the
// way libsodium's crypto_sign_verify_detached is: besides the RFC's checks
// it refuses a non-canonical S (S >= L, which would make signatures
// malleable), non-canonical encodings of R and A (y >= p), and R or A of
// small order (in the 8-torsion subgroup), for which a signature can be
// valid for many messages. Verification is cofactorless: [S]B - [k]A is
// encoded and compared byte for byte with R, as libsodium and OpenSSL do.
//
// A key that verifies many signatures is prepared once (ed25519_prepare_key):
// decoded, checked, its odd multiples precomputed, and whether it has a
// torsion component recorded. Keyrings prepare each key when it enters.
//
// Only verification lives in the kernel; signing happens in host tools with
// OpenSSL. Nothing here is constant time: every input is public.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/crypto/curve25519.h"

namespace keel {

constexpr size_t ed25519_public_key_size = 32;
constexpr size_t ed25519_signature_size = 64;

// Why a signature was refused, for messages; only Valid means valid.
enum class Ed25519Status {
    Valid,
    NonCanonicalS,    // S >= L
    NonCanonicalR,    // R's y coordinate >= p
    SmallOrderR,      // R is one of the eight points of order dividing 8
    NonCanonicalKey,  // A's y coordinate >= p
    KeyNotOnCurve,    // A does not decode to a curve point
    SmallOrderKey,    // A has order dividing 8
    EquationMismatch, // [S]B != R + [k]A: wrong key, message or signature
};

const char* ed25519_status_text(Ed25519Status status);

// `signature` is 64 bytes (R || S), `public_key` 32 bytes.
Ed25519Status ed25519_verify_detailed(
    const uint8_t* signature, const uint8_t* public_key, const void* message, size_t message_size);

inline bool ed25519_verify(
    const uint8_t* signature, const uint8_t* public_key, const void* message, size_t message_size)
{
    return ed25519_verify_detailed(signature, public_key, message, message_size) == Ed25519Status::Valid;
}

// The checks verification applies to a public key on its own: canonical,
// on the curve, not of small order. Valid, NonCanonicalKey, KeyNotOnCurve
// or SmallOrderKey. Keyrings call it before accepting a key.
Ed25519Status ed25519_check_public_key(const uint8_t* public_key);

// A public key decoded for verification (about 3 KiB).
struct Ed25519PublicKey {
    static constexpr int table_window = 5;
    static constexpr size_t table_size = size_t(1) << (table_window - 2);

    uint8_t bytes[ed25519_public_key_size];
    // What ed25519_check_public_key says; a key that is not Valid verifies
    // nothing, and its other fields are unset.
    Ed25519Status status;
    // [L]A is the identity: A lies in the prime-order subgroup, as every
    // honestly generated key does. Only such keys may take the short path
    // (ed25519.cpp explains); others take the full-length one.
    bool torsion_free;
    // odd_multiples[j][i] = (2i + 1) [2^(64 j)]A, affine: a scalar below
    // 2^192 is three 64-bit parts.
    static constexpr size_t table_count = 3;
    curve25519::Niels odd_multiples[table_count][table_size];
};

// Fills `key` and returns its status. Costs about as much as a verification.
// The build prepares built-in keys the same way (scripts/gen-builtin-keys.py),
// and a unit test compares the two.
Ed25519Status ed25519_prepare_key(const uint8_t* public_key, Ed25519PublicKey& key);

// The same verdict as ed25519_verify_detailed with key.bytes.
Ed25519Status ed25519_verify_prepared(
    const uint8_t* signature, const Ed25519PublicKey& key, const void* message, size_t message_size);

// The full-length check, [S]B - [k]A encoded and compared with R, which
// ed25519_verify_prepared uses for keys with a torsion component. Any key
// gets the same verdict either way; tests compare the two.
Ed25519Status ed25519_verify_full_length(
    const uint8_t* signature, const Ed25519PublicKey& key, const void* message, size_t message_size);

} // namespace keel
