// What a connection sends and when: segmentation with Nagle's algorithm
// and the sender's silly-window avoidance (RFC 9293 3.8.6.2.1), the
// windows of RFC 5681, retransmission (RFC 6298), zero-window probes and
// the receiver's window updates (RFC 9293 3.8.6.2.2).
#include "lib/base/string.h"
#include "lib/net/tcp/connection.h"
#include "lib/net/tcp/sequence.h"
#include "lib/net/tcp/stack.h"

namespace keel::net::tcp {

uint16_t Connection::advertised_window(bool syn) const
{
    size_t space = receive_window();
    if (!syn)
        space >>= m_rcv_wscale;
    return uint16_t(min<size_t>(space, 0xffff));
}

void Connection::send_segment(uint32_t sequence, size_t length, uint8_t flags, Millis now)
{
    (void)now;
    Header header;
    header.source_port = m_tuple.local_port;
    header.destination_port = m_tuple.remote_port;
    header.sequence = sequence;
    header.flags = flags;
    if (flags & kAck)
        header.acknowledgment = m_rcv_nxt;
    bool syn = flags & kSyn;
    if (syn) {
        header.mss = mss_for_mtu(m_options.mtu);
        if (m_state == State::SynSent || m_wscale_ok)
            header.window_scale = int8_t(m_rcv_wscale);
    }
    header.window = advertised_window(syn);
    size_t header_length = header_size(header);
    PacketPtr packet(Packet::create(m_stack.m_config.headroom, header_length + length));
    if (!packet)
        return; // as if lost: the timers recover
    uint8_t* out = packet->put(header_length + length);
    if (length)
        m_send.peek(sequence - data_front(), out + header_length, length);
    write_header(out, header, length, m_tuple.local_address, m_tuple.remote_address);
    if (flags & kAck) {
        m_delayed_ack_deadline = 0;
        m_unacked_segments = 0;
        uint32_t edge = m_rcv_nxt + (uint32_t(header.window) << (syn ? 0 : m_rcv_wscale));
        if (seq_gt(edge, m_rcv_adv) || !(m_rcv_adv))
            m_rcv_adv = edge;
    }
    m_stats.segments_sent++;
    m_stack.emit(move(packet), m_tuple.local_address, m_tuple.remote_address);
}

void Connection::send_syn(Millis now)
{
    // The sequence space first, then the segment: whatever the segment
    // provokes finds the connection as it will be.
    if (m_snd_nxt == m_iss) {
        m_snd_nxt = m_iss + 1;
        m_snd_max = m_snd_nxt;
        if (!m_timing && m_retries == 0) {
            m_timing = true;
            m_timed_sequence = m_snd_nxt;
            m_timed_at = now;
        }
    }
    if (!m_retransmit_deadline)
        arm_retransmit(now);
    uint8_t flags = kSyn | (m_state == State::SynReceived ? kAck : 0);
    send_segment(m_iss, 0, flags, now);
}

void Connection::send_ack_now(Millis now) { send_segment(m_snd_nxt, 0, kAck, now); }

// At SND.MAX, not SND.NXT, which a timeout moves back: the peer may have
// taken everything sent, and a reset below its RCV.NXT would be dropped.
void Connection::send_reset(Millis now) { send_segment(m_snd_max, 0, kRst | kAck, now); }

void Connection::send_challenge_ack(Millis now)
{
    if (!m_challenge_limiter.allow(now))
        return;
    m_stats.challenge_acks++;
    send_ack_now(now);
}

void Connection::arm_retransmit(Millis now) { m_retransmit_deadline = now + m_rtt.rto(); }

bool Connection::sending() const
{
    switch (m_state) {
    case State::Established:
    case State::CloseWait:
    case State::FinWait1:
    case State::Closing:
    case State::LastAck: return true;
    default: return false;
    }
}

void Connection::transmit(Millis now)
{
    if (!sending())
        return;
    for (;;) {
        uint32_t data_end = data_front() + uint32_t(m_send.size());
        if (seq_gt(m_snd_nxt, data_end))
            return; // the FIN is out
        size_t unsent = data_end - m_snd_nxt;
        uint32_t flight = m_snd_nxt - m_snd_una;
        uint32_t window = min(m_snd_wnd, m_congestion.cwnd());
        size_t usable = window > flight ? window - flight : 0;
        size_t length = min(min(unsent, usable), size_t(m_mss));
        bool fin = m_fin_queued && length == unsent;
        if (length == 0 && !fin) {
            if (unsent && m_snd_wnd == 0 && flight == 0 && !m_retransmit_deadline) {
                m_persist = true; // probe the closed window (RFC 9293 3.8.6.1)
                arm_retransmit(now);
            }
            return;
        }
        if (length && length < m_mss && !fin) {
            // Nagle: a small segment only when nothing is in flight (or
            // Nagle is off) and it is all there is; or when it is at least
            // half the largest window the peer offered.
            bool all = length == unsent;
            bool half_window = m_max_snd_wnd && length >= m_max_snd_wnd / 2;
            if (!(all && (flight == 0 || m_options.nodelay)) && !half_window) {
                // Held back. With nothing in flight no ACK will come to
                // change that: the override timeout (RFC 1122 4.2.3.4)
                // sends it anyway.
                if (flight == 0 && !m_retransmit_deadline) {
                    m_persist = true;
                    arm_retransmit(now);
                }
                return;
            }
        }
        uint8_t flags = kAck | (fin ? kFin : 0) | (length && length == unsent ? kPsh : 0);
        bool fresh = seq_ge(m_snd_nxt, m_snd_max);
        send_segment(m_snd_nxt, length, flags, now);
        if (!fresh)
            m_stats.retransmissions++;
        if (fresh && length && !m_timing) {
            m_timing = true;
            m_timed_sequence = m_snd_nxt + uint32_t(length);
            m_timed_at = now;
        }
        m_snd_nxt += uint32_t(length) + fin;
        if (seq_gt(m_snd_nxt, m_snd_max))
            m_snd_max = m_snd_nxt;
        if (fin)
            m_fin_sent = true;
        if (!m_retransmit_deadline || m_persist) {
            m_persist = false;
            arm_retransmit(now);
        }
        if (fin)
            return;
    }
}

void Connection::retransmit_first(Millis now)
{
    uint32_t data_end = data_front() + uint32_t(m_send.size());
    size_t available = seq_gt(data_end, m_snd_una) ? data_end - m_snd_una : 0;
    size_t length = min(min(available, size_t(m_mss)), size_t(m_snd_max - m_snd_una));
    bool fin = m_fin_queued && m_snd_una + length == m_fin_sequence && seq_gt(m_snd_max, m_fin_sequence);
    if (!length && !fin)
        return;
    m_timing = false; // Karn: no sample from a retransmitted segment
    m_stats.retransmissions++;
    send_segment(m_snd_una, length, kAck | (fin ? kFin : 0), now);
}

void Connection::on_retransmit_timer(Millis now)
{
    m_retransmit_deadline = 0;
    if (m_persist) {
        // The persist timer: with a window open, the override timeout
        // sends what Nagle held back; with the window closed, a probe of
        // one byte beyond it (RFC 9293 3.8.6.1). Once sent, either is
        // outstanding data that the retransmission timer repeats, with
        // back-off, until the peer takes it.
        m_persist = false;
        uint32_t data_end = data_front() + uint32_t(m_send.size());
        if (!seq_lt(m_snd_nxt, data_end))
            return;
        size_t unsent = data_end - m_snd_nxt;
        uint32_t flight = m_snd_nxt - m_snd_una;
        size_t usable = m_snd_wnd > flight ? m_snd_wnd - flight : 0;
        size_t length = min(min(unsent, usable), size_t(m_mss));
        if (!length) {
            length = 1;
            m_stats.zero_window_probes++;
            m_rtt.back_off();
        }
        send_segment(m_snd_nxt, length, kAck | (length == unsent ? kPsh : 0), now);
        m_snd_nxt += uint32_t(length);
        if (seq_gt(m_snd_nxt, m_snd_max))
            m_snd_max = m_snd_nxt;
        arm_retransmit(now);
        return;
    }
    m_retries++;
    m_stats.timeouts++;
    bool handshake = m_state == State::SynSent || m_state == State::SynReceived;
    uint32_t limit = m_options.data_retries;
    if (handshake)
        limit = m_options.syn_retries;
    else if (m_released)
        limit = min(limit, m_options.orphan_retries); // nobody waits for the outcome
    if (m_retries > limit) {
        if (!handshake)
            send_reset(now);
        // RFC 1122 4.2.3.9: a soft error an ICMP message reported is the
        // better reason to give the user.
        fail(m_soft_error != Error(0) ? m_soft_error : Error::ETIMEDOUT);
        return;
    }
    m_rtt.back_off();
    m_timing = false;
    if (handshake) {
        m_stats.retransmissions++;
        send_syn(now);
        return;
    }
    // RFC 5681 3.1 equation 4 and go-back-N from the first unacknowledged
    // byte: whatever arrived will be acknowledged past at once.
    m_congestion.on_timeout(m_snd_max, m_snd_max - m_snd_una);
    m_snd_nxt = m_snd_una;
    if (m_fin_sent && !seq_gt(m_snd_una, m_fin_sequence))
        m_fin_sent = false;
    transmit(now);
    if (!m_retransmit_deadline)
        arm_retransmit(now);
}

void Connection::maybe_window_update(Millis now)
{
    switch (m_state) {
    case State::Established:
    case State::FinWait1:
    case State::FinWait2: break;
    default: return;
    }
    uint32_t edge = m_rcv_nxt + (uint32_t(advertised_window(false)) << m_rcv_wscale);
    if (!seq_gt(edge, m_rcv_adv))
        return;
    size_t threshold = min(m_receive.capacity() / 2, size_t(m_mss));
    if (edge - m_rcv_adv >= threshold)
        send_ack_now(now);
}

} // namespace keel::net::tcp
