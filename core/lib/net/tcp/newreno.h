// Congestion control: slow start and congestion avoidance (RFC 5681),
// fast retransmit and NewReno's fast recovery (RFC 6582). The connection
// tells it what the acknowledgments said; it says how much may be in
// flight and when to retransmit.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::net::tcp {

class NewReno {
public:
    static constexpr uint32_t kDupAckThreshold = 3;

    // The initial window of RFC 5681 3.1.
    void start(uint32_t mss);
    void set_mss(uint32_t mss);

    // What an acknowledgment of new data means. `acked` bytes were newly
    // acknowledged, `ack` is the new SND.UNA, `flight` what was in flight
    // before it. Returns true for a partial acknowledgment during recovery:
    // the caller retransmits the first unacknowledged segment.
    bool on_new_ack(uint32_t ack, uint32_t acked, uint32_t flight);
    // A duplicate acknowledgment (RFC 5681's definition, checked by the
    // caller). Returns true when it is the third and fast retransmit
    // starts: the caller retransmits the first unacknowledged segment.
    bool on_duplicate_ack(uint32_t snd_una, uint32_t snd_nxt, uint32_t flight);
    // The retransmission timer expired (RFC 5681 3.1 equation 4, RFC 6582 4).
    void on_timeout(uint32_t snd_nxt, uint32_t flight);

    uint32_t cwnd() const { return m_cwnd; }
    uint32_t ssthresh() const { return m_ssthresh; }
    bool in_recovery() const { return m_in_recovery; }
    uint32_t duplicate_acks() const { return m_duplicate_acks; }
    uint64_t fast_retransmits() const { return m_fast_retransmits; }

private:
    uint32_t m_mss = 536;
    uint32_t m_cwnd = 0;
    uint32_t m_ssthresh = 0xffffffff;
    uint32_t m_duplicate_acks = 0;
    uint32_t m_recover = 0; // RFC 6582's "recover"
    bool m_recover_valid = false;
    bool m_in_recovery = false;
    uint64_t m_fast_retransmits = 0;
};

} // namespace keel::net::tcp
