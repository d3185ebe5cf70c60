// UDP (RFC 768): the header with its checksum, and the port table that
// maps a destination (address, port) to the endpoint bound there.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"
#include "lib/net/ports.h"

namespace keel::net {

constexpr size_t kUdpHeaderSize = 8;

struct UdpHeader {
    uint16_t source_port = 0;
    uint16_t destination_port = 0;
    uint16_t length = 0; // header and payload
    uint16_t checksum = 0;
};

// Checks a received datagram (the IP payload): length field from 8 up to
// what arrived (the rest is ignored, as RFC 768 implies), destination port
// not 0, and the checksum over the pseudo-header unless the sender sent
// none (0).
Result<UdpHeader> parse_udp(
    const uint8_t* bytes, size_t length, Ipv4Address source, Ipv4Address destination, Diagnostic* diagnostic);
// Writes the header in front of `payload_length` bytes that already follow
// it at out + 8, with the checksum (0 computed becomes 0xffff).
void write_udp(uint8_t* out, uint16_t source_port, uint16_t destination_port, size_t payload_length, Ipv4Address source,
    Ipv4Address destination);
// The same when the payload's sum is known (checksum_copy put it there):
// only the header is read.
void write_udp_summed(uint8_t* out, uint16_t source_port, uint16_t destination_port, uint64_t payload_sum,
    size_t payload_length, Ipv4Address source, Ipv4Address destination);

} // namespace keel::net
