// ARP for IPv4 over Ethernet (RFC 826): the packet format. The neighbour
// cache that uses it is neighbour.h.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"
#include "lib/net/ethernet.h"

namespace keel::net {

constexpr size_t kArpPacketSize = 28;
constexpr uint16_t kArpRequest = 1;
constexpr uint16_t kArpReply = 2;

struct ArpPacket {
    uint16_t operation = 0;
    MacAddress sender_mac;
    Ipv4Address sender_ip = 0;
    MacAddress target_mac;
    Ipv4Address target_ip = 0;
};

// Accepts only Ethernet/IPv4 requests and replies (hardware type 1,
// protocol 0x0800, lengths 6 and 4) whose sender is a unicast MAC.
// Padding after the 28 bytes is ignored.
Result<ArpPacket> parse_arp(const uint8_t* bytes, size_t length, Diagnostic* diagnostic);
void write_arp(uint8_t* out, const ArpPacket& packet);

} // namespace keel::net
