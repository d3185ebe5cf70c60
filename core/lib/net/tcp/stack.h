// TCP for one host: its connections and listeners, the demultiplexing of
// received segments, resets for segments nobody wants (RFC 9293 3.10.7.1),
// initial sequence numbers (RFC 6528) and the timers. It sends through an
// Output the caller provides (the IP layer in the kernel, a simulated link
// in tests) and is given the time with every call.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"
#include "lib/net/icmp.h"
#include "lib/net/packet.h"
#include "lib/net/ports.h"
#include "lib/net/tcp/connection.h"

namespace keel::net::tcp {

class Listener {
public:
    // The next connection that completed its handshake, or null. The
    // caller now holds it (and releases it when done).
    Connection* accept();
    // Stops listening: connections not yet accepted are reset, the
    // listener is freed.
    void close(Millis now);

    size_t backlog() const { return m_backlog; }
    size_t pending() const { return m_pending; } // handshaking or waiting for accept
    size_t ready() const;
    uint64_t dropped_syns() const { return m_dropped_syns; }
    uint64_t evicted_handshakes() const { return m_evicted_handshakes; }
    uint64_t syn_cookies_sent() const { return m_syn_cookies_sent; }
    uint64_t syn_cookies_accepted() const { return m_syn_cookies_accepted; }
    uint16_t port() const { return m_binding.local_port; }

    // Only the stack creates listeners.
    Listener(Stack& stack, size_t backlog)
        : m_stack(stack)
        , m_backlog(backlog)
    {
    }

private:
    friend class Stack;
    friend class Connection;

    Stack& m_stack;
    IntrusiveListNode m_node;
    PortBinding m_binding;
    size_t m_backlog;
    size_t m_pending = 0;
    uint64_t m_dropped_syns = 0;
    uint64_t m_evicted_handshakes = 0;
    uint64_t m_syn_cookies_sent = 0;
    uint64_t m_syn_cookies_accepted = 0;
    Millis m_last_cookie = 0; // when one was sent last; 0: never
    IntrusiveList<Connection, &Connection::m_queue_node> m_accept_queue;
};

class Stack {
public:
    class Output {
    public:
        virtual ~Output() = default;
        // A TCP segment (header and data, checksum filled in) for the IP
        // layer to send from `source` to `destination`.
        virtual void transmit(PacketPtr segment, Ipv4Address source, Ipv4Address destination)
        {
            (void)segment;
            (void)source;
            (void)destination;
        }
    };

    struct Config {
        size_t headroom = 64;    // for the IP and link headers
        uint8_t secret[16] = {}; // keys the initial sequence numbers
        size_t max_connections = 4096;
        // Released connections still sending (FIN-WAIT-1, CLOSING,
        // LAST-ACK), each holding its send ring until the peer takes it.
        size_t max_orphans = 1024;
        // With a listener's backlog full of handshakes (and none stale),
        // answer a SYN with a cookie (syn_cookie.h) instead of dropping it.
        bool syn_cookies = true;
        Options defaults;
    };

    struct Stats {
        uint64_t segments_received = 0;
        uint64_t dropped_malformed = 0;
        uint64_t dropped_no_connection = 0;
        uint64_t resets_sent = 0;
        uint64_t connections_opened = 0;
        uint64_t connections_freed = 0;
        uint64_t dropped_connection_limit = 0;
        uint64_t icmp_errors = 0;          // taken by a connection
        uint64_t icmp_errors_ignored = 0;  // no such connection, or a sequence number never in flight
        uint64_t aborted_on_close = 0;     // released with received data unread: reset
        uint64_t aborted_on_data = 0;      // data came after the release: reset
        uint64_t aborted_on_orphans = 0;   // released past max_orphans: reset
        uint64_t syn_cookies_rejected = 0; // an ACK to a listener sending cookies, with no good one
        uint64_t time_wait_reopened = 0;   // a new SYN took the place of a connection in TIME-WAIT
    };

