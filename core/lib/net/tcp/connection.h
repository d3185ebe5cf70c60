// One TCP connection (RFC 9293's transmission control block) and what a
// user does with it. The stack (stack.h) owns every connection, hands
// segments to input() and calls tick() with the time; the connection
// answers through the stack's output. Nothing here reads a clock.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"
#include "lib/net/icmp.h"
#include "lib/net/packet.h"
#include "lib/net/ports.h"
#include "lib/net/rate_limit.h"
#include "lib/net/tcp/byte_ring.h"
#include "lib/net/tcp/header.h"
#include "lib/net/tcp/newreno.h"
#include "lib/net/tcp/rtt.h"

namespace keel::net::tcp {

enum class State : uint8_t {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
};
// "ESTABLISHED", "TIME-WAIT", ... as RFC 9293 spells them.
const char* state_name(State state);

struct Options {
    size_t send_buffer = 64 * 1024;
    size_t receive_buffer = 64 * 1024;
    uint16_t mtu = 1500;         // of the path: MSS = MTU - 40
    bool nodelay = false;        // no Nagle (RFC 9293 3.7.4)
    Millis delayed_ack = 40;     // RFC 9293 3.8.6.3 allows up to 500
    uint32_t syn_retries = 6;    // then ETIMEDOUT
    uint32_t data_retries = 12;  // unanswered timeouts in a row, then ETIMEDOUT
    uint32_t orphan_retries = 8; // the same once the user released the connection
    Millis time_wait = 60000;    // 2 MSL
    size_t out_of_order_segments = 64;
    RttEstimator::Limits rto;
};

// The MSS a path of this MTU carries (MTU - 40), 64 at least.
constexpr uint16_t mss_for_mtu(uint16_t mtu) { return mtu > 40 + 64 ? uint16_t(mtu - 40) : 64; }

struct Tuple {
    Ipv4Address local_address = 0;
    uint16_t local_port = 0;
    Ipv4Address remote_address = 0;
    uint16_t remote_port = 0;
    bool operator==(const Tuple&) const = default;
};

class Stack;
class Listener;

class Connection {
public:
    struct Stats {
        uint64_t segments_sent = 0;
        uint64_t segments_received = 0;
        uint64_t retransmissions = 0;
        uint64_t timeouts = 0;
        uint64_t fast_retransmits = 0;
        uint64_t challenge_acks = 0;
        uint64_t invalid_acks_suppressed = 0; // bare ACKs out of the window left unanswered
        uint64_t dropped_out_of_window = 0;
        uint64_t dropped_out_of_order_full = 0;
        uint64_t zero_window_probes = 0;
        uint64_t icmp_soft_errors = 0; // remembered for a timeout
        uint64_t path_mtu_lowered = 0; // fragmentation needed obeyed
    };

    // The lowest path MTU fragmentation-needed messages may bring a
    // connection to: 576, the datagram every host must accept (RFC 791,
    // RFC 1122 3.3.3), so the MSS never falls below 536, TCP's default
    // (RFC 9293 3.7.1), however small the MTU a message claims.
    static constexpr uint16_t kMinPathMtu = 576;

    // Queues bytes to send; returns how many were taken (fewer when the
    // send buffer is full, EAGAIN when none fit). ENOTCONN before the
    // handshake started, EPIPE-like ENOTCONN after close(), the
    // connection's error once it failed.
    Result<size_t> send(const uint8_t* bytes, size_t length, Millis now);
    // Takes received bytes; 0 at the end of the stream (the peer's FIN),
    // EAGAIN when nothing is there yet, the connection's error once it
    // failed (ECONNRESET, ECONNREFUSED, ETIMEDOUT).
    Result<size_t> receive(uint8_t* out, size_t length, Millis now);
    // No more data from this side: a FIN follows the queued data.
    void close(Millis now);
    // Drops everything and sends RST (RFC 9293 3.10.5 ABORT).
    void abort(Millis now);
    // The user is done with the connection: the stack frees it once it is
    // closed (after TIME-WAIT, or at once if already closed). The pointer
    // is not to be used afterwards. Like close(2) on a socket, it closes
    // the connection gracefully, or resets it when received data was left
    // unread (RFC 1122 4.2.2.13) or the stack holds too many released
    // connections still sending (`Stack::Config::max_orphans`).
    void release(Millis now);
    // The address under the connection went away (its interface did): the
    // connection fails with `error` (ENETDOWN) and sends nothing more.
    void drop(Error error)
    {
        if (m_state != State::Closed)
            fail(error);
    }

    State state() const { return m_state; }
    // The reason the connection failed; 0 while it has not.
    Error error() const { return m_error; }
    // The last soft error an ICMP message reported (ENETUNREACH,
    // EHOSTUNREACH, ECONNREFUSED), given to the user instead of ETIMEDOUT
    // if the connection times out; 0 when none, or once new data was
    // acknowledged since.
    Error soft_error() const { return m_soft_error; }
    const Tuple& tuple() const { return m_tuple; }
    size_t readable() const { return m_receive.size(); }
    // What waits beyond a gap: segments, and their bytes (each held once).
    size_t out_of_order_segments() const { return m_out_of_order_count; }
    size_t out_of_order_bytes() const;
    // The bytes its send and receive rings hold room for.
    size_t buffer_bytes() const { return m_send.capacity() + m_receive.capacity(); }
    bool at_end_of_stream() const { return m_fin_received && m_receive.size() == 0; }
    size_t send_space() const { return m_send.space(); }
    size_t unacknowledged() const { return m_send.size(); }
    uint32_t mss() const { return m_mss; }
    uint8_t send_window_scale() const { return m_snd_wscale; }
    uint8_t receive_window_scale() const { return m_rcv_wscale; }
    uint32_t send_window() const { return m_snd_wnd; }
    uint32_t send_unacknowledged() const { return m_snd_una; } // SND.UNA
    uint32_t receive_next() const { return m_rcv_nxt; }        // RCV.NXT
    const NewReno& congestion() const { return m_congestion; }
    const RttEstimator& rtt() const { return m_rtt; }
    const Stats& stats() const { return m_stats; }
    // The earliest time tick() has something to do; 0 when nothing.
    Millis next_deadline() const;

