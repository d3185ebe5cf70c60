#include "lib/net/tcp/newreno.h"

#include "lib/base/utility.h"
#include "lib/net/tcp/sequence.h"

namespace keel::net::tcp {

void NewReno::start(uint32_t mss)
{
    m_mss = mss;
    // IW = min(4 SMSS, max(2 SMSS, 4380 bytes)).
    m_cwnd = min(4 * mss, max(2 * mss, 4380u));
    m_ssthresh = 0xffffffff;
    m_duplicate_acks = 0;
    m_in_recovery = false;
    m_recover_valid = false;
}

void NewReno::set_mss(uint32_t mss) { m_mss = mss; }

bool NewReno::on_new_ack(uint32_t ack, uint32_t acked, uint32_t flight)
{
    m_duplicate_acks = 0;
    if (m_in_recovery) {
        if (seq_gt(ack, m_recover)) {
            // Full acknowledgment (RFC 6582 3.2 step 3): deflate.
            m_cwnd = min(m_ssthresh, max(flight - min(flight, acked), m_mss) + m_mss);
            m_in_recovery = false;
            return false;
        }
        // Partial acknowledgment (step 4): retransmit the next hole,
        // deflate by what was acknowledged, add back one SMSS when at
        // least one was acknowledged.
        m_cwnd -= min(m_cwnd, acked);
        if (acked >= m_mss)
            m_cwnd += m_mss;
        m_cwnd = max(m_cwnd, m_mss);
        return true;
    }
    if (m_cwnd < m_ssthresh)
        m_cwnd += min(acked, m_mss); // slow start (equation 2)
    else
        m_cwnd += max(1u, m_mss * m_mss / m_cwnd); // congestion avoidance (equation 3)
    return false;
}

bool NewReno::on_duplicate_ack(uint32_t snd_una, uint32_t snd_nxt, uint32_t flight)
{
    m_duplicate_acks++;
    if (m_in_recovery) {
        m_cwnd += m_mss; // step 3 of RFC 5681 3.2: inflate
        return false;
    }
    if (m_duplicate_acks != kDupAckThreshold)
        return false;
    // RFC 6582 3.2 step 2: no fast retransmit for losses from before the
    // last recovery (the acknowledgment must cover more than "recover").
    if (m_recover_valid && !seq_gt(snd_una - 1, m_recover))
        return false;
    m_ssthresh = max(flight / 2, 2 * m_mss);
    m_recover = snd_nxt - 1;
    m_recover_valid = true;
    m_cwnd = m_ssthresh + 3 * m_mss;
    m_in_recovery = true;
    m_fast_retransmits++;
    return true;
}

void NewReno::on_timeout(uint32_t snd_nxt, uint32_t flight)
{
    m_ssthresh = max(flight / 2, 2 * m_mss);
    m_cwnd = m_mss; // the loss window
    m_recover = snd_nxt - 1;
    m_recover_valid = true;
    m_in_recovery = false;
    m_duplicate_acks = 0;
}

} // namespace keel::net::tcp
