// A scripted DHCP server for the client's tests: it answers a DISCOVER
// with an OFFER and a REQUEST with an ACK (or a NAK), as QEMU's user
// network does, and builds whole frames so a capture shows both sides.
#pragma once

#include <stdint.h>

#include <vector>

#include "lib/net/dhcp_message.h"
#include "lib/net/ethernet.h"

// A frame from `from` to `to` holding an IPv4 datagram (a 20-byte header,
// checksum written) of `protocol` with `payload_length` zero bytes of
// payload at offset 34, for the caller to fill (the interface tests use it
// too).
std::vector<uint8_t> ipv4_frame(const keel::net::MacAddress& to, const keel::net::MacAddress& from,
    keel::net::Ipv4Address source, keel::net::Ipv4Address destination, uint8_t protocol, size_t payload_length);

namespace test_dhcp {

using keel::net::Ipv4Address;
using keel::net::MacAddress;

// The options a reply carries after its message type, as raw bytes
// (code, length, value...), and what goes in the fixed part.
struct ReplySpec {
    keel::net::dhcp::MessageType type = keel::net::dhcp::MessageType::Offer;
    uint32_t xid = 0;
    MacAddress client;
    Ipv4Address your_address = 0;
    std::vector<uint8_t> options; // after option 53; an end option is appended
    std::vector<uint8_t> file;    // the file field's bytes (overload)
    std::vector<uint8_t> sname;   // the sname field's bytes (overload)
    bool end = true;              // append option 255
};

// The BOOTREPLY's bytes (the UDP payload).
std::vector<uint8_t> reply_message(const ReplySpec& spec);
// The options 1, 3, 6, 51 and 54 of QEMU's user network.
std::vector<uint8_t> qemu_options(uint32_t lease_seconds = 86400);
// A frame from the server (10.0.2.2, its MAC) to `destination`, UDP 67 -> 68.
std::vector<uint8_t> server_frame(const std::vector<uint8_t>& message, Ipv4Address destination);

extern const MacAddress kServerMac;
extern const Ipv4Address kServer;

} // namespace test_dhcp
