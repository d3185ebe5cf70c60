// SHA-256 (FIPS 180-4). Not used by the module signature format, which is
// built on SHA-512; kept so the choice between the two can be measured
// (tests/unit/crypto/bench_hash.cpp) and for formats that mandate it.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct Sha256Digest {
    static constexpr size_t size = 32;
    uint8_t bytes[size];
};

class Sha256 {
public:
    static constexpr size_t block_size = 64;

    Sha256() { reset(); }

    void reset();
    void update(const void* data, size_t size);
    // Pads and returns the digest. The object must be reset() before reuse.
    Sha256Digest finish();

    static Sha256Digest hash(const void* data, size_t size);

private:
    void compress(const uint8_t* block);

    uint32_t m_state[8];
    uint64_t m_length;
    uint8_t m_buffer[block_size];
    size_t m_buffered;
};

} // namespace keel
