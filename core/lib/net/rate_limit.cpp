#include "lib/net/rate_limit.h"

#include "lib/base/utility.h"

namespace keel::net {

bool RateLimiter::allow(Millis now)
{
    if (!m_started) {
        m_started = true;
        m_last = now;
    }
    uint64_t cap = uint64_t(m_burst) * 1000;
    uint64_t elapsed = now - m_last;
    m_last = now;
    m_tokens = min(cap, m_tokens + min(elapsed, uint64_t(3600000)) * m_rate);
    if (m_tokens < 1000) {
        m_refused++;
        return false;
    }
    m_tokens -= 1000;
    return true;
}

} // namespace keel::net
