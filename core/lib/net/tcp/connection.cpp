// A connection's life outside segment processing: opening, the user's
// calls, the timers and the end.
#include "lib/net/tcp/connection.h"

#include "lib/net/tcp/sequence.h"
#include "lib/net/tcp/stack.h"

namespace keel::net::tcp {

const char* state_name(State state)
{
    switch (state) {
    case State::Closed: return "CLOSED";
    case State::Listen: return "LISTEN";
    case State::SynSent: return "SYN-SENT";
    case State::SynReceived: return "SYN-RECEIVED";
    case State::Established: return "ESTABLISHED";
    case State::FinWait1: return "FIN-WAIT-1";
    case State::FinWait2: return "FIN-WAIT-2";
    case State::CloseWait: return "CLOSE-WAIT";
    case State::Closing: return "CLOSING";
    case State::LastAck: return "LAST-ACK";
    case State::TimeWait: return "TIME-WAIT";
    }
    return "?";
}

Connection::Connection(Stack& stack, const Tuple& tuple, const Options& options)
    : m_stack(stack)
    , m_tuple(tuple)
    , m_options(options)
    , m_rtt(options.rto)
{
    m_mss = mss_for_mtu(options.mtu);
    size_t window = options.receive_buffer;
    while (m_rcv_wscale < kMaxWindowScale && (window >> m_rcv_wscale) > 0xffff)
        m_rcv_wscale++;
}

Connection::~Connection()
{
    clear_out_of_order();
    m_stack.m_ports.unbind(m_binding);
}

size_t Connection::out_of_order_bytes() const
{
    size_t bytes = 0;
    for (const Packet& queued : m_out_of_order)
        bytes += queued.length();
    return bytes;
}

void Connection::clear_out_of_order()
{
    while (Packet* packet = m_out_of_order.pop_front())
        Packet::destroy(packet);
    m_out_of_order_count = 0;
}

// The rings, unless they are there already: a listener's child gets them
// only when its handshake completes, so handshakes that never do (a SYN
// flood) cost the connection's state alone. A released connection gets
// none: nothing will read or write them.
bool Connection::allocate_buffers()
{
    if (m_released)
        return true;
    if (!m_send.allocated() && !m_send.allocate(m_options.send_buffer))
        return false;
    return m_receive.allocated() || m_receive.allocate(m_options.receive_buffer);
}

void Connection::open_active(uint32_t iss, Millis now)
{
    m_iss = iss;
    m_snd_una = iss;
    m_snd_nxt = iss;
    m_snd_max = iss;
    m_state = State::SynSent;
    send_syn(now);
}

void Connection::open_passive(const Segment& syn, uint32_t iss, Millis now)
{
    m_iss = iss;
    m_snd_una = iss;
    m_snd_nxt = iss;
    m_snd_max = iss;
    m_irs = syn.header.sequence;
    m_rcv_nxt = m_irs + 1;
    take_options(syn.header);
    // The window of a SYN is never scaled (RFC 7323 2.2).
    m_snd_wnd = syn.header.window;
    m_max_snd_wnd = m_snd_wnd;
    m_snd_wl1 = syn.header.sequence;
    m_snd_wl2 = iss;
    m_state = State::SynReceived;
    send_syn(now);
}

void Connection::open_from_cookie(const Segment& ack, uint32_t iss, uint16_t peer_mss, Millis now)
{
    m_iss = iss;
    m_snd_una = iss;
    m_snd_nxt = iss + 1;
    m_snd_max = iss + 1;
    m_irs = ack.header.sequence - 1;
    m_rcv_nxt = ack.header.sequence;
    Header syn; // what the cookie kept of the peer's SYN: its MSS, no window scaling
    syn.mss = peer_mss;
    take_options(syn);
    m_snd_wl1 = m_irs;
    m_snd_wl2 = iss;
    m_rcv_adv = m_rcv_nxt + advertised_window(true); // what the cookie's SYN-ACK offered
    m_state = State::SynReceived;
    input(ack, now);
}

Result<size_t> Connection::send(const uint8_t* bytes, size_t length, Millis now)
{
    if (m_error != Error(0))
        return Err(m_error);
    switch (m_state) {
    case State::SynSent:
    case State::SynReceived:
    case State::Established:
    case State::CloseWait: break;
    default: return Err(Error::ENOTCONN);
    }
    if (m_fin_queued)
        return Err(Error::ENOTCONN);
    if (length == 0)
        return size_t(0);
    size_t taken = m_send.write(bytes, length);
    if (taken == 0)
        return Err(Error::EAGAIN);
    transmit(now);
    return taken;
}

Result<size_t> Connection::receive(uint8_t* out, size_t length, Millis now)
{
    if (m_receive.size() == 0) {
        if (m_error != Error(0))
            return Err(m_error);
        if (m_fin_received)
            return size_t(0);
        if (m_state == State::Closed)
            return Err(Error::ENOTCONN);
        return Err(Error::EAGAIN);
    }
    size_t taken = m_receive.read(out, length);
    maybe_window_update(now);
    return taken;
}

void Connection::close(Millis now)
{
    switch (m_state) {
    case State::SynSent: set_closed(); return;
    case State::SynReceived:
    case State::Established:
    case State::CloseWait:
        if (m_fin_queued)
            return;
        m_fin_queued = true;
        m_fin_sequence = m_snd_una + (m_state == State::SynReceived ? 1 : 0) + uint32_t(m_send.size());
        if (m_state == State::Established)
            m_state = State::FinWait1;
        else if (m_state == State::CloseWait)
            m_state = State::LastAck;
        transmit(now);
        return;
    default: return;
    }
}

void Connection::abort(Millis now)
{
    switch (m_state) {
    case State::SynReceived:
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
    case State::CloseWait: send_reset(now); break;
    default: break;
    }
    set_closed();
}

void Connection::release(Millis now)
{
    m_released = true;
    clear_out_of_order(); // nothing will read what it would fill in
    bool peer_waits = m_state != State::Closed && m_state != State::TimeWait;
    if (m_receive.size() && peer_waits) {
        // RFC 1122 4.2.2.13: received data the user never read is lost,
        // and the peer learns so from a reset, not a FIN (as Linux does).
        m_stack.m_stats.aborted_on_close++;
        discard(now);
    } else {
        // A connection released before the user closed it is closed now,
        // as close(2) on a socket does.
        close(now);
        if (orphan() && m_stack.orphans() > m_stack.m_config.max_orphans) {
            // Each released connection still sending holds its send ring
            // until the peer takes it all, and a peer can take its time:
            // past the limit the newest is reset, as Linux does past
            // tcp_max_orphans.
            m_stack.m_stats.aborted_on_orphans++;
            discard(now);
        }
    }
    // RFC 9293 3.10.4 lets the FIN-WAIT-2 state wait for the peer's FIN
    // only as long as TIME-WAIT would.
    if (m_state == State::FinWait2)
        m_time_wait_deadline = now + m_options.time_wait;
    drop_buffers_if_done();
    m_stack.reap(); // may free this connection: nothing may follow
}

// Released (the user will not read or write again) and still sending:
// the connections Config::max_orphans counts.
bool Connection::orphan() const
{
    switch (m_state) {
    case State::FinWait1:
    case State::Closing:
    case State::LastAck: return m_released;
    default: return false;
    }
}

void Connection::discard(Millis now)
{
    switch (m_state) {
    case State::Closed:
    case State::SynSent:
    case State::TimeWait: break;
    default: send_reset(now); break;
    }
    set_closed();
}

void Connection::fail(Error error)
{
    m_error = error;
    set_closed();
}

void Connection::set_closed()
{
    m_state = State::Closed;
    m_retransmit_deadline = 0;
    m_delayed_ack_deadline = 0;
    m_time_wait_deadline = 0;
    m_persist = false;
    clear_out_of_order();
}

void Connection::enter_time_wait(Millis now)
{
    m_state = State::TimeWait;
    m_retransmit_deadline = 0;
    m_persist = false;
    m_time_wait_deadline = now + m_options.time_wait;
    drop_buffers_if_done();
}

// Once the user has released the connection nothing received will be
// read (unread data at the release and new data after it reset the
// connection): the receive ring goes. Once the peer acknowledged our FIN
// everything sent is acknowledged: the send ring goes too (FIN-WAIT-2,
// TIME-WAIT), and only the connection's state waits for the peer's FIN or
// the 2 MSL, as Linux keeps only a small timewait socket. Many short
// connections would otherwise hold 128 KiB each (the default rings) for a
// minute.
void Connection::drop_buffers_if_done()
{
    if (!m_released)
        return;
    m_receive.release();
    if (m_fin_queued && seq_gt(m_snd_una, m_fin_sequence))
        m_send.release();
}

// The window the receive ring leaves. Before a listener's child has its
// ring, the ring it will have. Once a released connection's ring is gone,
// what was already offered (RFC 9293 3.8.6.2.2: a window is not shrunk),
// so that the peer's FIN, and data to answer with a reset, are still
// acceptable.
size_t Connection::receive_window() const
{
    if (m_receive.allocated())
        return m_receive.space();
    if (!m_released)
        return m_options.receive_buffer;
    return seq_gt(m_rcv_adv, m_rcv_nxt) ? m_rcv_adv - m_rcv_nxt : 0;
}

namespace {

// RFC 1191 7's plateaus, for a fragmentation needed without a next-hop MTU.
uint16_t plateau_below(uint16_t length)
{
    static constexpr uint16_t kPlateaus[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68 };
    for (uint16_t plateau : kPlateaus) {
        if (plateau < length)
            return plateau;
    }
    return 68;
}

} // namespace

bool Connection::in_flight(uint32_t sequence) const
{
    // RFC 5927 4.1: only a segment sent and not yet acknowledged can have
    // provoked the error. SND.MAX rather than SND.NXT, which a timeout
    // moves back to SND.UNA.
    return seq_ge(sequence, m_snd_una) && seq_lt(sequence, m_snd_max);
}

void Connection::icmp_error(const IcmpReport& report, Millis now)
{
    if (report.type == kIcmpDestinationUnreachable && report.code == kIcmpUnreachableFragmentationNeeded) {
        lower_path_mtu(report.next_hop_mtu, report.quoted_total_length, now);
        return;
    }
    Error error = icmp_error_errno(report.type, report.code);
    // RFC 5461 4: hard errors abort a connection still opening, and are
    // soft errors (remembered for a timeout) once it is synchronized.
    bool hard = icmp_error_is_hard(report.type, report.code);
    if (hard && (m_state == State::SynSent || (m_state == State::SynReceived && m_listener))) {
        fail(error);
        return;
    }
    m_stats.icmp_soft_errors++;
    m_soft_error = error;
}

void Connection::lower_path_mtu(uint16_t mtu, uint16_t quoted_length, Millis now)
{
    if (mtu == 0)
        mtu = plateau_below(quoted_length); // a router older than RFC 1191
    if (mtu < kMinPathMtu)
        mtu = kMinPathMtu;
    uint32_t mss = uint32_t(mtu) - 40;
    if (mss >= m_mss)
        return; // only ever lower: a larger MTU is news of nothing we sent
    m_mss = mss;
    m_stats.path_mtu_lowered++;
    m_congestion.set_mss(mss);
    // What is in flight was too big (RFC 1191 6.5): send it again in
    // smaller segments, now, without treating it as congestion.
    if (!sending() || m_snd_una == m_snd_max || m_persist)
        return;
    m_snd_nxt = m_snd_una;
    if (m_fin_sent && !seq_gt(m_snd_una, m_fin_sequence))
        m_fin_sent = false;
    m_timing = false; // Karn
    transmit(now);
    arm_retransmit(now);
}

Millis Connection::next_deadline() const
{
    Millis next = 0;
    const Millis deadlines[] = { m_retransmit_deadline, m_delayed_ack_deadline, m_time_wait_deadline };
    for (Millis deadline : deadlines) {
        if (deadline && (!next || deadline < next))
            next = deadline;
    }
    return next;
}

void Connection::tick(Millis now)
{
    if (m_time_wait_deadline && now >= m_time_wait_deadline) {
        set_closed();
        return;
    }
    if (m_delayed_ack_deadline && now >= m_delayed_ack_deadline)
        send_ack_now(now);
    if (m_retransmit_deadline && now >= m_retransmit_deadline)
        on_retransmit_timer(now);
}

} // namespace keel::net::tcp
