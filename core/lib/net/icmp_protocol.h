// The icmp protocol of one host (icmp.kmod's logic): echo replies, the
// record of the last echo reply for ping, rate-limited error messages
// about received datagrams (destination unreachable, time exceeded; RFC
// 1122 3.2.2's rules), and the errors others sent handed to the protocol
// of the datagram they quote (TCP acts on them, RFC 1122 4.2.3.9).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/net/icmp.h"
#include "lib/net/interface.h"
#include "lib/net/rate_limit.h"

namespace keel::net {

class IcmpProtocol : public ProtocolHandler, public IcmpErrorSink {
public:
    struct Stats {
        uint64_t dropped_malformed = 0;
        uint64_t dropped_no_memory = 0;
        uint64_t echo_requests = 0;
        uint64_t echo_replies_received = 0;
        uint64_t errors_sent = 0;
        uint64_t errors_received = 0;
        uint64_t errors_reported = 0;  // handed to the quoted datagram's protocol
        uint64_t errors_bad_quote = 0; // a quote that names no datagram of ours
        uint64_t rate_limited = 0;
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

    explicit IcmpProtocol(Ipv4Output& output, uint32_t errors_per_second = 1000)
        : m_output(output)
        , m_limiter(errors_per_second, 50)
    {
    }

    // ProtocolHandler: an ICMP message addressed to this host.
    void input(const Datagram& datagram, Millis now) override;
    // IcmpErrorSink: an error about `datagram`, unless RFC 1122 forbids
    // one or the rate limit refuses it.
    void icmp_error(uint8_t type, uint8_t code, const Datagram& datagram, Millis now) override;

    // An echo request with `size` bytes of data (0, 1, 2, ...).
    Result<void> ping(Ipv4Address destination, uint16_t identifier, uint16_t sequence, size_t size, Millis now);
    // Where received errors go (the quoted datagram's protocol); without
    // one they are only counted.
    void set_reports(IcmpReportSink* sink) { m_reports = sink; }
    const EchoReply& last_echo_reply() const { return m_last_reply; }
    const Stats& stats() const { return m_stats; }

private:
    Ipv4Output& m_output;
    RateLimiter m_limiter;
    IcmpReportSink* m_reports = nullptr;
    EchoReply m_last_reply;
    Stats m_stats;
};

} // namespace keel::net
