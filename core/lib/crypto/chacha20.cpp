// ChaCha20, RFC 8439: 20 rounds (10 double rounds) of quarter rounds over a
// 4x4 matrix of 32-bit words: the constants, the key, the block counter and
// the nonce; the output block is the final matrix plus the initial one.
#include "lib/crypto/chacha20.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"

namespace keel {

namespace {

uint32_t rotl(uint32_t value, int bits) { return value << bits | value >> (32 - bits); }

void quarter_round(uint32_t* x, int a, int b, int c, int d)
{
    x[a] += x[b];
    x[d] = rotl(x[d] ^ x[a], 16);
    x[c] += x[d];
    x[b] = rotl(x[b] ^ x[c], 12);
    x[a] += x[b];
    x[d] = rotl(x[d] ^ x[a], 8);
    x[c] += x[d];
    x[b] = rotl(x[b] ^ x[c], 7);
}

} // namespace

void chacha20_block(const ChaCha20Key& key, uint32_t counter, const uint8_t nonce[12], uint8_t out[64])
{
    uint32_t state[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 }; // "expand 32-byte k"
    for (int i = 0; i < 8; i++)
        state[4 + i] = load_le32(key.bytes + 4 * i);
    state[12] = counter;
    for (int i = 0; i < 3; i++)
        state[13 + i] = load_le32(nonce + 4 * i);
    uint32_t x[16];
    memcpy(x, state, sizeof(x));
    for (int round = 0; round < 10; round++) {
        quarter_round(x, 0, 4, 8, 12);
        quarter_round(x, 1, 5, 9, 13);
        quarter_round(x, 2, 6, 10, 14);
        quarter_round(x, 3, 7, 11, 15);
        quarter_round(x, 0, 5, 10, 15);
        quarter_round(x, 1, 6, 11, 12);
        quarter_round(x, 2, 7, 8, 13);
        quarter_round(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i++)
        store_le32(out + 4 * i, x[i] + state[i]);
    wipe(x, sizeof(x));
    wipe(state, sizeof(state));
}

void chacha20_xor(const ChaCha20Key& key, uint32_t counter, const uint8_t nonce[12], uint8_t* data, size_t size)
{
    uint8_t block[64];
    for (size_t done = 0; done < size; done += 64, counter++) {
        chacha20_block(key, counter, nonce, block);
        size_t n = size - done < 64 ? size - done : 64;
        for (size_t i = 0; i < n; i++)
            data[done + i] ^= block[i];
    }
    wipe(block, sizeof(block));
}

} // namespace keel
