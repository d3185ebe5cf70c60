// Little-endian field access for the crypto formats: every field is read
// byte by byte, so unaligned fields in untrusted files are fine.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

inline uint16_t load_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

inline uint32_t load_le32(const uint8_t* p)
{
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

inline uint64_t load_le64(const uint8_t* p) { return uint64_t(load_le32(p)) | (uint64_t(load_le32(p + 4)) << 32); }

inline void store_le16(uint8_t* p, uint16_t value)
{
    p[0] = static_cast<uint8_t>(value);
    p[1] = static_cast<uint8_t>(value >> 8);
}

inline void store_le32(uint8_t* p, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<uint8_t>(value >> (8 * i));
}

inline void store_le64(uint8_t* p, uint64_t value)
{
    store_le32(p, static_cast<uint32_t>(value));
    store_le32(p + 4, static_cast<uint32_t>(value >> 32));
}

// Zeroes secrets with stores the compiler cannot drop as dead.
inline void wipe(void* data, size_t size)
{
    auto* p = static_cast<volatile uint8_t*>(data);
    for (size_t i = 0; i < size; ++i)
        p[i] = 0;
}

} // namespace keel
