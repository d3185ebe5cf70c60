#include "lib/net/interface.h"

#include "lib/base/string.h"
#include "lib/net/arp.h"
#include "lib/net/icmp.h"

namespace keel::net {

Ipv4Interface::Ipv4Interface(Link& link, const InterfaceConfig& config)
    : m_link(link)
    , m_config(config)
    , m_neighbours(*this)
{
    m_reassembler.set_timeout_sink(this);
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

// A source no other host on the link may use (Linux's martian sources):
// this host's own addresses (this interface's and its others'), 127/8, 0/8 (but 0.0.0.0 to the limited
// broadcast: a host without an address asking DHCP), or a broadcast
// address. An answer to such a datagram would come back to this host
// (a spoofed segment from our own address to ourselves makes TCP answer
// itself), or go to everyone.
bool Ipv4Interface::martian_source(const Ipv4Header& header) const
{
    Ipv4Address source = header.source;
    if (m_config.loopback_device)
        return false;
    if (source >> 24 == 0)
        return source != 0 || header.destination != kIpv4Broadcast;
    return ipv4_is_loopback(source) || source == m_config.address || is_broadcast(source)
        || (m_config.is_host_address && m_config.is_host_address(source));
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
    size_t handled = 0;
    while (handled < budget) {
        PacketPtr datagram = m_local.pop();
        if (!datagram)
            break;
        handled++;
        m_stats.local_delivered++;
        input_ipv4(datagram->data(), datagram->length(), Arrival::Local, now);
    }
    return handled;
}

void Ipv4Interface::tick(Millis now)
{
    m_neighbours.tick(now);
    m_reassembler.tick(now);
    poll(now);
}

void Ipv4Interface::receive(const uint8_t* frame, size_t length, Millis now)
{
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
        input_ipv4(payload, payload_length, broadcast ? Arrival::LinkBroadcast : Arrival::Link, now);
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

void Ipv4Interface::input_ipv4(const uint8_t* bytes, size_t length, Arrival arrival, Millis now)
{
    Result<Ipv4Header> parsed = parse_ipv4(bytes, length, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_ip_header++;
        return;
    }
    const Ipv4Header& header = parsed.value();
    bool to_broadcast = arrival == Arrival::LinkBroadcast || is_broadcast(header.destination);
    if (!is_local(header.destination) && !is_broadcast(header.destination)) {
        m_stats.dropped_not_ours++; // a host does not forward
        return;
    }
    if (arrival != Arrival::Local && martian_source(header)) {
        m_stats.dropped_martian++;
        return;
    }
    if (!header.is_fragment()) {
        deliver({ &header, bytes, to_broadcast }, now);
        return;
    }
    PacketPtr whole = m_reassembler.input(header, bytes + header.header_length, header.payload_length(), now);
    if (!whole)
        return;
    Ipv4Header whole_header = MUST(parse_ipv4(whole->data(), whole->length(), nullptr));
    deliver({ &whole_header, whole->data(), to_broadcast }, now);
}

void Ipv4Interface::deliver(const Datagram& datagram, Millis now)
{
    if (ProtocolHandler* handler = m_protocols[datagram.header->protocol]) {
        handler->input(datagram, now);
        return;
    }
    if (m_fallback) {
        m_fallback->input(datagram, now);
        return;
    }
    m_stats.dropped_protocol++;
    if (m_icmp_errors)
        m_icmp_errors->icmp_error(kIcmpDestinationUnreachable, kIcmpUnreachableProtocol, datagram, now);
}

void Ipv4Interface::icmp_report(const IcmpReport& report, Millis now)
{
    if (ProtocolHandler* handler = m_protocols[report.protocol])
        handler->icmp_report(report, now);
}

void Ipv4Interface::reassembly_timed_out(const Ipv4Header& header, const uint8_t* bytes, Millis now)
{
    if (!m_icmp_errors)
        return;
    // The datagram handed on holds only what the error quotes.
    Ipv4Header quoted = header;
    quoted.total_length = uint16_t(min<size_t>(header.total_length, kIpv4HeaderSize + 8));
    m_icmp_errors->icmp_error(
        kIcmpTimeExceeded, kIcmpTimeExceededReassembly, { &quoted, bytes, is_broadcast(header.destination) }, now);
}

Result<void> Ipv4Interface::register_protocol(uint8_t protocol, ProtocolHandler& handler)
{
    if (m_protocols[protocol])
        return Err(Error::EEXIST);
    m_protocols[protocol] = &handler;
    return {};
}

void Ipv4Interface::unregister_protocol(uint8_t protocol) { m_protocols[protocol] = nullptr; }

Result<void> Ipv4Interface::send_datagram(
    uint8_t protocol, Ipv4Address source, Ipv4Address destination, const uint8_t* payload, size_t length, Millis now)
{
    if (length > 65535 - kIpv4HeaderSize)
        return Err(Error::EMSGSIZE);
    PacketPtr packet(Packet::create(kHeadroom, length));
    if (!packet) {
        m_stats.dropped_no_memory++;
        return Err(Error::ENOMEM);
    }
    if (length)
        memcpy(packet->put(length), payload, length);
    return output(move(packet), protocol, source, destination, now);
}

Result<void> Ipv4Interface::output(
    PacketPtr payload, uint8_t protocol, Ipv4Address source, Ipv4Address destination, Millis now)
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
    if (!frame) {
        m_stats.dropped_no_memory++; // no headroom (every packet made here has kHeadroom)
        return;
    }
    write_ethernet(frame, { destination, m_config.mac, ether_type });
    m_stats.frames_sent++;
    m_link.transmit(move(packet));
}

} // namespace keel::net
