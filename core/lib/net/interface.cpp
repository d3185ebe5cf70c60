#include "lib/net/interface.h"

#include "lib/base/string.h"
#include "lib/net/arp.h"
#include "lib/net/checksum.h"
#include "lib/net/icmp.h"
#include "lib/net/udp.h"

namespace keel::net {

namespace {

constexpr size_t kHeadroom = 64; // Ethernet and IP headers, with room to spare

} // namespace

Ipv4Interface::Ipv4Interface(Link& link, const InterfaceConfig& config, const tcp::Stack::Config& tcp_config)
    : m_link(link)
    , m_config(config)
    , m_neighbours(*this)
    , m_icmp_limiter(config.icmp_errors_per_second, 50)
    , m_tcp(*this, tcp_config)
{
}

Ipv4Interface::~Ipv4Interface() = default;

bool Ipv4Interface::on_link(Ipv4Address address) const
{
    uint32_t mask = m_config.prefix_length ? ~uint32_t(0) << (32 - m_config.prefix_length) : 0;
    return (address & mask) == (m_config.address & mask);
}

bool Ipv4Interface::is_broadcast(Ipv4Address address) const
{
    uint32_t mask = m_config.prefix_length ? ~uint32_t(0) << (32 - m_config.prefix_length) : 0;
    return address == kIpv4Broadcast || (m_config.prefix_length < 31 && address == (m_config.address | ~mask));
}

bool Ipv4Interface::is_local(Ipv4Address address) const
{
    // A loopback device carries only what this host sent to itself: to
    // 127/8 or to the address of another of its interfaces.
    if (m_config.loopback_device && address != 0 && address != 0xffffffff)
        return true;
    return address == m_config.address || (ipv4_is_loopback(address) && ipv4_is_loopback(m_config.address));
}

size_t Ipv4Interface::poll(Millis now, size_t budget)
{
    m_now = now;
    size_t handled = 0;
    while (handled < budget) {
        PacketPtr datagram = m_local.pop();
        if (!datagram)
            break;
        handled++;
        m_stats.local_delivered++;
        input_ipv4(datagram->data(), datagram->length(), false, now);
    }
    return handled;
}

Millis Ipv4Interface::next_deadline() const { return m_tcp.next_deadline(); }

void Ipv4Interface::tick(Millis now)
{
    m_now = now;
    m_neighbours.tick(now);
    m_reassembler.tick(now);
    m_tcp.tick(now);
    poll(now);
}

void Ipv4Interface::receive(const uint8_t* frame, size_t length, Millis now)
{
    m_now = now;
    m_stats.frames_received++;
    Result<EthernetHeader> parsed = parse_ethernet(frame, length, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_link++;
        return;
    }
    const EthernetHeader& header = parsed.value();
    bool broadcast = header.destination.is_broadcast();
    if (!broadcast && header.destination != m_config.mac) {
        m_stats.dropped_link++;
        return;
    }
    const uint8_t* payload = frame + kEthernetHeaderSize;
    size_t payload_length = length - kEthernetHeaderSize;
    if (header.ether_type == kEtherTypeArp)
        input_arp(payload, payload_length, now);
    else if (header.ether_type == kEtherTypeIpv4)
        input_ipv4(payload, payload_length, broadcast, now);
    else
        m_stats.dropped_link++;
}

void Ipv4Interface::input_arp(const uint8_t* bytes, size_t length, Millis now)
{
    Result<ArpPacket> parsed = parse_arp(bytes, length, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_arp++;
        return;
    }
    const ArpPacket& arp = parsed.value();
    if (arp.sender_ip == m_config.address)
        return; // another host claims our address: learn nothing from it
    bool for_us = arp.target_ip == m_config.address;
    if (arp.sender_ip != 0) // 0 is a probe (RFC 5227): answered, not learnt
        m_neighbours.learn(arp.sender_ip, arp.sender_mac, for_us, now);
    if (!for_us || arp.operation != kArpRequest)
        return;
    PacketPtr reply(Packet::create(kHeadroom, kArpPacketSize));
    if (!reply) {
        m_stats.dropped_no_memory++;
        return;
    }
    ArpPacket answer { kArpReply, m_config.mac, m_config.address, arp.sender_mac, arp.sender_ip };
    write_arp(reply->put(kArpPacketSize), answer);
    uint8_t* frame = reply->push(kEthernetHeaderSize);
    write_ethernet(frame, { arp.sender_mac, m_config.mac, kEtherTypeArp });
    m_stats.arp_replies_sent++;
    m_stats.frames_sent++;
    m_link.transmit(move(reply));
}

void Ipv4Interface::input_ipv4(const uint8_t* bytes, size_t length, bool link_broadcast, Millis now)
{
    Result<Ipv4Header> parsed = parse_ipv4(bytes, length, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_ip_header++;
        return;
    }
    const Ipv4Header& header = parsed.value();
    bool to_broadcast = link_broadcast || is_broadcast(header.destination);
    if (!is_local(header.destination) && !is_broadcast(header.destination)) {
        m_stats.dropped_not_ours++; // a host does not forward
        return;
    }
    if (!header.is_fragment()) {
        deliver(header, bytes, to_broadcast, now);
        return;
    }
    PacketPtr whole = m_reassembler.input(header, bytes + header.header_length, header.payload_length(), now);
    if (!whole)
        return;
    Ipv4Header whole_header = MUST(parse_ipv4(whole->data(), whole->length(), nullptr));
    deliver(whole_header, whole->data(), to_broadcast, now);
}

void Ipv4Interface::deliver(const Ipv4Header& header, const uint8_t* datagram, bool to_broadcast, Millis now)
{
    const uint8_t* payload = datagram + header.header_length;
    size_t length = header.payload_length();
    switch (header.protocol) {
    case kIpProtocolIcmp: input_icmp(header, payload, length, to_broadcast, now); return;
    case kIpProtocolUdp: input_udp(header, datagram, to_broadcast, now); return;
    case kIpProtocolTcp:
        if (!to_broadcast)
            m_tcp.input(payload, length, header.source, header.destination, now);
        return;
    default:
        if (ProtocolHandler* handler = m_protocols[header.protocol]) {
            if (!to_broadcast)
                handler->input(header, payload, length);
            return;
        }
        m_stats.dropped_protocol++;
        send_icmp_error(kIcmpDestinationUnreachable, kIcmpUnreachableProtocol, header, datagram, to_broadcast, now);
    }
}

Result<void> Ipv4Interface::register_protocol(uint8_t protocol, ProtocolHandler& handler)
{
    bool built_in = protocol == kIpProtocolIcmp || protocol == kIpProtocolUdp || protocol == kIpProtocolTcp;
    if (built_in || m_protocols[protocol])
        return Err(Error::EEXIST);
    m_protocols[protocol] = &handler;
    return {};
}

void Ipv4Interface::unregister_protocol(uint8_t protocol) { m_protocols[protocol] = nullptr; }

Result<void> Ipv4Interface::send_datagram(
    uint8_t protocol, Ipv4Address destination, const uint8_t* payload, size_t length, Millis now)
{
    if (length > 65535 - kIpv4HeaderSize)
        return Err(Error::EMSGSIZE);
    PacketPtr packet(Packet::create(kHeadroom, length));
    if (!packet) {
        m_stats.dropped_no_memory++;
        return Err(Error::ENOMEM);
    }
    memcpy(packet->put(length), payload, length);
    m_now = now;
    return output(move(packet), protocol, destination, now);
}

void Ipv4Interface::input_icmp(
    const Ipv4Header& header, const uint8_t* bytes, size_t length, bool to_broadcast, Millis now)
{
    Result<IcmpMessage> parsed = parse_icmp(bytes, length, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_icmp++;
        return;
    }
    const IcmpMessage& message = parsed.value();
    switch (message.type) {
    case kIcmpEchoRequest: {
        // RFC 1122 3.2.2.6: an echo request to a broadcast address may be
        // ignored, and is (as Linux does by default).
        if (!m_config.icmp || to_broadcast)
            return;
        m_stats.echo_requests++;
        PacketPtr reply(Packet::create(kHeadroom, length));
        if (!reply) {
            m_stats.dropped_no_memory++;
            return;
        }
        uint8_t* out = reply->put(length);
        memcpy(out + kIcmpHeaderSize, message.body, message.body_length);
        write_icmp(out, kIcmpEchoReply, 0, message.rest, message.body_length);
        // From the address that was asked (any of 127/8 on a loopback).
        (void)output(move(reply), kIpProtocolIcmp, header.source, now, header.destination);
        return;
    }
    case kIcmpEchoReply:
        m_stats.echo_replies_received++;
        m_last_reply = { header.source, message.echo_identifier(), message.echo_sequence(), message.body_length,
            header.ttl, now };
        return;
    case kIcmpDestinationUnreachable:
    case kIcmpTimeExceeded:
        // Reported, not acted upon yet (TCP's reaction to soft errors is
        // optional, RFC 1122 4.2.3.9).
        m_stats.icmp_errors_received++;
        return;
    default: return;
    }
}

void Ipv4Interface::input_udp(const Ipv4Header& header, const uint8_t* datagram, bool to_broadcast, Millis now)
{
    const uint8_t* bytes = datagram + header.header_length;
    Result<UdpHeader> parsed = parse_udp(bytes, header.payload_length(), header.source, header.destination, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_udp++;
        return;
    }
    const UdpHeader& udp = parsed.value();
    PortBinding* binding = m_udp_ports.lookup(header.destination, udp.destination_port);
    if (!binding) {
        m_stats.dropped_no_port++;
        send_icmp_error(kIcmpDestinationUnreachable, kIcmpUnreachablePort, header, datagram, to_broadcast, now);
        return;
    }
    UdpSocket& socket = *static_cast<UdpSocket*>(binding->owner);
    PacketPtr payload(Packet::copy_of(bytes + kUdpHeaderSize, udp.length - kUdpHeaderSize, 0));
    if (!payload) {
        socket.m_dropped++;
        m_stats.dropped_no_memory++;
        return;
    }
    payload->next_hop = header.source;
    payload->position = udp.source_port;
    if (PacketPtr refused = socket.m_queue.push(move(payload))) {
        socket.m_dropped++;
        return;
    }
    m_stats.udp_delivered++;
}

void Ipv4Interface::send_icmp_error(
    uint8_t type, uint8_t code, const Ipv4Header& header, const uint8_t* datagram, bool to_broadcast, Millis now)
{
    if (!m_config.icmp)
        return;
    if (!icmp_error_allowed(header, datagram, header.total_length, to_broadcast))
        return;
    if (!m_icmp_limiter.allow(now)) {
        m_stats.icmp_rate_limited++;
        return;
    }
    PacketPtr message = make_icmp_error(type, code, 0, datagram, header.total_length, header.header_length, kHeadroom);
    if (!message) {
        m_stats.dropped_no_memory++;
        return;
    }
    m_stats.icmp_errors_sent++;
    (void)output(move(message), kIpProtocolIcmp, header.source, now);
}

Result<void> Ipv4Interface::ping(
    Ipv4Address destination, uint16_t identifier, uint16_t sequence, size_t size, Millis now)
{
    m_now = now;
    if (size > kIpv4MaxDatagram - kIpv4HeaderSize - kIcmpHeaderSize)
        return Err(Error::EMSGSIZE);
    PacketPtr request(Packet::create(kHeadroom, kIcmpHeaderSize + size));
    if (!request)
        return Err(Error::ENOMEM);
    uint8_t* out = request->put(kIcmpHeaderSize + size);
    for (size_t i = 0; i < size; i++)
        out[kIcmpHeaderSize + i] = uint8_t(i);
    write_icmp(out, kIcmpEchoRequest, 0, uint32_t(identifier) << 16 | sequence, size);
    return output(move(request), kIpProtocolIcmp, destination, now);
}

Result<void> Ipv4Interface::udp_bind(UdpSocket& socket, uint16_t port)
{
    socket.m_binding.local_address = 0;
    socket.m_binding.local_port = port;
    socket.m_binding.owner = &socket;
    return m_udp_ports.bind(socket.m_binding);
}

void Ipv4Interface::udp_unbind(UdpSocket& socket)
{
    m_udp_ports.unbind(socket.m_binding);
    socket.m_queue.clear();
}

Result<void> Ipv4Interface::udp_send(
    UdpSocket& socket, Ipv4Address destination, uint16_t port, const uint8_t* bytes, size_t length, Millis now)
{
    m_now = now;
    if (!socket.m_binding.node.is_linked())
        return Err(Error::ENOTCONN);
    if (port == 0)
        return Err(Error::EINVAL);
    if (length > kIpv4MaxDatagram - kIpv4HeaderSize - kUdpHeaderSize)
        return Err(Error::EMSGSIZE);
    PacketPtr datagram(Packet::create(kHeadroom, kUdpHeaderSize + length));
    if (!datagram)
        return Err(Error::ENOMEM);
    uint8_t* out = datagram->put(kUdpHeaderSize + length);
    if (length)
        memcpy(out + kUdpHeaderSize, bytes, length);
    write_udp(out, socket.port(), port, length, m_config.address, destination);
    return output(move(datagram), kIpProtocolUdp, destination, now);
}

PacketPtr Ipv4Interface::udp_receive(UdpSocket& socket, Ipv4Address* source, uint16_t* source_port)
{
    PacketPtr payload = socket.m_queue.pop();
    if (payload) {
        if (source)
            *source = payload->next_hop;
        if (source_port)
            *source_port = uint16_t(payload->position);
    }
    return payload;
}

void Ipv4Interface::transmit(PacketPtr segment, Ipv4Address source, Ipv4Address destination)
{
    (void)source;
    (void)output(move(segment), kIpProtocolTcp, destination, m_now);
}

Result<void> Ipv4Interface::output(
    PacketPtr payload, uint8_t protocol, Ipv4Address destination, Millis now, Ipv4Address source)
{
    if (!is_local(destination) && !on_link(destination) && !is_broadcast(destination) && !m_config.gateway) {
        m_stats.dropped_no_route++;
        return Err(Error::ENETUNREACH);
    }
    Ipv4Header header;
    header.identification = m_identification++;
    header.protocol = protocol;
    header.source = source ? source : m_config.address;
    header.destination = destination;
    size_t length = payload->length();
    if (kIpv4HeaderSize + length <= m_config.mtu) {
        header.total_length = uint16_t(kIpv4HeaderSize + length);
        if (protocol == kIpProtocolTcp)
            header.flags_offset = kIpv4FlagDontFragment; // TCP sizes its segments to the MTU
        uint8_t* out = payload->push(kIpv4HeaderSize);
        if (!out)
            return Err(Error::EINVAL);
        write_ipv4(out, header);
        send_to_next_hop(move(payload), destination, now);
        return {};
    }
    // Fragmentation (RFC 791 3.2): pieces of a multiple of 8 bytes.
    size_t piece = (m_config.mtu - kIpv4HeaderSize) & ~size_t(7);
    for (size_t offset = 0; offset < length; offset += piece) {
        size_t size = min(piece, length - offset);
        PacketPtr fragment(Packet::create(kHeadroom, kIpv4HeaderSize + size));
        if (!fragment) {
            m_stats.dropped_no_memory++;
            return Err(Error::ENOMEM);
        }
        header.total_length = uint16_t(kIpv4HeaderSize + size);
        header.flags_offset = uint16_t(offset / 8) | (offset + size < length ? kIpv4FlagMoreFragments : 0);
        write_ipv4(fragment->put(kIpv4HeaderSize), header);
        memcpy(fragment->put(size), payload->data() + offset, size);
        m_stats.fragments_sent++;
        send_to_next_hop(move(fragment), destination, now);
    }
    return {};
}

void Ipv4Interface::send_to_next_hop(PacketPtr datagram, Ipv4Address destination, Millis now)
{
    if (is_local(destination) && m_config.loopback_device) {
        send(move(datagram), MacAddress {});
        return;
    }
    if (is_local(destination)) {
        if (PacketPtr refused = m_local.push(move(datagram)))
            m_stats.dropped_local_full++;
        return;
    }
    if (is_broadcast(destination)) {
        send(move(datagram), MacAddress::broadcast());
        return;
    }
    Ipv4Address next_hop = on_link(destination) ? destination : m_config.gateway;
    m_neighbours.output(next_hop, move(datagram), now);
}

void Ipv4Interface::send_request(Ipv4Address target)
{
    PacketPtr request(Packet::create(kHeadroom, kArpPacketSize));
    if (!request) {
        m_stats.dropped_no_memory++;
        return;
    }
    ArpPacket arp { kArpRequest, m_config.mac, m_config.address, {}, target };
    write_arp(request->put(kArpPacketSize), arp);
    send(move(request), MacAddress::broadcast());
}

void Ipv4Interface::send(PacketPtr packet, const MacAddress& destination)
{
    // The EtherType from what the packet is: an IPv4 header starts with
    // version 4, an ARP packet with hardware type 0x0001. Frames shorter
    // than 60 bytes are padded by the device, as Linux leaves it to them.
    uint16_t ether_type = packet->data()[0] >> 4 == 4 ? kEtherTypeIpv4 : kEtherTypeArp;
    uint8_t* frame = packet->push(kEthernetHeaderSize);
    write_ethernet(frame, { destination, m_config.mac, ether_type });
    m_stats.frames_sent++;
    m_link.transmit(move(packet));
}

} // namespace keel::net
