// BLAKE2b-512 (RFC 7693), unkeyed. Keel hashes module images with it: on
// 64-bit words it does about half the work per byte of SHA-512 (12 rounds
// of additions, xors and rotations against SHA-512's 80 steps with a
// message schedule), which halves the cost of a signature check in the
// guest (docs/module-signing.md has the figures). Streaming: construct,
// update() any number of times, then finish(); or the one-shot
// Blake2b::hash().
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct Blake2bDigest {
    static constexpr size_t size = 64;
    uint8_t bytes[size];
};

class Blake2b {
public:
    static constexpr size_t block_size = 128;

    Blake2b() { reset(); }

    // Starts a new message, forgetting anything hashed so far.
    void reset();
    void update(const void* data, size_t size);
    // Pads and returns the digest. The object must be reset() before reuse.
    Blake2bDigest finish();

    static Blake2bDigest hash(const void* data, size_t size);

private:
    // The last block is compressed with the final flag set, so update()
    // keeps a full block buffered until it knows more data follows.
    void compress(const uint8_t* block, bool last);

    uint64_t m_state[8];
    uint64_t m_length; // bytes so far: the low word of RFC 7693's counter t, the high word stays 0
    uint8_t m_buffer[block_size];
    size_t m_buffered;
};

} // namespace keel
