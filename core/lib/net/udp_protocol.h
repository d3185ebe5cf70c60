// The udp protocol of one host (udp.kmod's logic): the port table, each
// socket's bounded receive queue, checksums both ways, and a
// port-unreachable error for a datagram to a closed port through the ICMP
// error sink, when there is one (the icmp protocol is loaded).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/net/interface.h"
#include "lib/net/ports.h"
#include "lib/net/udp.h"

namespace keel::net {

class UdpProtocol;

// A UDP endpoint: bound to a local port, with a receive queue bounded by
// bytes, as a receive buffer: each queued datagram counts its payload
// plus kDatagramOverhead (what keeping it costs besides its bytes, as
// Linux counts an skb's truesize against SO_RCVBUF), and a datagram that
// would take the total past kReceiveBuffer is dropped and counted. 256 KiB
// hold 158 datagrams of 1,400 bytes, or 1,024 empty ones.
class UdpSocket {
public:
    static constexpr size_t kReceiveBuffer = 256 * 1024;
    static constexpr size_t kDatagramOverhead = 256;
    static constexpr size_t kQueueLimit = kReceiveBuffer / kDatagramOverhead;
    uint16_t port() const { return m_binding.local_port; }
    size_t queued() const { return m_queue.size(); }
    // The receive buffer in use (payloads plus overhead).
    size_t queued_bytes() const { return m_queued_bytes; }
    uint64_t dropped() const { return m_dropped; }
    bool is_bound() const { return m_binding.node.is_linked(); }
    // Free for the socket's owner (udp.kmod: its endpoint).
    void* owner = nullptr;

    // A connected socket (a peer set) hears of the hard ICMP errors about
    // its datagrams to that peer, as Linux's do without IP_RECVERR: port
    // or protocol unreachable leaves ECONNREFUSED pending, for the next
    // receive or send to return once. An unconnected socket hears of none
    // (the error could be about any of its destinations).
    void connect(Ipv4Address peer, uint16_t port)
    {
        m_peer = peer;
        m_peer_port = port;
    }
    bool has_error() const { return m_error != 0; }
    // The pending error, cleared; has_error() must be true.
    Error take_error()
    {
        Error error = Error(m_error);
        m_error = 0;
        return error;
    }

    UdpSocket()
        : m_queue(kQueueLimit)
    {
    }

private:
    friend class UdpProtocol;
    PortBinding m_binding;
    PacketQueue m_queue; // each packet: the payload; source in next_hop, port in position
    size_t m_queued_bytes = 0;
    uint64_t m_dropped = 0;
    Ipv4Address m_peer = 0; // 0: not connected
    uint16_t m_peer_port = 0;
    int m_error = 0; // a pending Error, 0 for none
};

// Told when a socket's receive queue goes from empty to not empty: one
// wake for a reader that empties the queue before it sleeps again, however
// many datagrams arrive meanwhile. Also when an error becomes pending.
class UdpReadable {
public:
    virtual ~UdpReadable() = default;
    virtual void readable(UdpSocket& socket) = 0;
};

class UdpProtocol : public ProtocolHandler {
public:
    struct Stats {
        uint64_t delivered = 0;
        uint64_t dropped_malformed = 0;
        uint64_t dropped_no_port = 0;
        uint64_t dropped_queue_full = 0;
        uint64_t dropped_no_memory = 0;
        uint64_t icmp_errors = 0;         // left pending on a connected socket
        uint64_t icmp_errors_ignored = 0; // no connected socket sent what they quote, or soft
    };

    explicit UdpProtocol(Ipv4Output& output)
        : m_output(output)
    {
    }
    UdpProtocol(const UdpProtocol&) = delete;
    UdpProtocol& operator=(const UdpProtocol&) = delete;

    void set_icmp_errors(IcmpErrorSink* sink) { m_icmp_errors = sink; }
    void set_readable(UdpReadable* readable) { m_readable = readable; }

    // ProtocolHandler: a UDP datagram addressed to this host.
    void input(const Datagram& datagram, Millis now) override;
    // ProtocolHandler: an ICMP error about a datagram this host sent; a
    // hard one is left pending on the connected socket that sent it
    // (UdpSocket::connect).
    void icmp_report(const IcmpReport& report, Millis now) override;

    // Binds `socket` to `port` (0: an ephemeral one) on every address.
    Result<void> bind(UdpSocket& socket, uint16_t port);
    void unbind(UdpSocket& socket);
    // One datagram from the socket's port at `source` (the address the
    // route to `destination` leaves from: the checksum covers it).
    Result<void> send(UdpSocket& socket, Ipv4Address source, Ipv4Address destination, uint16_t port,
        const uint8_t* bytes, size_t length, Millis now);
    // The next datagram's payload (and where it came from), or nothing.
    PacketPtr receive(UdpSocket& socket, Ipv4Address* source, uint16_t* source_port);

    const Stats& stats() const { return m_stats; }

private:
    Ipv4Output& m_output;
    IcmpErrorSink* m_icmp_errors = nullptr;
    UdpReadable* m_readable = nullptr;
    PortTable m_ports;
    Stats m_stats;
};

} // namespace keel::net
