// One IPv4 host on one Ethernet interface: what inet, icmp and udp do for
// a frame from the wire (ARP, IPv4 checks and reassembly, ICMP echo and
// errors, UDP delivery, TCP handed to its stack) and on the way out
// (routing to the link or the gateway, fragmentation, neighbour
// resolution, framing). Hardware is reached through a Link the caller
// provides; time is passed in. The kernel's netdev core and protocol
// modules are to wrap this; host tests run it over a simulated segment.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"
#include "lib/net/ethernet.h"
#include "lib/net/ipv4.h"
#include "lib/net/neighbour.h"
#include "lib/net/ports.h"
#include "lib/net/rate_limit.h"
#include "lib/net/reassembly.h"
#include "lib/net/tcp/stack.h"

namespace keel::net {

class Ipv4Interface;

// A UDP endpoint: bound to a local port, with a bounded receive queue.
class UdpSocket {
public:
    static constexpr size_t kQueueLimit = 64;
    uint16_t port() const { return m_binding.local_port; }
    size_t queued() const { return m_queue.size(); }
    uint64_t dropped() const { return m_dropped; }

    UdpSocket()
        : m_queue(kQueueLimit)
    {
    }

private:
    friend class Ipv4Interface;
    PortBinding m_binding;
    PacketQueue m_queue; // each packet: the payload; source in next_hop, port in position
    uint64_t m_dropped = 0;
};

struct InterfaceConfig {
    MacAddress mac;
    Ipv4Address address = 0;
    uint8_t prefix_length = 24;
    Ipv4Address gateway = 0; // 0: no default route
    uint16_t mtu = kEthernetMtu;
    bool icmp = true; // answer echo requests and send errors (the icmp module is loaded)
    // The link is a loopback device (the netdev core's lo): datagrams to
    // this host go out on it in frames with zero addresses and come back
    // through receive(), instead of waiting in the interface's own queue.
    bool loopback_device = false;
    uint32_t icmp_errors_per_second = 1000;
};

// A handler for an IP protocol the interface does not handle itself
// (Ipv4Interface::register_protocol): the datagram's header and payload.
class ProtocolHandler {
public:
    virtual ~ProtocolHandler() = default;
    virtual void input(const Ipv4Header& header, const uint8_t* payload, size_t length) = 0;
};

class Ipv4Interface : private NeighbourCache::Sink, private tcp::Stack::Output {
public:
    class Link {
    public:
        virtual ~Link() = default;
        // A whole Ethernet frame (without frame check sequence).
        virtual void transmit(PacketPtr frame) { (void)frame; }
    };

    // Why input was dropped, counted (netstat -s style).
    struct Stats {
        uint64_t frames_received = 0;
        uint64_t frames_sent = 0;
        uint64_t dropped_link = 0; // bad Ethernet header, unknown EtherType, not for us
        uint64_t dropped_arp = 0;  // malformed ARP
        uint64_t arp_replies_sent = 0;
        uint64_t dropped_ip_header = 0; // failed parse_ipv4
        uint64_t dropped_not_ours = 0;  // another destination (no forwarding)
        uint64_t dropped_protocol = 0;  // no handler for the IP protocol
        uint64_t dropped_icmp = 0;      // malformed ICMP
        uint64_t dropped_udp = 0;       // malformed UDP
        uint64_t dropped_no_port = 0;   // UDP to a closed port
        uint64_t dropped_no_route = 0;
        uint64_t dropped_no_memory = 0;
        uint64_t echo_requests = 0;
        uint64_t echo_replies_received = 0;
        uint64_t icmp_errors_sent = 0;
        uint64_t icmp_errors_received = 0;
        uint64_t icmp_rate_limited = 0;
        uint64_t udp_delivered = 0;
        uint64_t fragments_sent = 0;
        uint64_t local_delivered = 0;
        uint64_t dropped_local_full = 0;
    };

    // The last echo reply received, for ping.
    struct EchoReply {
        Ipv4Address from = 0;
        uint16_t identifier = 0;
        uint16_t sequence = 0;
        size_t length = 0;
        uint8_t ttl = 0;
        Millis at = 0;
    };

    Ipv4Interface(Link& link, const InterfaceConfig& config, const tcp::Stack::Config& tcp_config);
    ~Ipv4Interface() override;

