// XXH64, the 64-bit xxHash that Zstandard frames carry (the low 32 bits of
// the hash of the decompressed content, seed 0), computed incrementally
// because the content is produced block by block.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

class Xxh64 {
public:
    explicit Xxh64(uint64_t seed = 0) { reset(seed); }

    void reset(uint64_t seed = 0);
    void update(const void* data, size_t size);
    uint64_t digest() const;

private:
    uint64_t m_lanes[4];
    uint64_t m_seed;
    uint64_t m_total;
    uint8_t m_pending[32]; // bytes not yet folded into a 32-byte stripe
    size_t m_pending_size;
};

} // namespace keel
