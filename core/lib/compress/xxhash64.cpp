#include "lib/compress/xxhash64.h"

#include "lib/base/string.h"

namespace keel {

namespace {

constexpr uint64_t kPrime1 = 0x9e3779b185ebca87ull;
constexpr uint64_t kPrime2 = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kPrime3 = 0x165667b19e3779f9ull;
constexpr uint64_t kPrime4 = 0x85ebca77c2b2ae63ull;
constexpr uint64_t kPrime5 = 0x27d4eb2f165667c5ull;

inline uint64_t rotate_left(uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }

inline uint64_t load64(const uint8_t* p)
{
    uint64_t value;
    memcpy(&value, p, 8);
    return value;
}

inline uint32_t load32(const uint8_t* p)
{
    uint32_t value;
    memcpy(&value, p, 4);
    return value;
}

inline uint64_t round(uint64_t lane, uint64_t input)
{
    lane += input * kPrime2;
    lane = rotate_left(lane, 31);
    return lane * kPrime1;
}

inline uint64_t merge(uint64_t hash, uint64_t lane)
{
    hash ^= round(0, lane);
    return hash * kPrime1 + kPrime4;
}

} // namespace

void Xxh64::reset(uint64_t seed)
{
    m_seed = seed;
    m_lanes[0] = seed + kPrime1 + kPrime2;
    m_lanes[1] = seed + kPrime2;
    m_lanes[2] = seed;
    m_lanes[3] = seed - kPrime1;
    m_total = 0;
    m_pending_size = 0;
}

void Xxh64::update(const void* data, size_t size)
{
    const auto* p = static_cast<const uint8_t*>(data);
    m_total += size;
    if (m_pending_size + size < 32) {
        memcpy(m_pending + m_pending_size, p, size);
        m_pending_size += size;
        return;
    }
    if (m_pending_size > 0) {
        size_t fill = 32 - m_pending_size;
        memcpy(m_pending + m_pending_size, p, fill);
        for (int i = 0; i < 4; ++i)
            m_lanes[i] = round(m_lanes[i], load64(m_pending + 8 * i));
        p += fill;
        size -= fill;
        m_pending_size = 0;
    }
    uint64_t v0 = m_lanes[0];
    uint64_t v1 = m_lanes[1];
    uint64_t v2 = m_lanes[2];
    uint64_t v3 = m_lanes[3];
    while (size >= 32) {
        v0 = round(v0, load64(p));
        v1 = round(v1, load64(p + 8));
        v2 = round(v2, load64(p + 16));
        v3 = round(v3, load64(p + 24));
        p += 32;
        size -= 32;
    }
    m_lanes[0] = v0;
    m_lanes[1] = v1;
    m_lanes[2] = v2;
    m_lanes[3] = v3;
    memcpy(m_pending, p, size);
    m_pending_size = size;
}

uint64_t Xxh64::digest() const
{
    uint64_t hash;
    if (m_total >= 32) {
        hash = rotate_left(m_lanes[0], 1) + rotate_left(m_lanes[1], 7) + rotate_left(m_lanes[2], 12)
            + rotate_left(m_lanes[3], 18);
        for (uint64_t lane : m_lanes)
            hash = merge(hash, lane);
    } else {
        hash = m_seed + kPrime5;
    }
    hash += m_total;

    const uint8_t* p = m_pending;
    size_t left = m_pending_size;
    while (left >= 8) {
        hash ^= round(0, load64(p));
        hash = rotate_left(hash, 27) * kPrime1 + kPrime4;
        p += 8;
        left -= 8;
    }
    if (left >= 4) {
        hash ^= uint64_t(load32(p)) * kPrime1;
        hash = rotate_left(hash, 23) * kPrime2 + kPrime3;
        p += 4;
        left -= 4;
    }
    while (left-- > 0) {
        hash ^= *p++ * kPrime5;
        hash = rotate_left(hash, 11) * kPrime1;
    }
    hash ^= hash >> 33;
    hash *= kPrime2;
    hash ^= hash >> 29;
    hash *= kPrime3;
    hash ^= hash >> 32;
    return hash;
}

} // namespace keel
