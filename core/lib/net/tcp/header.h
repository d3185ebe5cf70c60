// The TCP header (RFC 9293 3.1) and the options this implementation
// speaks: MSS (RFC 9293 3.7.1) and window scale (RFC 7323 2). Other
// options (SACK-permitted, timestamps) are skipped; malformed ones reject
// the segment.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"

namespace keel::net::tcp {

constexpr size_t kHeaderSize = 20;
constexpr size_t kMaxHeaderSize = 60;

enum Flags : uint8_t {
    kFin = 0x01,
    kSyn = 0x02,
    kRst = 0x04,
    kPsh = 0x08,
    kAck = 0x10,
    kUrg = 0x20,
};

constexpr uint8_t kMaxWindowScale = 14; // RFC 7323 2.3

struct Header {
    uint16_t source_port = 0;
    uint16_t destination_port = 0;
    uint32_t sequence = 0;
    uint32_t acknowledgment = 0;
    uint8_t header_length = kHeaderSize;
    uint8_t flags = 0;
    uint16_t window = 0;
    uint16_t urgent = 0;
    // Options; 0 / -1 when absent.
    uint16_t mss = 0;
    int8_t window_scale = -1;

    bool has(uint8_t flag) const { return flags & flag; }
};

// A received segment: its header and where its data is.
struct Segment {
    Header header;
    const uint8_t* data = nullptr;
    size_t length = 0; // bytes of data

    // The sequence space the segment occupies (SYN and FIN count one each).
    size_t sequence_length() const { return length + header.has(kSyn) + header.has(kFin); }
};

// Checks a received segment (the IP payload): header length from 20 to
// 60 bytes within the buffer, the checksum over the pseudo-header, ports
// not 0, well-formed options (a window scale above 14 is taken as 14, as
// RFC 7323 says).
Result<Segment> parse_segment(
    const uint8_t* bytes, size_t length, Ipv4Address source, Ipv4Address destination, Diagnostic* diagnostic);

// The header length `write_header` produces for these options.
size_t header_size(const Header& header);
// Writes the header with its options in front of `data_length` bytes that
// already follow it, and the checksum over both.
void write_header(uint8_t* out, const Header& header, size_t data_length, Ipv4Address source, Ipv4Address destination);

} // namespace keel::net::tcp
