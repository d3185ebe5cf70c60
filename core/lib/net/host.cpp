#include "lib/net/host.h"

namespace keel::net {

Ipv4Host::Ipv4Host(Ipv4Interface::Link& link, const InterfaceConfig& config, const tcp::Stack::Config& tcp_config,
    bool icmp, uint32_t icmp_errors_per_second)
    : m_interface(link, config)
    , m_icmp(m_interface, icmp_errors_per_second)
    , m_udp(m_interface)
    , m_tcp(m_interface, tcp_config)
{
    if (icmp) {
        MUST(m_interface.register_protocol(kIpProtocolIcmp, m_icmp));
        m_interface.set_icmp_errors(&m_icmp);
        m_udp.set_icmp_errors(&m_icmp);
        m_icmp.set_reports(&m_interface);
    }
    MUST(m_interface.register_protocol(kIpProtocolUdp, m_udp));
    MUST(m_interface.register_protocol(kIpProtocolTcp, m_tcp));
}

void Ipv4Host::tick(Millis now)
{
    m_interface.tick(now);
    m_tcp.tick(now);
}

} // namespace keel::net
