// One IPv4 interface on one Ethernet link: what inet does for a frame
// from the wire (ARP, IPv4 checks and reassembly, delivery to the protocol
// registered for the datagram's number) and on the way out (routing to the
// link or the gateway, fragmentation, neighbour resolution, framing). The
// protocols themselves (ICMP, UDP, TCP: icmp_protocol.h, udp_protocol.h,
// tcp_protocol.h) are handlers in its protocol table, as they are modules
// in the kernel; host.h puts all four together for one host. Hardware is
// reached through a Link the caller provides; time is passed in.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"
#include "lib/net/ethernet.h"
#include "lib/net/icmp.h"
#include "lib/net/ipv4.h"
#include "lib/net/neighbour.h"
#include "lib/net/reassembly.h"

namespace keel::net {

// A datagram addressed to this host, as the IP layer hands it up: the
// parsed header and the whole datagram (header, then payload).
struct Datagram {
    const Ipv4Header* header = nullptr;
    const uint8_t* bytes = nullptr;
    bool to_broadcast = false; // to a broadcast address, or in a link broadcast

    const uint8_t* payload() const { return bytes + header->header_length; }
    size_t payload_length() const { return header->payload_length(); }
};

// A handler for one IP protocol (Ipv4Interface::register_protocol).
class ProtocolHandler {
public:
    virtual ~ProtocolHandler() = default;
    virtual void input(const Datagram& datagram, Millis now) = 0;
    // An ICMP error about a datagram of this protocol that the host sent
    // (the icmp protocol checked the message and its quote); ignored
    // unless the protocol cares.
    virtual void icmp_report(const IcmpReport& report, Millis now)
    {
        (void)report;
        (void)now;
    }
};

// Where the protocols send: a payload of `protocol` from `source` (0: the
// address of the interface the route picks) to `destination`.
class Ipv4Output {
public:
    virtual ~Ipv4Output() = default;
    // A packet for a payload of up to `capacity` bytes, with `headroom` in
    // front: where the output wants the payload built (inet's glue: in a
    // core packet it hands on without copying).
    virtual PacketPtr allocate(size_t headroom, size_t capacity)
    {
        return PacketPtr(Packet::create(headroom, capacity));
    }
    virtual Result<void> output(
        PacketPtr payload, uint8_t protocol, Ipv4Address source, Ipv4Address destination, Millis now)
        = 0;
};

// Where a received datagram gets an ICMP error when one is due (the icmp
// protocol when it is there; nobody otherwise).
class IcmpErrorSink {
public:
    virtual ~IcmpErrorSink() = default;
    virtual void icmp_error(uint8_t type, uint8_t code, const Datagram& datagram, Millis now) = 0;
};

// Where the icmp protocol hands the ICMP errors it received: to the
// protocol of the quoted datagram (the interface's table here; inet's in
// the kernel).
class IcmpReportSink {
public:
    virtual ~IcmpReportSink() = default;
    virtual void icmp_report(const IcmpReport& report, Millis now) = 0;
};

struct InterfaceConfig {
    MacAddress mac;
    Ipv4Address address = 0;
    uint8_t prefix_length = 24;
    Ipv4Address gateway = 0; // 0: no default route
    uint16_t mtu = kEthernetMtu;
    // The link is a loopback device (the netdev core's lo): datagrams to
    // this host go out on it in frames with zero addresses and come back
    // through receive(), instead of waiting in the interface's own queue.
    bool loopback_device = false;
    // Whether an address is one of the host's other interfaces' (called
    // from receive, with whatever guards those interfaces held by the
    // caller); null: this interface's address is the host's only one.
    bool (*is_host_address)(Ipv4Address address) = nullptr;
};

class Ipv4Interface : public Ipv4Output,
                      public IcmpReportSink,
                      private NeighbourCache::Sink,
                      private Reassembler::TimeoutSink {
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
        uint64_t dropped_martian = 0;   // a source no other host may use (martian_source)
        uint64_t dropped_protocol = 0;  // no handler for the IP protocol
        uint64_t dropped_no_route = 0;
        uint64_t dropped_no_memory = 0;
        uint64_t fragments_sent = 0;
        uint64_t local_delivered = 0;
        uint64_t dropped_local_full = 0;
    };

