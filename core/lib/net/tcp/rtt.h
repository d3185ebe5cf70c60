// The retransmission timeout (RFC 6298): a smoothed round-trip time and
// its variation, sampled by Karn's rule (never from a retransmitted
// segment: the caller only times segments sent once), and the doubling
// back-off after each expiry.
#pragma once

#include <stdint.h>

#include "lib/net/platform.h"

namespace keel::net::tcp {

class RttEstimator {
public:
    struct Limits {
        Millis initial = 1000;  // RFC 6298 2.1
        Millis minimum = 1000;  // RFC 6298 2.4 (Linux uses 200 ms)
        Millis maximum = 60000; // RFC 6298 2.5
    };

    RttEstimator()
        : RttEstimator(Limits())
    {
    }
    explicit RttEstimator(Limits limits)
        : m_limits(limits)
        , m_rto(limits.initial)
    {
    }

    // A measured round trip (2.2 for the first, 2.3 after).
    void sample(Millis rtt);
    // The timer expired: back off (5.5).
    void back_off();
    Millis rto() const { return m_rto; }
    bool has_sample() const { return m_has_sample; }
    Millis srtt() const { return m_srtt_x8 / 8; }
    Millis rttvar() const { return m_rttvar_x4 / 4; }

private:
    Limits m_limits;
    Millis m_rto;
    // Kept scaled (srtt x8, rttvar x4) so alpha = 1/8 and beta = 1/4 are
    // exact in integers.
    uint64_t m_srtt_x8 = 0;
    uint64_t m_rttvar_x4 = 0;
    bool m_has_sample = false;
};

} // namespace keel::net::tcp
