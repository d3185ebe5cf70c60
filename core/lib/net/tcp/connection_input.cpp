// Segment arrival (RFC 9293 3.10.7), with RFC 5961's defences against
// blind injection: a RST or SYN that is not exactly where expected only
// earns a (rate-limited) challenge ACK, and acknowledgments of data never
// sent, or too old, are refused.
#include "lib/base/string.h"
#include "lib/net/tcp/connection.h"
#include "lib/net/tcp/sequence.h"
#include "lib/net/tcp/stack.h"

namespace keel::net::tcp {

void Connection::take_options(const Header& syn)
{
    m_peer_mss = syn.mss ? syn.mss : 536; // RFC 9293 3.7.1's default
    m_mss = max(min(m_mss, m_peer_mss), 64u);
    if (syn.window_scale >= 0) {
        m_wscale_ok = true;
        m_snd_wscale = uint8_t(syn.window_scale);
    } else {
        m_wscale_ok = false;
        m_snd_wscale = 0;
        m_rcv_wscale = 0;
    }
}

void Connection::enter_established(Millis now)
{
    m_state = m_fin_queued ? State::FinWait1 : State::Established;
    m_congestion.start(m_mss);
    m_retries = 0;
    m_soft_error = Error(0);
    if (m_timing && seq_ge(m_snd_una, m_timed_sequence)) {
        m_rtt.sample(now - m_timed_at);
        m_timing = false;
    }
    if (m_listener)
        m_listener->m_accept_queue.push_back(*this);
}

void Connection::input_syn_sent(const Segment& segment, Millis now)
{
    const Header& header = segment.header;
    if (header.has(kAck) && (seq_le(header.acknowledgment, m_iss) || seq_gt(header.acknowledgment, m_snd_max))) {
        if (!header.has(kRst))
            m_stack.send_reset_for(segment, m_tuple.remote_address, m_tuple.local_address);
        return;
    }
    if (header.has(kRst)) {
        if (header.has(kAck))
            fail(Error::ECONNREFUSED);
        return;
    }
    if (!header.has(kSyn))
        return;
    m_irs = header.sequence;
    m_rcv_nxt = m_irs + 1;
    take_options(header);
    m_snd_wnd = header.window;
    m_max_snd_wnd = m_snd_wnd;
    m_snd_wl1 = header.sequence;
    m_snd_wl2 = header.acknowledgment;
    if (header.has(kAck)) {
        m_snd_una = header.acknowledgment;
        enter_established(now);
        m_retransmit_deadline = 0;
        send_ack_now(now);
        transmit(now);
        return;
    }
    // Simultaneous open: both SYNs crossed.
    m_state = State::SynReceived;
    send_syn(now);
}

bool Connection::acceptable(const Segment& segment) const
{
    uint32_t sequence = segment.header.sequence;
    size_t length = segment.sequence_length();
    uint32_t window = uint32_t(receive_window());
    if (length == 0) {
        if (window == 0)
            return sequence == m_rcv_nxt;
        return seq_in(sequence, m_rcv_nxt, m_rcv_nxt + window);
    }
    if (window == 0)
        return false;
    return seq_in(sequence, m_rcv_nxt, m_rcv_nxt + window)
        || seq_in(sequence + uint32_t(length) - 1, m_rcv_nxt, m_rcv_nxt + window);
}

void Connection::input(const Segment& received, Millis now)
{
    m_stats.segments_received++;
    if (m_state == State::Closed || m_state == State::Listen)
        return;
    if (m_state == State::SynSent) {
        input_syn_sent(received, now);
        return;
    }
    Segment segment = received;
    Header& header = segment.header;
    if (m_state == State::SynReceived && header.has(kSyn) && header.has(kAck) && header.sequence == m_irs) {
        // Simultaneous open: the peer's SYN-ACK repeats the SYN we already
        // took (RFC 9293 figure 7); only its ACK is news.
        header.flags &= uint8_t(~kSyn);
        header.sequence++;
    }

    // First: the sequence number.
    if (!acceptable(segment)) {
        m_stats.dropped_out_of_window++;
        if (header.has(kRst))
            return;
        if (m_state == State::SynReceived && header.has(kSyn) && header.sequence == m_irs) {
            send_syn(now); // our SYN-ACK was lost: the peer repeats its SYN
            return;
        }
        if (header.has(kSyn)) {
            send_challenge_ack(now); // RFC 5961 4.2: whatever its sequence number
            return;
        }
        if (m_state == State::TimeWait && header.has(kFin))
            m_time_wait_deadline = now + m_options.time_wait; // the peer lost our last ACK
        // A bare ACK out of the window is answered at most twice a second
        // (RFC 5961 section 7; Linux's tcp_invalid_ratelimit): two ends
        // that disagree (a spoofed segment from our own address to
        // ourselves, say) would otherwise trade ACKs for good. Data and
        // FINs are always acknowledged: the peer's last ACK was lost.
        if (segment.sequence_length() == 0 && !m_invalid_ack_limiter.allow(now)) {
            m_stats.invalid_acks_suppressed++;
            return;
        }
        send_ack_now(now);
        return;
    }
    // Trim what lies before RCV.NXT (already received) and beyond the window.
    if (seq_lt(header.sequence, m_rcv_nxt)) {
        uint32_t excess = m_rcv_nxt - header.sequence;
        if (header.has(kSyn)) {
            header.flags &= uint8_t(~kSyn);
            header.sequence++;
            excess--;
        }
        size_t cut = min(size_t(excess), segment.length);
        segment.data += cut;
        segment.length -= cut;
        header.sequence += uint32_t(cut);
        if (excess > cut)
            header.flags &= uint8_t(~kFin); // an old FIN
    }
    uint32_t window = uint32_t(receive_window());
    if (seq_gt(header.sequence + uint32_t(segment.length), m_rcv_nxt + window)) {
        segment.length = m_rcv_nxt + window - header.sequence;
        header.flags &= uint8_t(~kFin);
    }

    // Second: RST (RFC 5961 3.2).
    if (header.has(kRst)) {
        if (header.sequence != m_rcv_nxt) {
            send_challenge_ack(now);
            return;
        }
        switch (m_state) {
        case State::SynReceived:
            if (m_listener)
                set_closed(); // back to the listener, which never saw it
            else
                fail(Error::ECONNREFUSED);
            return;
        case State::Established:
        case State::FinWait1:
        case State::FinWait2:
        case State::CloseWait: fail(Error::ECONNRESET); return;
        default: set_closed(); return;
        }
    }

    // Fourth: SYN in a synchronized state (RFC 5961 4.2).
    if (header.has(kSyn)) {
        if (m_state == State::SynReceived && m_listener) {
            set_closed();
            return;
        }
        send_challenge_ack(now);
        return;
    }

    // Fifth: ACK.
    if (!header.has(kAck))
        return;
    if (m_state == State::SynReceived) {
        if (!(seq_lt(m_snd_una, header.acknowledgment) && seq_le(header.acknowledgment, m_snd_max))) {
            m_stack.send_reset_for(segment, m_tuple.remote_address, m_tuple.local_address);
            return;
        }
        if (!allocate_buffers())
            return; // as if the ACK were lost: the SYN-ACK is sent again, and answered again
        m_snd_una = header.acknowledgment;
        m_snd_wnd = uint32_t(header.window) << m_snd_wscale;
        m_max_snd_wnd = max(m_max_snd_wnd, m_snd_wnd);
        m_snd_wl1 = header.sequence;
        m_snd_wl2 = header.acknowledgment;
        m_retransmit_deadline = 0;
        enter_established(now);
    }
    if (!process_ack(segment, now))
        return;

    // Seventh and eighth: data and FIN. New data for a released
    // connection has no reader: RFC 1122 4.2.2.13 has the peer told so by
    // a reset (as Linux does), with the sequence number its ACK expects.
    if (segment.length || header.has(kFin)) {
        switch (m_state) {
        case State::Established:
        case State::FinWait1:
        case State::FinWait2:
            if (segment.length && m_released) {
                m_stack.m_stats.aborted_on_data++;
                m_stack.send_reset_for(segment, m_tuple.remote_address, m_tuple.local_address);
                set_closed();
                return;
            }
            process_data(segment, now);
            break;
        default: break; // after the peer's FIN: nothing more can come
        }
    }
    transmit(now);
}

bool Connection::process_ack(const Segment& segment, Millis now)
{
    const Header& header = segment.header;
    uint32_t ack = header.acknowledgment;
    if (seq_gt(ack, m_snd_max) || seq_lt(ack, m_snd_una - m_max_snd_wnd)) {
        send_challenge_ack(now); // RFC 5961 5.2
        return false;
    }
    bool duplicate = false;
    if (seq_gt(ack, m_snd_una)) {
        uint32_t acked = ack - m_snd_una;
        uint32_t flight = m_snd_max - m_snd_una;
        size_t data_acked = acked;
        if (m_fin_queued && seq_gt(ack, m_fin_sequence))
            data_acked--;
        m_send.read(nullptr, min(data_acked, m_send.size()));
        m_snd_una = ack;
        if (seq_lt(m_snd_nxt, ack))
            m_snd_nxt = ack;
        if (m_timing && seq_ge(ack, m_timed_sequence)) {
            m_rtt.sample(now - m_timed_at);
            m_timing = false;
        }
        m_retries = 0;
        m_soft_error = Error(0); // the path works again
        if (m_congestion.on_new_ack(ack, acked, flight))
            retransmit_first(now);
        if (m_snd_una == m_snd_max)
            m_retransmit_deadline = 0; // RFC 6298 5.2
        else
            arm_retransmit(now); // 5.3
    } else if (ack == m_snd_una) {
        // RFC 5681 2's duplicate acknowledgment.
        duplicate = m_snd_max != m_snd_una && segment.length == 0 && !header.has(kSyn) && !header.has(kFin)
            && (uint32_t(header.window) << m_snd_wscale) == m_snd_wnd;
    }
    if (seq_lt(m_snd_wl1, header.sequence) || (m_snd_wl1 == header.sequence && seq_le(m_snd_wl2, ack))) {
        m_snd_wnd = uint32_t(header.window) << m_snd_wscale;
        m_max_snd_wnd = max(m_max_snd_wnd, m_snd_wnd);
        m_snd_wl1 = header.sequence;
        m_snd_wl2 = ack;
        if (m_snd_wnd && m_persist) {
            m_persist = false;
            m_retransmit_deadline = 0;
        }
    }
    if (duplicate && m_congestion.on_duplicate_ack(m_snd_una, m_snd_max, m_snd_max - m_snd_una)) {
        m_stats.fast_retransmits++;
        retransmit_first(now);
    }

    bool fin_acked = m_fin_queued && seq_gt(m_snd_una, m_fin_sequence);
    switch (m_state) {
    case State::FinWait1:
        if (fin_acked) {
            m_state = State::FinWait2;
            if (m_released)
                m_time_wait_deadline = now + m_options.time_wait;
            drop_buffers_if_done();
        }
        break;
    case State::Closing:
        if (fin_acked)
            enter_time_wait(now);
        break;
    case State::LastAck:
        if (fin_acked) {
            set_closed();
            return false;
        }
        break;
    default: break;
    }
    return true;
}

void Connection::process_data(Segment& segment, Millis now)
{
    const Header& header = segment.header;
    if (header.sequence != m_rcv_nxt) {
        // Out of order: keep it (sorted) and say at once what is missing,
        // which is the duplicate ACK the sender's fast retransmit counts.
        queue_out_of_order(segment);
        send_ack_now(now);
        return;
    }
    size_t written = m_receive.write(segment.data, segment.length);
    m_rcv_nxt += uint32_t(written);
    bool filled_gap = m_out_of_order_count != 0;
    bool fin = header.has(kFin) && written == segment.length;
    if (filled_gap) {
        // Pull whatever the new bytes made contiguous, up to a FIN.
        while (Packet* queued = fin ? nullptr : m_out_of_order.first()) {
            uint32_t start = queued->position, end = start + uint32_t(queued->length());
            if (seq_gt(start, m_rcv_nxt))
                break;
            m_out_of_order.remove(*queued);
            m_out_of_order_count--;
            if (seq_gt(end, m_rcv_nxt)) {
                size_t skip = m_rcv_nxt - start;
                m_rcv_nxt += uint32_t(m_receive.write(queued->data() + skip, end - m_rcv_nxt));
            }
            if ((queued->flags & kFin) && end == m_rcv_nxt)
                fin = true;
            Packet::destroy(queued);
        }
    }
    if (fin) {
        process_fin(now);
        return;
    }
    if (filled_gap) {
        send_ack_now(now);
        return;
    }
    // Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): at least every second
    // segment, and within delayed_ack of the first unacknowledged one.
    if (++m_unacked_segments >= 2)
        send_ack_now(now);
    else if (!m_delayed_ack_deadline)
        m_delayed_ack_deadline = now + m_options.delayed_ack;
}

// Keeps an out-of-order segment, sorted by sequence number, without the
// bytes the queue already holds (and drops what the segment covers
// whole): no byte is held twice, so all the queue holds lies within the
// receive window, however often a peer sends the same stretch again.
void Connection::queue_out_of_order(const Segment& segment)
{
    uint32_t start = segment.header.sequence;
    uint32_t end = start + uint32_t(segment.length);
    uint8_t flags = segment.header.flags;
    // Nothing lies beyond a FIN already queued: the stream ends there (a
    // FIN sent again is not queued again).
    for (const Packet& queued : m_out_of_order) {
        uint32_t stream_end = queued.position + uint32_t(queued.length());
        if (!(queued.flags & kFin))
            continue;
        if (!segment.length || seq_ge(start, stream_end))
            return;
        if (seq_gt(end, stream_end)) {
            end = stream_end;
            flags &= uint8_t(~kFin);
        }
    }
    // Trim it to what the queue lacks; queued segments it covers whole are
    // counted, and replaced once its copy exists.
    auto covered = [&](const Packet& queued) {
        uint32_t queued_start = queued.position, queued_end = queued_start + uint32_t(queued.length());
        return seq_ge(queued_start, start) && seq_le(queued_end, end) && !(queued.flags & kFin);
    };
    Packet* after = nullptr;
    size_t replaced = 0;
    for (Packet* queued = m_out_of_order.first(); queued && segment.length;) {
        uint32_t queued_start = queued->position, queued_end = queued_start + uint32_t(queued->length());
        if (seq_ge(queued_start, end)) {
            after = queued;
            break;
        }
        if (seq_le(queued_end, start) || covered(*queued)) {
            replaced += covered(*queued);
            queued = m_out_of_order.next(*queued);
        } else if (seq_le(queued_start, start)) {
            start = queued_end; // it holds the new segment's start
            if (seq_ge(start, end))
                return;
        } else {
            end = queued_start; // it holds the new segment's end
            flags &= uint8_t(~kFin);
        }
    }
    if (!segment.length) {
        for (Packet& queued : m_out_of_order) {
            if (seq_gt(queued.position, start)) {
                after = &queued;
                break;
            }
        }
    }
    if (m_out_of_order_count - replaced >= m_options.out_of_order_segments) {
        m_stats.dropped_out_of_order_full++;
        return;
    }
    Packet* copy = Packet::copy_of(segment.data + (start - segment.header.sequence), end - start, 0);
    if (!copy)
        return;
    for (Packet* queued = m_out_of_order.first(); replaced && queued;) {
        Packet* next = m_out_of_order.next(*queued);
        if (covered(*queued)) {
            m_out_of_order.remove(*queued);
            m_out_of_order_count--;
            replaced--;
            Packet::destroy(queued);
        }
        queued = next;
    }
    copy->position = start;
    copy->flags = flags;
    if (after)
        m_out_of_order.insert_before(*after, *copy);
    else
        m_out_of_order.push_back(*copy);
    m_out_of_order_count++;
}

void Connection::process_fin(Millis now)
{
    if (m_fin_received)
        return;
    m_fin_received = true;
    m_rcv_nxt += 1;
    clear_out_of_order();
    switch (m_state) {
    case State::SynReceived:
    case State::Established: m_state = State::CloseWait; break;
    case State::FinWait1: m_state = State::Closing; break;
    case State::FinWait2: enter_time_wait(now); break;
    default: break;
    }
    drop_buffers_if_done();
    send_ack_now(now);
}

} // namespace keel::net::tcp
