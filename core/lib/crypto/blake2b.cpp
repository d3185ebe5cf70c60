// BLAKE2b as RFC 7693 sections 2 and 3 describe it, for a 64-byte digest
// and no key.
//
// The compression function is written for speed without SIMD (the kernel
// is built with -mno-sse): the 16-word working vector lives in locals, the
// 12 rounds are unrolled, and each round is a template instance, so the
// message schedule (sigma) is resolved at compile time into fixed loads
// from the block instead of table lookups. Where the architecture has a
// faster compression function of its own (crypto_arch/blake2b_compress.h:
// x86_64 with BMI2, AArch64), that one runs instead.
#include "lib/crypto/blake2b.h"

#include "crypto_arch/blake2b_compress.h"
#include "crypto_arch/blake2b_rotate.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"

namespace keel {

namespace {

// The SHA-512 initial state (RFC 7693 section 2.6).
constexpr uint64_t initialization_vector[8] = { 0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL };

// Message word permutations (section 2.7); rounds 10 and 11 reuse 0 and 1.
constexpr uint8_t sigma[12][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

// Digest length 64, key length 0, fanout 1, depth 1 (section 2.5): the
// parameter block's first word, folded into h[0].
constexpr uint64_t parameter_word = 0x01010000ULL | Blake2bDigest::size;

// Each architecture says how to rotate (crypto_arch/blake2b_rotate.h):
// on x86_64 a rotate instruction costs more under QEMU's TCG than
// everything else in the round.
using crypto_arch::blake2b_rotr;

[[gnu::always_inline]] inline uint64_t message_word(const uint8_t* block, size_t index)
{
    return load_le64(block + 8 * index);
}

// The mixing function G (section 3.1).
[[gnu::always_inline]] inline void mix(uint64_t& a, uint64_t& b, uint64_t& c, uint64_t& d, uint64_t x, uint64_t y)
{
    a = a + b + x;
    d = blake2b_rotr<32>(d ^ a);
    c = c + d;
    b = blake2b_rotr<24>(b ^ c);
    a = a + b + y;
    d = blake2b_rotr<16>(d ^ a);
    c = c + d;
    b = blake2b_rotr<63>(b ^ c);
}

// The working vector is passed as 16 references so that, once inlined,
// every word stays a local the compiler can keep in a register.
template<int round>
[[gnu::always_inline]] inline void mix_round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3, uint64_t& v4,
    uint64_t& v5, uint64_t& v6, uint64_t& v7, uint64_t& v8, uint64_t& v9, uint64_t& v10, uint64_t& v11, uint64_t& v12,
    uint64_t& v13, uint64_t& v14, uint64_t& v15, const uint8_t* block)
{
    constexpr const uint8_t* s = sigma[round];
    mix(v0, v4, v8, v12, message_word(block, s[0]), message_word(block, s[1]));
    mix(v1, v5, v9, v13, message_word(block, s[2]), message_word(block, s[3]));
    mix(v2, v6, v10, v14, message_word(block, s[4]), message_word(block, s[5]));
    mix(v3, v7, v11, v15, message_word(block, s[6]), message_word(block, s[7]));
    mix(v0, v5, v10, v15, message_word(block, s[8]), message_word(block, s[9]));
    mix(v1, v6, v11, v12, message_word(block, s[10]), message_word(block, s[11]));
    mix(v2, v7, v8, v13, message_word(block, s[12]), message_word(block, s[13]));
    mix(v3, v4, v9, v14, message_word(block, s[14]), message_word(block, s[15]));
}

} // namespace

void blake2b_compress_portable(uint64_t* state, const uint8_t* block, uint64_t counter, bool last)
{
    uint64_t v0 = state[0], v1 = state[1], v2 = state[2], v3 = state[3];
    uint64_t v4 = state[4], v5 = state[5], v6 = state[6], v7 = state[7];
    uint64_t v8 = initialization_vector[0], v9 = initialization_vector[1];
    uint64_t v10 = initialization_vector[2], v11 = initialization_vector[3];
    uint64_t v12 = initialization_vector[4] ^ counter; // the counter's high word is 0
    uint64_t v13 = initialization_vector[5];
    uint64_t v14 = last ? ~initialization_vector[6] : initialization_vector[6];
    uint64_t v15 = initialization_vector[7];

    mix_round<0>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<1>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<2>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<3>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<4>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<5>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<6>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<7>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<8>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<9>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<10>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);
    mix_round<11>(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, block);

    state[0] ^= v0 ^ v8;
    state[1] ^= v1 ^ v9;
    state[2] ^= v2 ^ v10;
    state[3] ^= v3 ^ v11;
    state[4] ^= v4 ^ v12;
    state[5] ^= v5 ^ v13;
    state[6] ^= v6 ^ v14;
    state[7] ^= v7 ^ v15;
}

void Blake2b::reset()
{
    for (int i = 0; i < 8; ++i)
        m_state[i] = initialization_vector[i];
    m_state[0] ^= parameter_word;
    m_length = 0;
    m_buffered = 0;
}

void Blake2b::compress(const uint8_t* blocks, size_t count, uint64_t counter, bool last)
{
    if (crypto_arch::blake2b_compress(m_state, blocks, count, counter, last))
        return;
    for (size_t i = 0; i < count; ++i, counter += block_size)
        blake2b_compress_portable(m_state, blocks + i * block_size, counter, last);
}

void Blake2b::update(const void* data, size_t size)
{
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    if (size == 0)
        return;
    // Top up a partial block; a full one is compressed only now that more
    // data is known to follow it.
    if (m_buffered > 0) {
        size_t take = block_size - m_buffered;
        if (take > size)
            take = size;
        memcpy(m_buffer + m_buffered, bytes, take);
        m_buffered += take;
        bytes += take;
        size -= take;
        if (size == 0)
            return;
        m_length += block_size;
        compress(m_buffer, 1, m_length, false);
        m_buffered = 0;
    }
    // Whole blocks straight from the input, except the last one, which may
    // be the message's final block.
    if (size > block_size) {
        size_t count = (size - 1) / block_size;
        compress(bytes, count, m_length + block_size, false);
        m_length += count * block_size;
        bytes += count * block_size;
        size -= count * block_size;
    }
    memcpy(m_buffer, bytes, size);
    m_buffered = size;
}

Blake2bDigest Blake2b::finish()
{
    m_length += m_buffered;
    memset(m_buffer + m_buffered, 0, block_size - m_buffered);
    compress(m_buffer, 1, m_length, true);
    Blake2bDigest digest;
    for (int i = 0; i < 8; ++i)
        store_le64(digest.bytes + 8 * i, m_state[i]);
    return digest;
}

Blake2bDigest Blake2b::hash(const void* data, size_t size)
{
    Blake2b hasher;
    hasher.update(data, size);
    return hasher.finish();
}

} // namespace keel
