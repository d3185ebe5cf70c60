// The tcp protocol of one host (tcp.kmod's logic): the TCP stack
// (lib/net/tcp/stack.h) as a handler in the IP protocol table, sending
// its segments through an Ipv4Output. One stack serves every interface:
// connections are told apart by their whole address tuple, and a listener
// on address 0 hears every address the host has, now or later.
#pragma once

#include "lib/net/interface.h"
#include "lib/net/tcp/stack.h"

namespace keel::net {

class TcpProtocol : public ProtocolHandler, private tcp::Stack::Output {
public:
    TcpProtocol(Ipv4Output& output, const tcp::Stack::Config& config)
        : m_output(output)
        , m_stack(*this, config)
    {
    }

    // ProtocolHandler: a segment addressed to this host (never a broadcast).
    void input(const Datagram& datagram, Millis now) override;
    // ProtocolHandler: an ICMP error about a segment this host sent.
    void icmp_report(const IcmpReport& report, Millis now) override;
    // The stack's timers; the time is also what segments it sends from
    // inside a call take.
    void tick(Millis now);

    tcp::Stack& stack() { return m_stack; }

private:
    // tcp::Stack::Output
    void transmit(PacketPtr segment, Ipv4Address source, Ipv4Address destination) override;

    Ipv4Output& m_output;
    tcp::Stack m_stack;
    Millis m_now = 0; // of the call being handled, for transmit
};

} // namespace keel::net
