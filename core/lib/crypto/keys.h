// Public keys as the module-signing formats name them, and the diagnostic
// buffer their parsers explain refusals in.
//
// A key id is the first 16 bytes of SHA-512 over the 32-byte Ed25519
// public key. 128 bits make an accidental collision between keys
// impossible in practice; a deliberate one gains nothing, because the
// signature is still checked against the full public key the id selects.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/crypto/ed25519.h"

namespace keel {

struct KeyId {
    static constexpr size_t size = 16;
    uint8_t bytes[size];

    bool operator==(const KeyId& other) const;
};

KeyId key_id_of(const uint8_t* public_key);

// Lower-case hex, 32 digits and a NUL.
constexpr size_t key_id_text_size = 2 * KeyId::size + 1;
void format_key_id(const KeyId& id, char* text);

// A key a verifier may accept signatures from. `tag` is the caller's: a
// keyring stores its own entry there and gets it back from a verification.
struct TrustedKey {
    KeyId id;
    uint8_t public_key[ed25519_public_key_size];
    // The key prepared for verification, owned by whoever made this entry
    // (a keyring prepares each key once, when it enters). Without one,
    // every verification prepares the key again.
    const Ed25519PublicKey* prepared;
    const void* tag;
};

// Computes the id; the caller should check the key with
// ed25519_check_public_key before trusting it. `prepared`, if given, must
// be `public_key` prepared and outlive the TrustedKey.
TrustedKey make_trusted_key(const uint8_t* public_key, const void* tag, const Ed25519PublicKey* prepared = nullptr);
// The same with the id computed beforehand (built-in keys: by the build).
TrustedKey make_trusted_key_with_id(
    const KeyId& id, const uint8_t* public_key, const void* tag, const Ed25519PublicKey* prepared);

// Verifies with the prepared key when there is one.
Ed25519Status verify_with_trusted_key(
    const TrustedKey& key, const uint8_t* signature, const void* message, size_t message_size);

const TrustedKey* find_trusted_key(const TrustedKey* keys, size_t count, const KeyId& id);

} // namespace keel