    // A frame from the device.
    void receive(const uint8_t* frame, size_t length, Millis now);
    // Handles the datagrams this host sent to itself (at most `budget`),
    // as a device's receive poll would; returns how many. Local datagrams
    // are never handled inside the call that sent them, so no protocol
    // sees its own output arrive before it has finished sending.
    size_t poll(Millis now, size_t budget = 256);
    bool has_local_work() const { return !m_local.is_empty(); }
    // Neighbour retries, reassembly timeouts, TCP timers; and poll().
    void tick(Millis now);
    Millis next_deadline() const;

    // ICMP echo request of `size` bytes of data.
    Result<void> ping(Ipv4Address destination, uint16_t identifier, uint16_t sequence, size_t size, Millis now);
    const EchoReply& last_echo_reply() const { return m_last_reply; }

    // UDP.
    Result<void> udp_bind(UdpSocket& socket, uint16_t port);
    void udp_unbind(UdpSocket& socket);
    Result<void> udp_send(
        UdpSocket& socket, Ipv4Address destination, uint16_t port, const uint8_t* bytes, size_t length, Millis now);
    // The next datagram's payload (and where it came from), or nothing.
    PacketPtr udp_receive(UdpSocket& socket, Ipv4Address* source, uint16_t* source_port);

    // The IP protocol table beyond ICMP, TCP and UDP (which the interface
    // handles itself): EEXIST for those and for a taken number.
    Result<void> register_protocol(uint8_t protocol, ProtocolHandler& handler);
    void unregister_protocol(uint8_t protocol);
    // A datagram of `protocol` with `length` bytes of payload.
    Result<void> send_datagram(
        uint8_t protocol, Ipv4Address destination, const uint8_t* payload, size_t length, Millis now);

    tcp::Stack& tcp() { return m_tcp; }
    NeighbourCache& neighbours() { return m_neighbours; }
    const Reassembler& reassembler() const { return m_reassembler; }
    const InterfaceConfig& config() const { return m_config; }
    // The default route's next hop (0: none), as `ip route add default` sets it.
    void set_gateway(Ipv4Address gateway) { m_config.gateway = gateway; }
    const Stats& stats() const { return m_stats; }

private:
    // NeighbourCache::Sink
    void send_request(Ipv4Address target) override;
    void send(PacketPtr packet, const MacAddress& destination) override;
    // tcp::Stack::Output
    void transmit(PacketPtr segment, Ipv4Address source, Ipv4Address destination) override;

    void input_arp(const uint8_t* bytes, size_t length, Millis now);
    void input_ipv4(const uint8_t* bytes, size_t length, bool link_broadcast, Millis now);
    void deliver(const Ipv4Header& header, const uint8_t* datagram, bool to_broadcast, Millis now);
    void input_icmp(const Ipv4Header& header, const uint8_t* bytes, size_t length, bool to_broadcast, Millis now);
    void input_udp(const Ipv4Header& header, const uint8_t* datagram, bool to_broadcast, Millis now);
    void send_icmp_error(
        uint8_t type, uint8_t code, const Ipv4Header& header, const uint8_t* datagram, bool to_broadcast, Millis now);
    // Adds the IP header (fragmenting when needed) and sends to the next hop.
    // `source` 0 is the interface's address.
    Result<void> output(
        PacketPtr payload, uint8_t protocol, Ipv4Address destination, Millis now, Ipv4Address source = 0);
    void send_to_next_hop(PacketPtr datagram, Ipv4Address destination, Millis now);
    // Whether a datagram to `address` stays in this host (our address, or
    // all of 127/8 on a loopback interface; on a loopback device, any
    // unicast address, since the host routes to it only what is its own):
    // delivered through m_local or the loopback device, never the link.
    bool is_local(Ipv4Address address) const;
    bool on_link(Ipv4Address address) const;
    bool is_broadcast(Ipv4Address address) const;

    Link& m_link;
    InterfaceConfig m_config;
    NeighbourCache m_neighbours;
    Reassembler m_reassembler;
    RateLimiter m_icmp_limiter;
    PortTable m_udp_ports;
    tcp::Stack m_tcp;
    Stats m_stats;
    EchoReply m_last_reply;
    PacketQueue m_local { 256 };
    ProtocolHandler* m_protocols[256] = {};
    uint16_t m_identification = 1;
    Millis m_now = 0; // of the call being handled, for the callbacks
};

} // namespace keel::net
