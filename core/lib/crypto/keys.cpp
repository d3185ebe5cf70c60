#include "lib/crypto/keys.h"

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/crypto/sha512.h"

namespace keel {

bool KeyId::operator==(const KeyId& other) const { return memcmp(bytes, other.bytes, size) == 0; }

KeyId key_id_of(const uint8_t* public_key)
{
    Sha512Digest digest = Sha512::hash(public_key, ed25519_public_key_size);
    KeyId id;
    memcpy(id.bytes, digest.bytes, KeyId::size);
    return id;
}

void format_key_id(const KeyId& id, char* text)
{
    constexpr char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < KeyId::size; ++i) {
        text[2 * i] = digits[id.bytes[i] >> 4];
        text[2 * i + 1] = digits[id.bytes[i] & 15];
    }
    text[2 * KeyId::size] = '\0';
}

TrustedKey make_trusted_key(const uint8_t* public_key, const void* tag, const Ed25519PublicKey* prepared)
{
    return make_trusted_key_with_id(key_id_of(public_key), public_key, tag, prepared);
}

TrustedKey make_trusted_key_with_id(
    const KeyId& id, const uint8_t* public_key, const void* tag, const Ed25519PublicKey* prepared)
{
    TrustedKey key;
    key.id = id;
    memcpy(key.public_key, public_key, ed25519_public_key_size);
    key.prepared = prepared;
    key.tag = tag;
    return key;
}

Ed25519Status verify_with_trusted_key(
    const TrustedKey& key, const uint8_t* signature, const void* message, size_t message_size)
{
    if (key.prepared)
        return ed25519_verify_prepared(signature, *key.prepared, message, message_size);
    return ed25519_verify_detailed(signature, key.public_key, message, message_size);
}

const TrustedKey* find_trusted_key(const TrustedKey* keys, size_t count, const KeyId& id)
{
    for (size_t i = 0; i < count; ++i) {
        if (keys[i].id == id)
            return &keys[i];
    }
    return nullptr;
}

} // namespace keel
