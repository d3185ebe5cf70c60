// One whole IPv4 host on one interface: the interface (what inet.kmod
// does) with the icmp, udp and tcp protocols in its table, wired together
// as the kernel's modules wire them through inet (docs/networking.md).
// Host tests and fuzzers run it over a simulated segment; `icmp` false is
// a host whose icmp module is not loaded (no echo replies, no errors).
#pragma once

#include "lib/net/icmp_protocol.h"
#include "lib/net/interface.h"
#include "lib/net/tcp_protocol.h"
#include "lib/net/udp_protocol.h"

namespace keel::net {

class Ipv4Host {
public:
    Ipv4Host(Ipv4Interface::Link& link, const InterfaceConfig& config, const tcp::Stack::Config& tcp_config,
        bool icmp = true, uint32_t icmp_errors_per_second = 1000);
    Ipv4Host(const Ipv4Host&) = delete;
    Ipv4Host& operator=(const Ipv4Host&) = delete;

    void receive(const uint8_t* frame, size_t length, Millis now) { m_interface.receive(frame, length, now); }
    size_t poll(Millis now) { return m_interface.poll(now); }
    // The interface's timers, then TCP's.
    void tick(Millis now);

    Result<void> ping(Ipv4Address destination, uint16_t identifier, uint16_t sequence, size_t size, Millis now)
    {
        return m_icmp.ping(destination, identifier, sequence, size, now);
    }
    const IcmpProtocol::EchoReply& last_echo_reply() const { return m_icmp.last_echo_reply(); }

    Result<void> udp_bind(UdpSocket& socket, uint16_t port) { return m_udp.bind(socket, port); }
    void udp_unbind(UdpSocket& socket) { m_udp.unbind(socket); }
    Result<void> udp_send(
        UdpSocket& socket, Ipv4Address destination, uint16_t port, const uint8_t* bytes, size_t length, Millis now)
    {
        return m_udp.send(socket, m_interface.config().address, destination, port, bytes, length, now);
    }
    PacketPtr udp_receive(UdpSocket& socket, Ipv4Address* source, uint16_t* source_port)
    {
        return m_udp.receive(socket, source, source_port);
    }

    Ipv4Interface& interface() { return m_interface; }
    tcp::Stack& tcp() { return m_tcp.stack(); }
    NeighbourCache& neighbours() { return m_interface.neighbours(); }
    const Reassembler& reassembler() const { return m_interface.reassembler(); }
    const InterfaceConfig& config() const { return m_interface.config(); }
    const Ipv4Interface::Stats& stats() const { return m_interface.stats(); }
    const IcmpProtocol::Stats& icmp_stats() const { return m_icmp.stats(); }
    const UdpProtocol::Stats& udp_stats() const { return m_udp.stats(); }

private:
    Ipv4Interface m_interface;
    IcmpProtocol m_icmp;
    UdpProtocol m_udp;
    TcpProtocol m_tcp;
};

} // namespace keel::net
