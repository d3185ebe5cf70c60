// DHCP messages (RFC 2131 section 2, options of RFC 2132): what a client
// sends (DISCOVER, REQUEST) and what it reads of a server's reply (OFFER,
// ACK, NAK). A reply is hostile input: every length is checked against
// the area it lies in before a byte of it is read.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"
#include "lib/net/ethernet.h"

namespace keel::net::dhcp {

constexpr uint16_t kServerPort = 67;
constexpr uint16_t kClientPort = 68;
// op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr,
// giaddr, chaddr[16], sname[64], file[128]: then the magic cookie.
constexpr size_t kFixedSize = 236;
constexpr size_t kSnameOffset = 44;
constexpr size_t kSnameSize = 64;
constexpr size_t kFileOffset = 108;
constexpr size_t kFileSize = 128;
constexpr size_t kOptionsOffset = kFixedSize + 4;
constexpr uint32_t kMagicCookie = 0x63825363;
// What a client sends: BOOTP's minimum of 300 bytes (RFC 1542 2.1),
// padded after the end option.
constexpr size_t kClientMessageSize = 300;

enum class MessageType : uint8_t {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
};

const char* message_type_name(MessageType type);

namespace option {
constexpr uint8_t kPad = 0;
constexpr uint8_t kSubnetMask = 1;
constexpr uint8_t kRouter = 3;
constexpr uint8_t kDnsServer = 6;
constexpr uint8_t kRequestedAddress = 50;
constexpr uint8_t kLeaseTime = 51;
constexpr uint8_t kOverload = 52;
constexpr uint8_t kMessageType = 53;
constexpr uint8_t kServerId = 54;
constexpr uint8_t kParameterList = 55;
constexpr uint8_t kMaxMessageSize = 57;
constexpr uint8_t kRenewalTime = 58;   // T1
constexpr uint8_t kRebindingTime = 59; // T2
constexpr uint8_t kEnd = 255;
} // namespace option

// A server's reply, as far as a client needs it.
struct Reply {
    static constexpr size_t kMaxDnsServers = 3;

    uint32_t xid = 0;
    MacAddress client_mac;        // chaddr
    Ipv4Address your_address = 0; // yiaddr
    MessageType type = MessageType::Offer;
    Ipv4Address server_id = 0; // 0: option 54 absent
    bool has_subnet_mask = false;
    Ipv4Address subnet_mask = 0;
    Ipv4Address router = 0; // the first of option 3; 0: absent
    Ipv4Address dns[kMaxDnsServers] = {};
    size_t dns_count = 0; // at most kMaxDnsServers kept
    bool has_lease_time = false;
    uint32_t lease_seconds = 0; // 0xffffffff: infinite
    bool has_renewal_time = false;
    uint32_t renewal_seconds = 0; // option 58, T1
    bool has_rebinding_time = false;
    uint32_t rebinding_seconds = 0; // option 59, T2
};

// Reads a BOOTREPLY from a DHCP server: op 2, Ethernet addresses (htype 1,
// hlen 6), the magic cookie, options well formed in every area they are in
// (the options field, then file and sname when option 52 says so), a
// message type option of OFFER, ACK or NAK, each known option of the
// length RFC 2132 gives it. Options are taken from their first occurrence;
// unknown ones are skipped. EBADMSG otherwise, with the reason.
Result<Reply> parse_reply(const uint8_t* bytes, size_t length, Diagnostic* diagnostic);

// What goes into a client's message.
struct Request {
    MessageType type = MessageType::Discover;
    uint32_t xid = 0;
    uint16_t seconds = 0; // since the client began
    MacAddress mac;
    Ipv4Address requested_address = 0; // option 50; 0: none
    Ipv4Address server_id = 0;         // option 54; 0: none
    Ipv4Address client_address = 0;    // ciaddr: the leased address when renewing or rebinding
};

// Writes a client's message of kClientMessageSize bytes into `out`
// (at least that large); returns its length.
size_t write_request(uint8_t* out, const Request& request);

} // namespace keel::net::dhcp
