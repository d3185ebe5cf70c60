// Endorsement records (docs/module-signing.md): a trusted key vouches for
// a vendor's public key, which a keyring may then accept at run time.
//
//   off  size  field
//   0    8     magic "KeelEndo"
//   8    2     version (1)
//   10   2     algorithm (1: Ed25519)
//   12   2     description_length N (at most 1024)
//   14   2     reserved (0)
//   16   32    vendor public key (Ed25519)
//   48   16    vendor key id (must be the id of the key above)
//   64   16    endorsing key id
//   80   N     description: printable ASCII, no NUL
//   80+N 64    Ed25519 signature by the endorsing key over bytes [0, 80+N)
//
// All integers little-endian; the file is exactly 144 + N bytes.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"
#include "lib/crypto/keys.h"

namespace keel {

namespace endorsement_format {

constexpr char magic[8] = { 'K', 'e', 'e', 'l', 'E', 'n', 'd', 'o' };
constexpr uint16_t version = 1;
constexpr size_t header_size = 80;
constexpr size_t max_description_size = 1024;
constexpr size_t min_size = header_size + ed25519_signature_size;

} // namespace endorsement_format

// Views into the record.
struct Endorsement {
    const uint8_t* vendor_public_key; // 32 bytes, checked with ed25519_check_public_key
    KeyId vendor_key_id;
    KeyId endorser_key_id;
    const char* description; // not NUL-terminated
    size_t description_size;
    const uint8_t* signed_bytes; // what the signature covers
    size_t signed_size;
    const uint8_t* signature; // 64 bytes
};

// Checks every field (not the signature). EBADMSG with a diagnostic naming
// the field for anything malformed, including a vendor key that could not
// verify anything (non-canonical, not on the curve, small order).
Result<Endorsement> parse_endorsement(const uint8_t* data, size_t size, Diagnostic* diagnostic);

struct EndorsementCheck {
    Endorsement endorsement;
    const TrustedKey* endorser; // which of the caller's keys signed it
};

// Parses and verifies against the keys allowed to endorse (the built-in
// ones). EBADMSG malformed, ENOKEY endorser not among `keys`,
// EKEYREJECTED bad signature.
Result<EndorsementCheck> verify_endorsement(
    const uint8_t* data, size_t size, const TrustedKey* keys, size_t key_count, Diagnostic* diagnostic);

// For host tools: writes the signed part (header_size + description_size
// bytes) to `out`; the caller signs it and appends the signature.
// description_size must not exceed max_description_size.
void make_endorsement_header(const uint8_t* vendor_public_key, const KeyId& endorser_key_id, const char* description,
    size_t description_size, uint8_t* out);

} // namespace keel
