// The kernel's entropy pool and random number generator, without locks or
// hardware (core/random wraps it; tests/unit/random tests it on the host).
//
// Inputs are hashed into a BLAKE2b state; the caller credits what it
// believes an input was worth (a hardware generator: its bits; timings:
// nothing). Once 256 bits are credited the generator is *seeded*: its
// ChaCha20 key is derived from the old key and the pool's hash, and every
// request takes one ChaCha20 block from the key — the first half becomes
// the next key, the second half keys that request's keystream — so a state
// read later does not reveal earlier output (fast key erasure). Each later
// 256 credited bits reseed it. Before it is seeded it still generates
// (from whatever was mixed in) but says so: `ready()` is false.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/crypto/blake2b.h"
#include "lib/crypto/chacha20.h"

namespace keel {

class EntropyPool {
public:
    static constexpr uint32_t kSeedBits = 256;

    EntropyPool();
    ~EntropyPool();
    EntropyPool(const EntropyPool&) = delete;
    EntropyPool& operator=(const EntropyPool&) = delete;

    // Hashes `size` bytes into the pool, crediting `bits` of entropy (at
    // most 8 per byte: more is cut to that).
    void add(const void* data, size_t size, uint32_t bits);

    // `size` random bytes. Reseeds first when enough was credited.
    void generate(void* out, size_t size);

    bool ready() const { return m_seeded; }
    uint64_t credited_bits() const { return m_credited_total; }
    uint32_t pending_bits() const { return m_pending_bits; }
    uint64_t reseeds() const { return m_reseeds; }
    uint64_t bytes_generated() const { return m_generated; }

private:
    void reseed(bool credited);

    Blake2b m_pool;
    ChaCha20Key m_key {};
    uint32_t m_pending_bits = 0;
    uint64_t m_credited_total = 0;
    uint64_t m_reseeds = 0;
    uint64_t m_generated = 0;
    bool m_mixed_since_reseed = false;
    bool m_seeded = false;
};

} // namespace keel