    Ipv4Interface(Link& link, const InterfaceConfig& config);
    ~Ipv4Interface() override;
    Ipv4Interface(const Ipv4Interface&) = delete;
    Ipv4Interface& operator=(const Ipv4Interface&) = delete;

    // A frame from the device.
    void receive(const uint8_t* frame, size_t length, Millis now);
    // Handles the datagrams this host sent to itself (at most `budget`),
    // as a device's receive poll would; returns how many. Local datagrams
    // are never handled inside the call that sent them, so no protocol
    // sees its own output arrive before it has finished sending.
    size_t poll(Millis now, size_t budget = 256);
    bool has_local_work() const { return !m_local.is_empty(); }
    // Neighbour retries and reassembly timeouts; and poll().
    void tick(Millis now);

    // The IP protocol table: EEXIST for a taken number.
    Result<void> register_protocol(uint8_t protocol, ProtocolHandler& handler);
    void unregister_protocol(uint8_t protocol);
    // What gets the datagrams of a protocol nobody registered (inet hands
    // them to the protocol modules); without one they are dropped with a
    // protocol-unreachable error.
    void set_fallback(ProtocolHandler* handler) { m_fallback = handler; }
    // Where errors about received datagrams go: protocol unreachable,
    // and time exceeded for a reassembly that timed out after its first
    // fragment came (RFC 792, RFC 1122 3.3.2).
    void set_icmp_errors(IcmpErrorSink* sink) { m_icmp_errors = sink; }
    // IcmpReportSink: a received ICMP error to the protocol of the
    // datagram it quotes, if one is registered.
    void icmp_report(const IcmpReport& report, Millis now) override;

    // Ipv4Output: adds the IP header (fragmenting when needed) and sends
    // to the next hop. `source` 0 is the interface's address.
    Result<void> output(
        PacketPtr payload, uint8_t protocol, Ipv4Address source, Ipv4Address destination, Millis now) override;
    // A datagram of `protocol` with a copy of `length` bytes as payload.
    Result<void> send_datagram(uint8_t protocol, Ipv4Address source, Ipv4Address destination, const uint8_t* payload,
        size_t length, Millis now);

    NeighbourCache& neighbours() { return m_neighbours; }
    const Reassembler& reassembler() const { return m_reassembler; }
    const InterfaceConfig& config() const { return m_config; }
    // The default route's next hop (0: none), as `ip route add default` sets it.
    void set_gateway(Ipv4Address gateway) { m_config.gateway = gateway; }
    const Stats& stats() const { return m_stats; }

    // Room the protocols leave in front of their payloads for the IP and
    // link headers.
    static constexpr size_t kHeadroom = 64;

private:
    // NeighbourCache::Sink
    void send_request(Ipv4Address target) override;
    void send(PacketPtr packet, const MacAddress& destination) override;
    // Reassembler::TimeoutSink
    void reassembly_timed_out(const Ipv4Header& header, const uint8_t* bytes, Millis now) override;

    void input_arp(const uint8_t* bytes, size_t length, Millis now);
    // How a datagram came: from this host (m_local), or from the link in
    // a frame to us or to the link's broadcast address.
    enum class Arrival : uint8_t { Local, Link, LinkBroadcast };
    void input_ipv4(const uint8_t* bytes, size_t length, Arrival arrival, Millis now);
    void deliver(const Datagram& datagram, Millis now);
    void send_to_next_hop(PacketPtr datagram, Ipv4Address destination, Millis now);
    // Whether a datagram to `address` stays in this host (our address, or
    // all of 127/8 on a loopback interface; on a loopback device, any
    // unicast address, since the host routes to it only what is its own):
    // delivered through m_local or the loopback device, never the link.
    bool is_local(Ipv4Address address) const;
    bool martian_source(const Ipv4Header& header) const;
    bool on_link(Ipv4Address address) const;
    bool is_broadcast(Ipv4Address address) const;

    Link& m_link;
    InterfaceConfig m_config;
    NeighbourCache m_neighbours;
    Reassembler m_reassembler;
    Stats m_stats;
    PacketQueue m_local { 256 };
    ProtocolHandler* m_protocols[256] = {};
    ProtocolHandler* m_fallback = nullptr;
    IcmpErrorSink* m_icmp_errors = nullptr;
    uint16_t m_identification = 1;
};

} // namespace keel::net
