// SYN cookies (RFC 4987 3.6): when a listener's backlog is full of
// handshakes, its SYN-ACK carries the handshake's state in its initial
// sequence number instead of a connection holding it, and the peer's ACK
// brings it back. The number is
//
//   bits 31-30  the minute counter (64 s periods) modulo 4
//   bits 29-27  the peer's MSS, as an index into a table of 8
//   bits 26-0   a keyed hash of the four-tuple, the peer's ISN, the
//               counter and the index
//
// so a cookie is good for one to two periods, and forging one means
// guessing 27 bits. Window scaling, which a cookie has no room for, is
// left off such a connection, as Linux does without timestamps.
#pragma once

#include <stdint.h>

#include "lib/net/platform.h"
#include "lib/net/tcp/connection.h"

namespace keel::net::tcp {

constexpr size_t kSynCookieSecretSize = 16;
constexpr Millis kSynCookiePeriod = 64000;

// The cookie for a SYN from the peer of `tuple` with `peer_isn`, whose
// MSS option said `peer_mss` (0 when it had none).
uint32_t make_syn_cookie(const uint8_t (&secret)[kSynCookieSecretSize], const Tuple& tuple, uint32_t peer_isn,
    uint16_t peer_mss, Millis now);

// The MSS a cookie made for this tuple and peer ISN within the last two
// periods encodes; 0 when `cookie` is not such a cookie.
uint16_t check_syn_cookie(
    const uint8_t (&secret)[kSynCookieSecretSize], const Tuple& tuple, uint32_t peer_isn, uint32_t cookie, Millis now);

} // namespace keel::net::tcp