    Stack(Output& output, const Config& config);
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // An active open from `local` (port 0: an ephemeral one) to `remote`.
    Result<Connection*> connect(Ipv4Address local_address, uint16_t local_port, Ipv4Address remote_address,
        uint16_t remote_port, Millis now, const Options* options = nullptr);
    // A passive open; EADDRINUSE when the port is taken.
    Result<Listener*> listen(Ipv4Address local_address, uint16_t port, size_t backlog);

    // A received IP payload for protocol 6.
    void input(const uint8_t* bytes, size_t length, Ipv4Address source, Ipv4Address destination, Millis now);
    // An ICMP error about a segment this host sent (RFC 1122 4.2.3.9,
    // RFC 5461): handed to its connection if there is one and the quoted
    // sequence number is in flight (SND.UNA <= SEG.SEQ < SND.MAX, RFC
    // 5927 4.1's check against blind attacks); ignored otherwise.
    void icmp_error(const IcmpReport& report, Millis now);
    // Runs every timer that is due.
    void tick(Millis now);
    // The earliest time tick() has something to do; 0 when nothing.
    Millis next_deadline() const;

    size_t connections() const { return m_count; }
    // Released connections still sending (Config::max_orphans).
    size_t orphans() const;
    // Calls visit(connection) for each connection the user released that
    // is still closing (FIN-WAIT-1 and -2, CLOSING, LAST-ACK, TIME-WAIT):
    // what ss lists after the socket was closed.
    template<typename Visit> void for_each_released(Visit visit)
    {
        for (Connection& connection : m_connections) {
            if (connection.m_released && connection.m_state != State::Closed)
                visit(static_cast<const Connection&>(connection));
        }
    }
    const Stats& stats() const { return m_stats; }
    const Config& config() const { return m_config; }

private:
    friend class Connection;
    friend class Listener;

    static constexpr size_t kBuckets = 1024; // chains of connections by four-tuple

    Connection* find(const Tuple& tuple);
    size_t bucket(const Tuple& tuple) const;
    void attach(Connection& connection);
    Listener* find_listener(Ipv4Address address, uint16_t port);
    Connection* create(const Tuple& tuple, const Options& options, bool buffers = true);
    // sequence_floor: when not 0, the initial sequence number is at least
    // this (a connection reopened from TIME-WAIT).
    void accept_syn(
        Listener& listener, const Segment& segment, const Tuple& tuple, Millis now, uint32_t sequence_floor);
    bool reopens_from_time_wait(const Connection& connection, const Segment& segment);
    void send_syn_cookie(Listener& listener, const Segment& syn, const Tuple& tuple, Millis now);
    // True when `ack` carried a good cookie (and was taken, or dropped for
    // want of room); false when it is to be answered with a reset.
    bool accept_syn_cookie(Listener& listener, const Segment& ack, const Tuple& tuple, Millis now);
    Connection* add_child(Listener& listener, const Tuple& tuple);
    void send_reset_for(const Segment& segment, Ipv4Address source, Ipv4Address destination);
    void emit(PacketPtr segment, Ipv4Address source, Ipv4Address destination);
    uint32_t initial_sequence(const Tuple& tuple, Millis now) const;
    // Frees the connections that are closed and that nobody holds.
    void reap();
    void free_connection(Connection& connection);
    Connection* oldest_handshake(const Listener& listener, bool stale_only);
    void evict_handshake(Listener& listener, Connection& handshake);

    Output& m_output;
    Config m_config;
    Stats m_stats;
    IntrusiveList<Connection, &Connection::m_node> m_connections;
    Connection* m_buckets[kBuckets] = {};
    IntrusiveList<Listener, &Listener::m_node> m_listeners;
    PortTable m_ports; // listeners and actively opened connections
    size_t m_count = 0;
};

} // namespace keel::net::tcp
