// Network byte order: headers are read and written a byte at a time, so
// nothing depends on the host's byte order or on alignment.
#pragma once

#include <stdint.h>

namespace keel::net {

inline uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
inline void store16(uint8_t* p, uint16_t v)
{
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void store32(uint8_t* p, uint32_t v)
{
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}

// IPv4 addresses in host order: 127.0.0.1 is 0x7f000001.
using Ipv4Address = uint32_t;
constexpr Ipv4Address ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}
constexpr Ipv4Address kIpv4Broadcast = 0xffffffff;
constexpr bool ipv4_is_multicast(Ipv4Address a) { return (a >> 28) == 0xe; }
constexpr bool ipv4_is_loopback(Ipv4Address a) { return (a >> 24) == 127; }

} // namespace keel::net
