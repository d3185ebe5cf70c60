// A DHCP client's state machine (RFC 2131 4.4, figure 5): INIT ->
// SELECTING (DISCOVER broadcast, the first acceptable OFFER taken) ->
// REQUESTING (REQUEST for it, broadcast) -> BOUND on the ACK, or back to
// INIT on a NAK or when the REQUEST goes unanswered. Messages are
// retransmitted after 4, 8, 16, 32 and then every 64 s, each delay moved
// by up to a second either way (4.1). Once bound, the client keeps the
// lease (4.4.5): RENEWING at T1 (a REQUEST unicast to the server that
// gave it), REBINDING at T2 (broadcast, to any server), and when the
// lease runs out, or a server NAKs it, the caller is told to drop the
// address and the client starts over. Time is passed in and the random
// numbers (transaction IDs, the jitter) come from a seed the caller
// draws.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/net/dhcp_message.h"
#include "lib/net/platform.h"

namespace keel::net::dhcp {

constexpr uint32_t kInfiniteLease = 0xffffffff;

struct Lease {
    Ipv4Address address = 0;
    uint8_t prefix_length = 0;
    Ipv4Address router = 0; // 0: none given
    Ipv4Address server = 0; // the server identifier
    Ipv4Address dns[Reply::kMaxDnsServers] = {};
    size_t dns_count = 0;
    uint32_t lease_seconds = 0;     // 0xffffffff: infinite
    uint32_t renewal_seconds = 0;   // T1: the server's option 58, else half the lease
    uint32_t rebinding_seconds = 0; // T2: the server's option 59, else 7/8 of the lease
    Millis bound_at = 0;            // when the lease began
};

// What happened to a lease, for the caller to act on and log.
enum class LeaseEvent {
    Renewing,  // T1 came: a REQUEST went to the server
    Rebinding, // T2 came without an answer: a REQUEST went to every server
    Renewed,   // an ACK extended the lease (the address may be another one)
    Expired,   // the lease ran out: drop the address; the client starts over
    Refused,   // a server NAKed the renewal: drop the address; the client starts over
};
const char* lease_event_name(LeaseEvent event);

class Client {
public:
    class Output {
    public:
        virtual ~Output() = default;
        // A message for the servers: broadcast from 0.0.0.0:68 to
        // 255.255.255.255:67.
        virtual void send_message(const uint8_t* message, size_t length) = 0;
        // A message once the client has its address (RENEWING: to the
        // server; REBINDING: to 255.255.255.255), from `source`:68 to
        // `destination`:67, through the interface that has the address.
        virtual void send_from_address(
            const uint8_t* message, size_t length, Ipv4Address source, Ipv4Address destination)
        {
            (void)message;
            (void)length;
            (void)source;
            (void)destination;
        }
        // The lease changed (after BOUND): the lease as it now is (for
        // Expired and Refused, as it was).
        virtual void lease_event(LeaseEvent event, const Lease& lease)
        {
            (void)event;
            (void)lease;
        }
    };

    enum class State { Init, Selecting, Requesting, Bound, Renewing, Rebinding };

    struct Stats {
        uint64_t sent = 0;
        uint64_t retransmissions = 0;
        uint64_t malformed = 0; // refused by parse_reply or unusable
        uint64_t ignored = 0;   // another transaction, client or state
        uint64_t offers = 0;
        uint64_t naks = 0;
        uint64_t request_timeouts = 0; // REQUESTING given up: back to INIT
        uint64_t renewals = 0;         // ACKs in RENEWING or REBINDING
        uint64_t expirations = 0;
    };

    static constexpr Millis kFirstTimeout = 4000;
    static constexpr Millis kMaxTimeout = 64000;
    static constexpr Millis kJitter = 1000;
    static constexpr unsigned kRequestAttempts = 4;
    static constexpr Millis kRestartDelay = 1000; // after a NAK or an unanswered REQUEST
    // RENEWING and REBINDING send again after half the time left until T2
    // (or the lease's end), but not sooner than this (RFC 2131 4.4.5).
    static constexpr Millis kMinRenewalRetry = 60000;

    Client(Output& output, const MacAddress& mac, uint32_t seed);

    // INIT -> SELECTING: the first DISCOVER.
    void start(Millis now);
    // A reply that reached port 68 (the UDP payload); a message for
    // another transaction or client, or one that makes no sense in this
    // state, is counted and ignored.
    void receive(const uint8_t* message, size_t length, Millis now, Diagnostic* diagnostic = nullptr);
    // Retransmissions and restarts that are due.
    void tick(Millis now);
    // When tick() next has something to do; 0 when not started, or bound
    // to an infinite lease.
    Millis next_deadline() const { return m_deadline; }

    State state() const { return m_state; }
    const Lease& lease() const { return m_lease; }
    const Stats& stats() const { return m_stats; }

private:
    uint32_t random();
    void begin_discover(Millis now);
    void transmit(Millis now);
    void schedule_retransmission(Millis now);
    void accept_offer(const Reply& reply, Millis now);
    void accept_ack(const Reply& reply, Millis now);
    void begin_keeping(LeaseEvent event, Millis now);
    void schedule_keeping(Millis now);
    void lose_lease(LeaseEvent event, Millis now);
    Millis t1() const;
    Millis t2() const;
    Millis expiry() const;

    Output& m_output;
    MacAddress m_mac;
    uint32_t m_random;
    State m_state = State::Init;
    uint32_t m_xid = 0;
    Millis m_started = 0;  // of this attempt: the secs field
    Millis m_deadline = 0; // of the next tick's work
    Millis m_timeout = 0;  // the current back-off
    unsigned m_attempts = 0;
    Ipv4Address m_offered = 0;
    Ipv4Address m_server = 0;
    Millis m_sent_at = 0; // the last REQUEST of a renewal: a new lease counts from it
    Lease m_lease;
    Stats m_stats;
};

const char* state_name(Client::State state);

// The prefix length of a contiguous mask, or -1.
int prefix_length_of(Ipv4Address mask);

} // namespace keel::net::dhcp
