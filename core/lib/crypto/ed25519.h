// Ed25519 signature verification (RFC 8032 section 5.1.7), strict in the
// way libsodium's crypto_sign_verify_detached is: besides the RFC's checks
// it refuses a non-canonical S (S >= L, which would make signatures
// malleable), non-canonical encodings of R and A (y >= p), and R or A of
// small order (in the 8-torsion subgroup), for which a signature can be
// valid for many messages. Verification is cofactorless: [S]B - [k]A is
// encoded and compared byte for byte with R, as libsodium and OpenSSL do.
//
// Only verification lives in the kernel; signing happens in host tools with
// OpenSSL. Nothing here is constant time: every input is public.
#pragma once

#include <stddef.h>
#include <stdint.h>

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

} // namespace keel
