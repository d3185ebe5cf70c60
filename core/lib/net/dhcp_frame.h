// The frames of a DHCP client whose device has no address yet (RFC 2131
// 4.1): its messages go out as whole Ethernet frames, broadcast from
// 0.0.0.0:68 to 255.255.255.255:67, and the replies are picked out of the
// IPv4 frames the device receives by their UDP destination port 68,
// whatever their IP destination (the address being offered or the
// broadcast).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/ethernet.h"
#include "lib/net/packet.h"

namespace keel::net::dhcp {

// A whole frame (Ethernet, IPv4, UDP with its checksum) carrying
// `message`, from `source`; nullptr when out of memory or too long for
// one unfragmented datagram.
PacketPtr build_client_frame(const MacAddress& source, const uint8_t* message, size_t length, uint16_t identification);

struct ServerMessage {
    const uint8_t* bytes = nullptr; // inside the frame
    size_t length = 0;
    Ipv4Address source = 0;
    MacAddress source_mac;
};

// The DHCP message inside a received frame: an IPv4 datagram (parse_ipv4,
// not a fragment) of UDP from port 67 to port 68 with a correct checksum.
// ENOENT for a frame that is something else, EBADMSG for a broken one.
Result<ServerMessage> server_message_of(const uint8_t* frame, size_t length, Diagnostic* diagnostic);

} // namespace keel::net::dhcp
