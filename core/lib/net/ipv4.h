// IPv4 headers (RFC 791, with the host requirements of RFC 1122 3.2.1):
// what a received header must satisfy before anything trusts it, and how
// one is written.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"

namespace keel::net {

constexpr size_t kIpv4HeaderSize = 20;
constexpr size_t kIpv4MaxHeaderSize = 60;
constexpr size_t kIpv4MaxDatagram = 65535;
constexpr uint8_t kIpProtocolIcmp = 1;
constexpr uint8_t kIpProtocolTcp = 6;
constexpr uint8_t kIpProtocolUdp = 17;
constexpr uint8_t kIpv4DefaultTtl = 64;

constexpr uint16_t kIpv4FlagDontFragment = 0x4000;
constexpr uint16_t kIpv4FlagMoreFragments = 0x2000;
constexpr uint16_t kIpv4OffsetMask = 0x1fff;

struct Ipv4Header {
    uint8_t header_length = kIpv4HeaderSize; // bytes, with options
    uint8_t tos = 0;
    uint16_t total_length = 0; // header and payload
    uint16_t identification = 0;
    uint16_t flags_offset = 0; // flags and the offset in 8-byte units
    uint8_t ttl = kIpv4DefaultTtl;
    uint8_t protocol = 0;
    Ipv4Address source = 0;
    Ipv4Address destination = 0;

    bool more_fragments() const { return flags_offset & kIpv4FlagMoreFragments; }
    size_t fragment_offset() const { return size_t(flags_offset & kIpv4OffsetMask) * 8; }
    bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
    size_t payload_length() const { return total_length - header_length; }
};

// Checks a received datagram: version 4, a header length of 20 to 60
// bytes within the buffer, a total length covering the header and not
// beyond the buffer (bytes after it are link padding, for the caller to
// trim), a correct header checksum, the reserved flag clear, and a source
// that is neither multicast nor broadcast (RFC 1122 3.2.1.3). TTL is the
// forwarder's business, not checked here.
Result<Ipv4Header> parse_ipv4(const uint8_t* bytes, size_t length, Diagnostic* diagnostic);
// The same for the start of a datagram, the rest not at hand (what an
// ICMP error quotes): its total length may run past `length`.
Result<Ipv4Header> parse_ipv4_start(const uint8_t* bytes, size_t length, Diagnostic* diagnostic);
// Writes a 20-byte header (no options) with its checksum.
void write_ipv4(uint8_t* out, const Ipv4Header& header);

} // namespace keel::net
