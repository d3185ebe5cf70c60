// SHA-512 (FIPS 180-4). Keel hashes module images and public keys with it:
// Ed25519 needs SHA-512 anyway, and with 64-bit words it runs faster than
// SHA-256 in software on 64-bit CPUs (tests/unit/crypto/bench_hash.cpp
// measures both). Streaming: construct, update() any number of times, then
// finish(); or the one-shot Sha512::hash().
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct Sha512Digest {
    static constexpr size_t size = 64;
    uint8_t bytes[size];
};

class Sha512 {
public:
    static constexpr size_t block_size = 128;

    Sha512() { reset(); }

    // Starts a new message, forgetting anything hashed so far.
    void reset();
    void update(const void* data, size_t size);
    // Pads and returns the digest. The object must be reset() before reuse.
    Sha512Digest finish();

    static Sha512Digest hash(const void* data, size_t size);

private:
    void compress(const uint8_t* block);

    uint64_t m_state[8];
    uint64_t m_length; // bytes so far; 2^64 bytes is far beyond any module
    uint8_t m_buffer[block_size];
    size_t m_buffered;
};

} // namespace keel
