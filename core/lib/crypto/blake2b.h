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

// The compression function F (section 3.2) in C++ alone, whatever the
// architecture offers (crypto_arch/blake2b_compress.h): `counter` is the
// message length up to and including `block`. Tests compare both.
void blake2b_compress_portable(uint64_t* state, const uint8_t* block, uint64_t counter, bool last);

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
    // `count` consecutive blocks; `counter`: the message length up to and
    // including the first; `last`: the one block is the message's last.
    void compress(const uint8_t* blocks, size_t count, uint64_t counter, bool last);

    uint64_t m_state[8];
    uint64_t m_length; // bytes so far: the low word of RFC 7693's counter t, the high word stays 0
    uint8_t m_buffer[block_size];
    size_t m_buffered;
};

} // namespace keel
