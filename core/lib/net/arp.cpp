#include "lib/net/arp.h"

#include "lib/base/string.h"

namespace keel::net {

Result<ArpPacket> parse_arp(const uint8_t* bytes, size_t length, Diagnostic* diagnostic)
{
    if (length < kArpPacketSize) {
        diagnose(diagnostic, "arp: %zu bytes, shorter than 28", length);
        return Err(Error::EBADMSG);
    }
    uint16_t hardware = load16(bytes), protocol = load16(bytes + 2);
    if (hardware != 1 || protocol != kEtherTypeIpv4 || bytes[4] != 6 || bytes[5] != 4) {
        diagnose(diagnostic, "arp: hardware %u protocol %#x lengths %u/%u, not Ethernet/IPv4", hardware, protocol,
            bytes[4], bytes[5]);
        return Err(Error::ENOTSUP);
    }
    ArpPacket packet;
    packet.operation = load16(bytes + 6);
    if (packet.operation != kArpRequest && packet.operation != kArpReply) {
        diagnose(diagnostic, "arp: operation %u", packet.operation);
        return Err(Error::ENOTSUP);
    }
    memcpy(packet.sender_mac.bytes, bytes + 8, 6);
    packet.sender_ip = load32(bytes + 14);
    memcpy(packet.target_mac.bytes, bytes + 18, 6);
    packet.target_ip = load32(bytes + 24);
    if (packet.sender_mac.is_multicast() || packet.sender_mac.is_zero()) {
        diagnose(diagnostic, "arp: sender hardware address is not unicast");
        return Err(Error::EBADMSG);
    }
    return packet;
}

void write_arp(uint8_t* out, const ArpPacket& packet)
{
    store16(out, 1);
    store16(out + 2, kEtherTypeIpv4);
    out[4] = 6;
    out[5] = 4;
    store16(out + 6, packet.operation);
    memcpy(out + 8, packet.sender_mac.bytes, 6);
    store32(out + 14, packet.sender_ip);
    memcpy(out + 18, packet.target_mac.bytes, 6);
    store32(out + 24, packet.target_ip);
}

} // namespace keel::net
