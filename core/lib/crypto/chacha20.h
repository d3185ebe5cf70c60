// ChaCha20 (RFC 8439 section 2.3/2.4): the block function and a keystream
// generator, for the kernel's random number generator (core/random). Not
// used for encryption: there is no nonce management beyond what the
// generator needs.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct ChaCha20Key {
    static constexpr size_t size = 32;
    uint8_t bytes[size];
};

// One 64-byte block of keystream for (key, counter, nonce), RFC 8439 2.3.
void chacha20_block(const ChaCha20Key& key, uint32_t counter, const uint8_t nonce[12], uint8_t out[64]);

// XORs `size` bytes of `data` with the keystream starting at block
// `counter` (RFC 8439 2.4); `data` may be all zeros to get the keystream.
void chacha20_xor(const ChaCha20Key& key, uint32_t counter, const uint8_t nonce[12], uint8_t* data, size_t size);

} // namespace keel
