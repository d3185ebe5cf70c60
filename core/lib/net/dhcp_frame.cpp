#include "lib/net/dhcp_frame.h"

#include "lib/base/string.h"
#include "lib/net/dhcp_message.h"
#include "lib/net/ipv4.h"
#include "lib/net/udp.h"

namespace keel::net::dhcp {

PacketPtr build_client_frame(const MacAddress& source, const uint8_t* message, size_t length, uint16_t identification)
{
    constexpr size_t kHeaders = kEthernetHeaderSize + kIpv4HeaderSize + kUdpHeaderSize;
    if (length > kEthernetMtu - kIpv4HeaderSize - kUdpHeaderSize)
        return {};
    PacketPtr frame { Packet::create(0, kHeaders + length) };
    if (!frame)
        return {};
    uint8_t* bytes = frame->put(kHeaders + length);
    EthernetHeader ethernet;
    ethernet.destination = MacAddress::broadcast();
    ethernet.source = source;
    ethernet.ether_type = kEtherTypeIpv4;
    write_ethernet(bytes, ethernet);
    uint8_t* udp = bytes + kEthernetHeaderSize + kIpv4HeaderSize;
    memcpy(udp + kUdpHeaderSize, message, length);
    write_udp(udp, kClientPort, kServerPort, length, 0, kIpv4Broadcast);
    Ipv4Header ip;
    ip.total_length = uint16_t(kIpv4HeaderSize + kUdpHeaderSize + length);
    ip.identification = identification;
    ip.protocol = kIpProtocolUdp;
    ip.source = 0;
    ip.destination = kIpv4Broadcast;
    write_ipv4(bytes + kEthernetHeaderSize, ip);
    return frame;
}

Result<ServerMessage> server_message_of(const uint8_t* frame, size_t length, Diagnostic* diagnostic)
{
    auto ethernet = parse_ethernet(frame, length, diagnostic);
    if (ethernet.is_error())
        return Err(Error::EBADMSG);
    if (ethernet.value().ether_type != kEtherTypeIpv4)
        return Err(Error::ENOENT);
    const uint8_t* datagram = frame + kEthernetHeaderSize;
    auto ip = parse_ipv4(datagram, length - kEthernetHeaderSize, diagnostic);
    if (ip.is_error())
        return Err(Error::EBADMSG);
    const Ipv4Header& header = ip.value();
    // Replies fit one datagram (the client asks for 576 bytes at most).
    if (header.protocol != kIpProtocolUdp || header.is_fragment())
        return Err(Error::ENOENT);
    const uint8_t* udp = datagram + header.header_length;
    size_t udp_length = header.payload_length();
    if (udp_length < kUdpHeaderSize || load16(udp + 2) != kClientPort)
        return Err(Error::ENOENT);
    auto parsed = parse_udp(udp, udp_length, header.source, header.destination, diagnostic);
    if (parsed.is_error())
        return Err(Error::EBADMSG);
    if (parsed.value().source_port != kServerPort)
        return Err(Error::ENOENT);
    ServerMessage message;
    message.bytes = udp + kUdpHeaderSize;
    message.length = parsed.value().length - kUdpHeaderSize;
    message.source = header.source;
    message.source_mac = ethernet.value().source;
    return message;
}

} // namespace keel::net::dhcp
