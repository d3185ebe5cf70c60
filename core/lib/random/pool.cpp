#include "lib/random/pool.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"

namespace keel {

namespace {

constexpr uint8_t kNonce[12] = {};

} // namespace

EntropyPool::EntropyPool() = default;

EntropyPool::~EntropyPool() { wipe(&m_key, sizeof(m_key)); }

void EntropyPool::add(const void* data, size_t size, uint32_t bits)
{
    m_pool.update(data, size);
    m_mixed_since_reseed = true;
    uint64_t most = uint64_t(size) * 8;
    uint64_t credit = bits < most ? bits : most;
    m_credited_total += credit;
    uint64_t pending = m_pending_bits + credit;
    m_pending_bits = pending > UINT32_MAX ? UINT32_MAX : uint32_t(pending);
}

// The new key is BLAKE2b(old key || the pool's hash); the pool starts again
// from that hash, so nothing mixed in is ever forgotten.
void EntropyPool::reseed(bool credited)
{
    Blake2bDigest pooled = m_pool.finish();
    Blake2b next;
    next.update(m_key.bytes, sizeof(m_key.bytes));
    next.update(pooled.bytes, sizeof(pooled.bytes));
    Blake2bDigest key = next.finish();
    memcpy(m_key.bytes, key.bytes, sizeof(m_key.bytes));
    m_pool.reset();
    m_pool.update(pooled.bytes, sizeof(pooled.bytes));
    wipe(&pooled, sizeof(pooled));
    wipe(&key, sizeof(key));
    m_mixed_since_reseed = false;
    m_reseeds++;
    if (credited) {
        m_pending_bits = 0;
        m_seeded = true;
    }
}

void EntropyPool::generate(void* out, size_t size)
{
    if (m_pending_bits >= kSeedBits)
        reseed(true);
    else if (!m_seeded && m_mixed_since_reseed)
        reseed(false); // not seeded: at least everything mixed in so far counts
    uint8_t block[64];
    chacha20_block(m_key, 0, kNonce, block);
    ChaCha20Key request;
    memcpy(m_key.bytes, block, 32);
    memcpy(request.bytes, block + 32, 32);
    auto* bytes = static_cast<uint8_t*>(out);
    memset(bytes, 0, size);
    chacha20_xor(request, 0, kNonce, bytes, size);
    wipe(block, sizeof(block));
    wipe(&request, sizeof(request));
    m_generated += size;
}

} // namespace keel
