// A token bucket for the replies a peer can provoke: ICMP errors, TCP's
// challenge ACKs. Time is passed in, as everywhere in the library.
#pragma once

#include <stdint.h>

#include "lib/net/platform.h"

namespace keel::net {

// A token bucket: `rate` tokens per second up to `burst`. Linux limits
// ICMP errors the same way (icmp_ratelimit, icmp_msgs_per_sec).
class RateLimiter {
public:
    RateLimiter(uint32_t per_second = 1000, uint32_t burst = 50)
        : m_rate(per_second)
        , m_burst(burst)
        , m_tokens(uint64_t(burst) * 1000)
    {
    }
    // Takes a token if one is there.
    bool allow(Millis now);
    uint64_t refused() const { return m_refused; }

private:
    uint32_t m_rate, m_burst;
    uint64_t m_tokens; // in thousandths of a token
    Millis m_last = 0;
    bool m_started = false;
    uint64_t m_refused = 0;
};

} // namespace keel::net
