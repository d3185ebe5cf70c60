// SHA-256 as FIPS 180-4 sections 5.1.1, 5.3.3 and 6.2 describe it.
#include "lib/crypto/sha256.h"

#include "lib/base/string.h"

namespace keel {

namespace {

// The first 32 bits of the fractional parts of the cube roots of the
// first 64 primes (FIPS 180-4 section 4.2.2).
constexpr uint32_t round_constants[64] = { 0x428a2f98U, 0x71374491U, 0xb5c0fbcfU, 0xe9b5dba5U, 0x3956c25bU, 0x59f111f1U,
    0x923f82a4U, 0xab1c5ed5U, 0xd807aa98U, 0x12835b01U, 0x243185beU, 0x550c7dc3U, 0x72be5d74U, 0x80deb1feU, 0x9bdc06a7U,
    0xc19bf174U, 0xe49b69c1U, 0xefbe4786U, 0x0fc19dc6U, 0x240ca1ccU, 0x2de92c6fU, 0x4a7484aaU, 0x5cb0a9dcU, 0x76f988daU,
    0x983e5152U, 0xa831c66dU, 0xb00327c8U, 0xbf597fc7U, 0xc6e00bf3U, 0xd5a79147U, 0x06ca6351U, 0x14292967U, 0x27b70a85U,
    0x2e1b2138U, 0x4d2c6dfcU, 0x53380d13U, 0x650a7354U, 0x766a0abbU, 0x81c2c92eU, 0x92722c85U, 0xa2bfe8a1U, 0xa81a664bU,
    0xc24b8b70U, 0xc76c51a3U, 0xd192e819U, 0xd6990624U, 0xf40e3585U, 0x106aa070U, 0x19a4c116U, 0x1e376c08U, 0x2748774cU,
    0x34b0bcb5U, 0x391c0cb3U, 0x4ed8aa4aU, 0x5b9cca4fU, 0x682e6ff3U, 0x748f82eeU, 0x78a5636fU, 0x84c87814U, 0x8cc70208U,
    0x90befffaU, 0xa4506cebU, 0xbef9a3f7U, 0xc67178f2U };

// The first 32 bits of the fractional parts of the square roots of the
// first 8 primes (section 5.3.3).
constexpr uint32_t initial_state[8]
    = { 0x6a09e667U, 0xbb67ae85U, 0x3c6ef372U, 0xa54ff53aU, 0x510e527fU, 0x9b05688cU, 0x1f83d9abU, 0x5be0cd19U };

inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

inline uint32_t load_be32(const uint8_t* p)
{
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline void store_be32(uint8_t* p, uint32_t value)
{
    p[0] = static_cast<uint8_t>(value >> 24);
    p[1] = static_cast<uint8_t>(value >> 16);
    p[2] = static_cast<uint8_t>(value >> 8);
    p[3] = static_cast<uint8_t>(value);
}

} // namespace

void Sha256::reset()
{
    for (int i = 0; i < 8; ++i)
        m_state[i] = initial_state[i];
    m_length = 0;
    m_buffered = 0;
}

void Sha256::compress(const uint8_t* block)
{
    uint32_t w[16];
    for (int i = 0; i < 16; ++i)
        w[i] = load_be32(block + 4 * i);

    uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3];
    uint32_t e = m_state[4], f = m_state[5], g = m_state[6], h = m_state[7];
    for (int t = 0; t < 64; ++t) {
        if (t >= 16) {
            uint32_t w15 = w[(t - 15) & 15];
            uint32_t w2 = w[(t - 2) & 15];
            uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
            uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
            w[t & 15] += s0 + w[(t - 7) & 15] + s1;
        }
        uint32_t sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t choose = (e & f) ^ (~e & g);
        uint32_t t1 = h + sum1 + choose + round_constants[t] + w[t & 15];
        uint32_t sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = sum0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    m_state[0] += a;
    m_state[1] += b;
    m_state[2] += c;
    m_state[3] += d;
    m_state[4] += e;
    m_state[5] += f;
    m_state[6] += g;
    m_state[7] += h;
}

void Sha256::update(const void* data, size_t size)
{
    // (nullptr, 0) is a valid empty input, but not for memcpy.
    if (size == 0)
        return;
    auto* bytes = static_cast<const uint8_t*>(data);
    m_length += size;
    if (m_buffered > 0) {
        size_t take = block_size - m_buffered;
        if (take > size)
            take = size;
        memcpy(m_buffer + m_buffered, bytes, take);
        m_buffered += take;
        bytes += take;
        size -= take;
        if (m_buffered < block_size)
            return;
        compress(m_buffer);
        m_buffered = 0;
    }
    for (; size >= block_size; size -= block_size, bytes += block_size)
        compress(bytes);
    if (size > 0) {
        memcpy(m_buffer, bytes, size);
        m_buffered = size;
    }
}

Sha256Digest Sha256::finish()
{
    uint64_t bits = m_length << 3;

    m_buffer[m_buffered++] = 0x80;
    if (m_buffered > block_size - 8) {
        memset(m_buffer + m_buffered, 0, block_size - m_buffered);
        compress(m_buffer);
        m_buffered = 0;
    }
    memset(m_buffer + m_buffered, 0, block_size - 8 - m_buffered);
    store_be32(m_buffer + block_size - 8, static_cast<uint32_t>(bits >> 32));
    store_be32(m_buffer + block_size - 4, static_cast<uint32_t>(bits));
    compress(m_buffer);
    m_buffered = 0;

    Sha256Digest digest;
    for (int i = 0; i < 8; ++i)
        store_be32(digest.bytes + 4 * i, m_state[i]);
    return digest;
}

Sha256Digest Sha256::hash(const void* data, size_t size)
{
    Sha256 sha;
    sha.update(data, size);
    return sha.finish();
}

} // namespace keel
