#include "lib/net/tcp/rtt.h"

#include "lib/base/utility.h"

namespace keel::net::tcp {

void RttEstimator::sample(Millis rtt)
{
    if (!m_has_sample) {
        // SRTT = R, RTTVAR = R/2.
        m_srtt_x8 = rtt * 8;
        m_rttvar_x4 = rtt * 2;
        m_has_sample = true;
    } else {
        // RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, then SRTT = 7/8 SRTT + 1/8 R.
        uint64_t srtt = m_srtt_x8 / 8;
        uint64_t delta = srtt > rtt ? srtt - rtt : rtt - srtt;
        m_rttvar_x4 = m_rttvar_x4 - m_rttvar_x4 / 4 + delta;
        m_srtt_x8 = m_srtt_x8 - m_srtt_x8 / 8 + rtt;
    }
    // RTO = SRTT + max(G, 4 RTTVAR), with a clock granularity G of 1 ms.
    Millis rto = m_srtt_x8 / 8 + max<uint64_t>(1, m_rttvar_x4);
    m_rto = min(max(rto, m_limits.minimum), m_limits.maximum);
}

void RttEstimator::back_off() { m_rto = min(m_rto * 2, m_limits.maximum); }

} // namespace keel::net::tcp
