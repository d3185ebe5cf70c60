// ICMP for IPv4 (RFC 792, with RFC 1122 3.2.2's rules): parsing, echo
// replies, the error messages a host sends (destination unreachable, time
// exceeded), when it must not send one, and a token-bucket rate limit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/ipv4.h"
#include "lib/net/packet.h"
#include "lib/net/rate_limit.h"

namespace keel::net {

constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpDestinationUnreachable = 3;
constexpr uint8_t kIcmpEchoRequest = 8;
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpUnreachableNet = 0;
constexpr uint8_t kIcmpUnreachableHost = 1;
constexpr uint8_t kIcmpUnreachableProtocol = 2;
constexpr uint8_t kIcmpUnreachablePort = 3;
constexpr uint8_t kIcmpUnreachableFragmentationNeeded = 4;
constexpr uint8_t kIcmpUnreachableSourceRouteFailed = 5;
constexpr uint8_t kIcmpUnreachableNetUnknown = 6;
constexpr uint8_t kIcmpTimeExceededTtl = 0;
constexpr uint8_t kIcmpTimeExceededReassembly = 1;
constexpr size_t kIcmpHeaderSize = 8;

struct IcmpMessage {
    uint8_t type = 0;
    uint8_t code = 0;
    uint32_t rest = 0; // identifier and sequence of an echo; unused or MTU for errors
    const uint8_t* body = nullptr;
    size_t body_length = 0;

    uint16_t echo_identifier() const { return uint16_t(rest >> 16); }
    uint16_t echo_sequence() const { return uint16_t(rest); }
};

// An ICMP error (destination unreachable, time exceeded) about a
// datagram this host sent, as its quote shows it (RFC 792: the offending
// IP header and at least the first 8 bytes after it): what the protocol
// that sent the datagram needs to find who sent it.
struct IcmpReport {
    uint8_t type = 0;
    uint8_t code = 0;
    uint16_t next_hop_mtu = 0; // fragmentation needed: RFC 1191's field, 0 when not given
    Ipv4Address reporter = 0;  // the source of the ICMP message
    uint8_t protocol = 0;      // of the quoted datagram
    Ipv4Address source = 0;    // of the quoted datagram: this host
    Ipv4Address destination = 0;
    uint16_t quoted_total_length = 0;   // the quoted header's total length
    const uint8_t* transport = nullptr; // the bytes after the quoted IP header
    size_t transport_length = 0;        // at least 8
};

// What an ICMP error means to the user (Linux's mapping, within the errors
// Keel has): the network or the host cannot be reached, or the peer has
// no such protocol or port. Inline: udp and tcp each carry their own copy
// (no protocol module carries another's code, core/lib/net/meson.build).
inline Error icmp_error_errno(uint8_t type, uint8_t code)
{
    if (type != kIcmpDestinationUnreachable)
        return Error::EHOSTUNREACH; // time exceeded
    switch (code) {
    case kIcmpUnreachableNet:
    case kIcmpUnreachableNetUnknown: return Error::ENETUNREACH;
    case kIcmpUnreachableProtocol:
    case kIcmpUnreachablePort: return Error::ECONNREFUSED;
    default: return Error::EHOSTUNREACH;
    }
}

// Protocol and port unreachable are hard errors (RFC 1122 3.2.2.1 and
// 4.2.3.9): the peer itself says nothing is there. The others are soft: a
// route may come back.
inline bool icmp_error_is_hard(uint8_t type, uint8_t code)
{
    return type == kIcmpDestinationUnreachable && (code == kIcmpUnreachableProtocol || code == kIcmpUnreachablePort);
}

// Checks length and checksum of an ICMP message (the IP payload).
Result<IcmpMessage> parse_icmp(const uint8_t* bytes, size_t length, Diagnostic* diagnostic);
// The report of a destination-unreachable or time-exceeded `message`
// from `reporter`: EBADMSG (with the reason) when the quote is not an
// IPv4 header of a first fragment (or a whole datagram) followed by at
// least 8 bytes; EINVAL for another type of message.
Result<IcmpReport> parse_icmp_report(const IcmpMessage& message, Ipv4Address reporter, Diagnostic* diagnostic);
// Writes the 8-byte header in front of `body_length` bytes that already
// follow it at out + 8, and the checksum over both.
void write_icmp(uint8_t* out, uint8_t type, uint8_t code, uint32_t rest, size_t body_length);

// Whether a received datagram may be answered with an ICMP error (RFC 1122
// 3.2.2): not for an ICMP error, a datagram to a broadcast or multicast
// address or from a non-unicast source, or a fragment other than the first.
// `bytes` is the datagram from its IP header on.
bool icmp_error_allowed(const Ipv4Header& header, const uint8_t* bytes, size_t length, bool to_broadcast);

// An ICMP error about `offending` (its IP header and payload as received):
// a packet holding the ICMP message (header, the offending IP header and
// the first 8 bytes after it), `headroom` free in front for the IP and
// link headers; nullptr when out of memory.
PacketPtr make_icmp_error(uint8_t type, uint8_t code, uint32_t rest, const uint8_t* offending, size_t length,
    size_t header_length, size_t headroom);

} // namespace keel::net
