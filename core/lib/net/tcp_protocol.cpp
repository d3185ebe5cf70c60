#include "lib/net/tcp_protocol.h"

namespace keel::net {

void TcpProtocol::input(const Datagram& datagram, Millis now)
{
    if (datagram.to_broadcast)
        return; // TCP is unicast only (RFC 1122 4.2.3.10)
    m_now = now;
    m_stack.input(
        datagram.payload(), datagram.payload_length(), datagram.header->source, datagram.header->destination, now);
}

void TcpProtocol::icmp_report(const IcmpReport& report, Millis now)
{
    m_now = now;
    m_stack.icmp_error(report, now);
}

void TcpProtocol::tick(Millis now)
{
    m_now = now;
    m_stack.tick(now);
}

void TcpProtocol::transmit(PacketPtr segment, Ipv4Address source, Ipv4Address destination)
{
    (void)m_output.output(move(segment), kIpProtocolTcp, source, destination, m_now);
}

} // namespace keel::net
