#include "lib/net/udp_protocol.h"

#include "lib/net/checksum.h"

#include "lib/base/string.h"
#include "lib/net/bytes.h"
#include "lib/net/icmp.h"

namespace keel::net {

void UdpProtocol::input(const Datagram& datagram, Millis now)
{
    const Ipv4Header& header = *datagram.header;
    const uint8_t* bytes = datagram.payload();
    Result<UdpHeader> parsed = parse_udp(bytes, datagram.payload_length(), header.source, header.destination, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_malformed++;
        return;
    }
    const UdpHeader& udp = parsed.value();
    PortBinding* binding = m_ports.lookup(header.destination, udp.destination_port);
    if (!binding) {
        m_stats.dropped_no_port++;
        if (m_icmp_errors)
            m_icmp_errors->icmp_error(kIcmpDestinationUnreachable, kIcmpUnreachablePort, datagram, now);
        return;
    }
    UdpSocket& socket = *static_cast<UdpSocket*>(binding->owner);
    size_t length = udp.length - kUdpHeaderSize;
    size_t cost = length + UdpSocket::kDatagramOverhead;
    if (socket.m_queued_bytes + cost > UdpSocket::kReceiveBuffer) {
        socket.m_dropped++;
        m_stats.dropped_queue_full++;
        return;
    }
    PacketPtr payload(Packet::copy_of(bytes + kUdpHeaderSize, length, 0));
    if (!payload) {
        socket.m_dropped++;
        m_stats.dropped_no_memory++;
        return;
    }
    payload->next_hop = header.source;
    payload->position = udp.source_port;
    bool was_empty = socket.m_queue.is_empty();
    if (PacketPtr refused = socket.m_queue.push(move(payload))) {
        socket.m_dropped++;
        m_stats.dropped_queue_full++;
        return;
    }
    socket.m_queued_bytes += cost;
    m_stats.delivered++;
    if (was_empty && m_readable)
        m_readable->readable(socket);
}

void UdpProtocol::icmp_report(const IcmpReport& report, Millis)
{
    if (report.protocol != kIpProtocolUdp || report.transport_length < kUdpHeaderSize) {
        m_stats.icmp_errors_ignored++;
        return;
    }
    // The quote is of a datagram we sent: its source port is ours, its
    // destination the peer's.
    uint16_t source_port = load16(report.transport);
    uint16_t destination_port = load16(report.transport + 2);
    PortBinding* binding = m_ports.lookup(report.source, source_port);
    auto* socket = binding ? static_cast<UdpSocket*>(binding->owner) : nullptr;
    if (!socket || socket->m_peer == 0 || socket->m_peer != report.destination
        || socket->m_peer_port != destination_port || !icmp_error_is_hard(report.type, report.code)) {
        m_stats.icmp_errors_ignored++;
        return;
    }
    bool was_quiet = !socket->has_error() && socket->m_queue.is_empty();
    socket->m_error = int(icmp_error_errno(report.type, report.code));
    m_stats.icmp_errors++;
    if (was_quiet && m_readable)
        m_readable->readable(*socket);
}

Result<void> UdpProtocol::bind(UdpSocket& socket, uint16_t port)
{
    socket.m_binding.local_address = 0;
    socket.m_binding.local_port = port;
    socket.m_binding.owner = &socket;
    return m_ports.bind(socket.m_binding);
}

void UdpProtocol::unbind(UdpSocket& socket)
{
    if (socket.is_bound())
        m_ports.unbind(socket.m_binding);
    socket.m_queue.clear();
    socket.m_queued_bytes = 0;
    socket.m_error = 0;
}

Result<void> UdpProtocol::send(UdpSocket& socket, Ipv4Address source, Ipv4Address destination, uint16_t port,
    const uint8_t* bytes, size_t length, Millis now)
{
    if (!socket.is_bound())
        return Err(Error::ENOTCONN);
    if (port == 0)
        return Err(Error::EINVAL);
    if (length > kIpv4MaxDatagram - kIpv4HeaderSize - kUdpHeaderSize)
        return Err(Error::EMSGSIZE);
    PacketPtr datagram = m_output.allocate(Ipv4Interface::kHeadroom, kUdpHeaderSize + length);
    if (!datagram)
        return Err(Error::ENOMEM);
    uint8_t* out = datagram->put(kUdpHeaderSize + length);
    uint64_t payload_sum = length ? checksum_copy(0, out + kUdpHeaderSize, bytes, length) : 0;
    write_udp_summed(out, socket.port(), port, payload_sum, length, source, destination);
    return m_output.output(move(datagram), kIpProtocolUdp, source, destination, now);
}

PacketPtr UdpProtocol::receive(UdpSocket& socket, Ipv4Address* source, uint16_t* source_port)
{
    PacketPtr payload = socket.m_queue.pop();
    if (payload) {
        socket.m_queued_bytes -= payload->length() + UdpSocket::kDatagramOverhead;
        if (source)
            *source = payload->next_hop;
        if (source_port)
            *source_port = uint16_t(payload->position);
    }
    return payload;
}

} // namespace keel::net