    // Only the stack creates and destroys connections.
    Connection(Stack& stack, const Tuple& tuple, const Options& options);
    ~Connection();

private:
    friend class Stack;
    friend class Listener;

    bool allocate_buffers();
    uint32_t data_front() const { return m_snd_una == m_iss ? m_iss + 1 : m_snd_una; }
    void clear_out_of_order();
    void queue_out_of_order(const Segment& segment);
    void drop_buffers_if_done();
    // Resets the connection (from a synchronized state) and closes it.
    void discard(Millis now);

    // Opening (connection.cpp).
    void open_active(uint32_t iss, Millis now);
    void open_passive(const Segment& syn, uint32_t iss, Millis now);
    // From the ACK answering a SYN cookie (syn_cookie.h): SYN-RECEIVED as
    // if the SYN-ACK had been sent (its MSS from the cookie, no window
    // scaling), then the ACK itself, with any data it carries.
    void open_from_cookie(const Segment& ack, uint32_t iss, uint16_t peer_mss, Millis now);

    // Input (connection_input.cpp), RFC 9293 3.10.7.
    void input(const Segment& segment, Millis now);
    void input_syn_sent(const Segment& segment, Millis now);
    bool acceptable(const Segment& segment) const;
    bool process_ack(const Segment& segment, Millis now);
    void process_data(Segment& segment, Millis now);
    void deliver_in_order(Millis now);
    void process_fin(Millis now);
    void take_options(const Header& syn);
    void enter_established(Millis now);
    void send_challenge_ack(Millis now);

    // Output (connection_output.cpp).
    // ESTABLISHED, CLOSE-WAIT and the states after close() with data or a
    // FIN still to send: where transmit() sends.
    bool sending() const;
    void transmit(Millis now);
    void send_segment(uint32_t sequence, size_t length, uint8_t flags, Millis now);
    void send_syn(Millis now);
    void send_ack_now(Millis now);
    void send_reset(Millis now);
    void retransmit_first(Millis now);
    void on_retransmit_timer(Millis now);
    void arm_retransmit(Millis now);
    uint16_t advertised_window(bool syn) const;
    void maybe_window_update(Millis now);

    // ICMP errors (connection.cpp), RFC 1122 4.2.3.9, RFC 5461, RFC 1191.
    bool in_flight(uint32_t sequence) const;
    void icmp_error(const IcmpReport& report, Millis now);
    void lower_path_mtu(uint16_t mtu, uint16_t quoted_length, Millis now);

    // Timers and teardown (connection.cpp).
    void tick(Millis now);
    void fail(Error error);
    void enter_time_wait(Millis now);
    void set_closed();
    size_t receive_window() const;
    bool orphan() const;

    Stack& m_stack;
    IntrusiveListNode m_node;          // on the stack's list of connections
    Connection* m_hash_next = nullptr; // on its chain in the stack's buckets
    IntrusiveListNode m_queue_node;    // on a listener's accept queue
    Listener* m_listener = nullptr;    // for a child not yet accepted
    PortBinding m_binding;             // an active open's local port
    Tuple m_tuple;
    Options m_options;
    State m_state = State::Closed;
    Error m_error = Error(0);
    Error m_soft_error = Error(0);
    bool m_released = false;

    // Send sequence space (RFC 9293 3.3.1), plus the highest sent.
    uint32_t m_iss = 0, m_snd_una = 0, m_snd_nxt = 0, m_snd_max = 0;
    uint32_t m_snd_wnd = 0, m_snd_wl1 = 0, m_snd_wl2 = 0, m_max_snd_wnd = 0;
    // Receive sequence space.
    uint32_t m_irs = 0, m_rcv_nxt = 0;
    uint32_t m_rcv_adv = 0; // the right edge last advertised
    uint8_t m_snd_wscale = 0, m_rcv_wscale = 0;
    bool m_wscale_ok = false; // both sides sent the option
    uint32_t m_mss = 536;
    uint32_t m_peer_mss = 536;

    ByteRing m_send;
    ByteRing m_receive;
    IntrusiveList<Packet, &Packet::node> m_out_of_order; // sorted by sequence number
    size_t m_out_of_order_count = 0;
    bool m_fin_queued = false; // close() was called
    bool m_fin_sent = false;
    bool m_fin_received = false;
    uint32_t m_fin_sequence = 0; // ours, once queued

    RttEstimator m_rtt;
    NewReno m_congestion;
    bool m_timing = false;
    uint32_t m_timed_sequence = 0;
    Millis m_timed_at = 0;

    Millis m_retransmit_deadline = 0;
    bool m_persist = false;
    uint32_t m_retries = 0;
    Millis m_delayed_ack_deadline = 0;
    uint32_t m_unacked_segments = 0;
    Millis m_time_wait_deadline = 0;
    RateLimiter m_challenge_limiter { 10, 10 };
    RateLimiter m_invalid_ack_limiter { 2, 1 };
    Stats m_stats;
};

} // namespace keel::net::tcp
