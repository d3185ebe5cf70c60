#include "lib/net/tcp/stack.h"

#include "lib/base/string.h"
#include "lib/crypto/sha256.h"
#include "lib/net/tcp/sequence.h"
#include "lib/net/tcp/syn_cookie.h"

namespace keel::net::tcp {

Connection* Listener::accept()
{
    Connection* connection = m_accept_queue.pop_front();
    if (!connection)
        return nullptr;
    connection->m_listener = nullptr;
    m_pending--;
    return connection;
}

size_t Listener::ready() const { return m_accept_queue.size(); }

void Listener::close(Millis now)
{
    Stack& stack = m_stack;
    for (Connection& connection : stack.m_connections) {
        if (connection.m_listener != this)
            continue;
        connection.abort(now);
        connection.m_queue_node.unlink();
        connection.m_listener = nullptr;
        connection.m_released = true;
    }
    stack.m_ports.unbind(m_binding);
    m_node.unlink();
    net_destroy(this);
    stack.reap();
}

Stack::Stack(Output& output, const Config& config)
    : m_output(output)
    , m_config(config)
{
}

Stack::~Stack()
{
    while (Connection* connection = m_connections.pop_front()) {
        connection->m_queue_node.unlink();
        net_destroy(connection);
    }
    while (Listener* listener = m_listeners.pop_front()) {
        m_ports.unbind(listener->m_binding);
        net_destroy(listener);
    }
}

Connection* Stack::create(const Tuple& tuple, const Options& options, bool buffers)
{
    if (m_count >= m_config.max_connections) {
        m_stats.dropped_connection_limit++;
        return nullptr;
    }
    Connection* connection = net_create<Connection>(*this, tuple, options);
    if (!connection)
        return nullptr;
    if (buffers && !connection->allocate_buffers()) {
        net_destroy(connection);
        return nullptr;
    }
    return connection;
}

Result<Connection*> Stack::connect(Ipv4Address local_address, uint16_t local_port, Ipv4Address remote_address,
    uint16_t remote_port, Millis now, const Options* options)
{
    if (remote_port == 0 || remote_address == 0 || local_address == 0)
        return Err(Error::EINVAL);
    Tuple tuple { local_address, local_port, remote_address, remote_port };
    Connection* connection = create(tuple, options ? *options : m_config.defaults);
    if (!connection)
        return Err(Error::ENOMEM);
    connection->m_binding.local_address = local_address;
    connection->m_binding.local_port = local_port;
    connection->m_binding.owner = connection;
    if (Result<void> bound = m_ports.bind(connection->m_binding); bound.is_error()) {
        net_destroy(connection);
        return Err(bound.error());
    }
    connection->m_tuple.local_port = connection->m_binding.local_port;
    attach(*connection);
    connection->open_active(initial_sequence(connection->m_tuple, now), now);
    return connection;
}

Result<Listener*> Stack::listen(Ipv4Address local_address, uint16_t port, size_t backlog)
{
    if (port == 0 || backlog == 0)
        return Err(Error::EINVAL);
    Listener* listener = net_create<Listener>(*this, backlog);
    if (!listener)
        return Err(Error::ENOMEM);
    listener->m_binding.local_address = local_address;
    listener->m_binding.local_port = port;
    listener->m_binding.owner = listener;
    if (Result<void> bound = m_ports.bind(listener->m_binding); bound.is_error()) {
        net_destroy(listener);
        return Err(bound.error());
    }
    m_listeners.push_back(*listener);
    return listener;
}

// Which chain a four-tuple's connection is on. Keyed by the secret, so
// that a peer cannot choose tuples that all land on one chain without
// knowing it; a chain is at worst the list the stack had before.
size_t Stack::bucket(const Tuple& tuple) const
{
    uint64_t key = uint64_t(load32(m_config.secret)) << 32 | load32(m_config.secret + 4);
    uint64_t addresses = (uint64_t(tuple.local_address) << 32 | tuple.remote_address) ^ key;
    uint64_t ports = (uint64_t(tuple.local_port) << 16 | tuple.remote_port) ^ load32(m_config.secret + 8);
    uint64_t hash = addresses * 0x9e3779b97f4a7c15ull;
    hash ^= hash >> 29;
    hash = (hash ^ ports) * 0xbf58476d1ce4e5b9ull;
    hash ^= hash >> 32;
    return size_t(hash & (kBuckets - 1));
}

// Enters a new connection (its tuple final) in the list and its chain.
void Stack::attach(Connection& connection)
{
    m_connections.push_back(connection);
    Connection*& head = m_buckets[bucket(connection.m_tuple)];
    connection.m_hash_next = head;
    head = &connection;
    m_count++;
    m_stats.connections_opened++;
}

Connection* Stack::find(const Tuple& tuple)
{
    for (Connection* connection = m_buckets[bucket(tuple)]; connection; connection = connection->m_hash_next) {
        if (connection->m_state != State::Closed && connection->m_tuple == tuple)
            return connection;
    }
    return nullptr;
}

Listener* Stack::find_listener(Ipv4Address address, uint16_t port)
{
    Listener* wildcard = nullptr;
    for (Listener& listener : m_listeners) {
        if (listener.m_binding.local_port != port)
            continue;
        if (listener.m_binding.local_address == address)
            return &listener;
        if (listener.m_binding.local_address == 0)
            wildcard = &listener;
    }
    return wildcard;
}

void Stack::input(const uint8_t* bytes, size_t length, Ipv4Address source, Ipv4Address destination, Millis now)
{
    m_stats.segments_received++;
    Result<Segment> parsed = parse_segment(bytes, length, source, destination, nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_malformed++;
        return;
    }
    const Segment& segment = parsed.value();
    const Header& header = segment.header;
    Tuple tuple { destination, header.destination_port, source, header.source_port };
    uint32_t sequence_floor = 0;
    if (Connection* connection = find(tuple)) {
        if (!reopens_from_time_wait(*connection, segment)) {
            connection->input(segment, now);
            reap();
            return;
        }
        // RFC 1122 4.2.2.13: a new SYN may reopen the connection from
        // TIME-WAIT if its sequence number is beyond the old one's and
        // ours starts beyond every number the old one used. A client
        // that reuses its port (as one making many short connections to
        // a server that closes first soon must) gets in at once, as with
        // Linux, instead of after a challenge ACK, its RST and a retried
        // SYN.
        sequence_floor = connection->m_snd_max + 0x10000;
        m_stats.time_wait_reopened++;
        connection->set_closed();
        free_connection(*connection);
    }
    if (Listener* listener = find_listener(destination, header.destination_port)) {
        // RFC 9293 3.10.7.2: a listener ignores RST, answers an ACK with
        // RST and starts a connection for a SYN.
        if (header.has(kRst))
            return;
        if (header.has(kAck)) {
            if (header.has(kSyn) || !accept_syn_cookie(*listener, segment, tuple, now))
                send_reset_for(segment, source, destination);
            return;
        }
        if (header.has(kSyn))
            accept_syn(*listener, segment, tuple, now, sequence_floor);
        return;
    }
    m_stats.dropped_no_connection++;
    send_reset_for(segment, source, destination);
}

void Stack::icmp_error(const IcmpReport& report, Millis now)
{
    if (report.protocol != kIpProtocolTcp || report.transport_length < 8) {
        m_stats.icmp_errors_ignored++;
        return;
    }
    // The quote is of a segment we sent: its source is our side.
    const uint8_t* quoted = report.transport;
    Tuple tuple { report.source, load16(quoted), report.destination, load16(quoted + 2) };
    Connection* connection = find(tuple);
    if (!connection || !connection->in_flight(load32(quoted + 4))) {
        m_stats.icmp_errors_ignored++;
        return;
    }
    m_stats.icmp_errors++;
    connection->icmp_error(report, now);
    reap();
}

// The oldest of the listener's handshakes still waiting for the peer's
// ACK; with `stale_only`, the oldest that had to send its SYN-ACK again:
// an honest peer answers within a round trip, a SYN from a spoofed source
// never.
Connection* Stack::oldest_handshake(const Listener& listener, bool stale_only)
{
    for (Connection& connection : m_connections) {
        if (connection.m_listener == &listener && connection.m_state == State::SynReceived
            && (connection.m_retries || !stale_only))
            return &connection;
    }
    return nullptr;
}

void Stack::evict_handshake(Listener& listener, Connection& handshake)
{
    listener.m_evicted_handshakes++;
    handshake.set_closed();
    free_connection(handshake);
}

// A new connection for the listener, counted in its backlog; its rings
// come when its handshake completes.
Connection* Stack::add_child(Listener& listener, const Tuple& tuple)
{
    Connection* connection = create(tuple, m_config.defaults, false);
    if (!connection)
        return nullptr;
    connection->m_listener = &listener;
    listener.m_pending++;
    attach(*connection);
    return connection;
}

// A SYN that may reopen `connection` from TIME-WAIT: nothing but SYN, a
// sequence number beyond anything the old connection received, a listener
// to take it, and nobody holding the old one.
bool Stack::reopens_from_time_wait(const Connection& connection, const Segment& segment)
{
    const Header& header = segment.header;
    return connection.m_state == State::TimeWait && connection.m_released
        && (header.flags & (kSyn | kAck | kRst | kFin)) == kSyn && seq_gt(header.sequence, connection.m_rcv_nxt)
        && find_listener(connection.m_tuple.local_address, connection.m_tuple.local_port);
}

void Stack::accept_syn(
    Listener& listener, const Segment& segment, const Tuple& tuple, Millis now, uint32_t sequence_floor)
{
    if (listener.m_pending >= listener.m_backlog) {
        // SYNs from spoofed sources would hold the backlog for the two
        // minutes their SYN-ACKs are retried: a stale handshake gives
        // way (as Linux prunes its old requests). Fresh ones are kept, so
        // a burst of honest connections is not turned against itself;
        // the SYN is answered with a cookie instead, unless the
        // connections waiting for accept() fill the backlog on their own
        // (then no handshake would find room, and the peer retries).
        Connection* stale = oldest_handshake(listener, true);
        if (!stale) {
            if (m_config.syn_cookies && listener.ready() < listener.m_backlog)
                send_syn_cookie(listener, segment, tuple, now);
            else
                listener.m_dropped_syns++;
            return;
        }
        evict_handshake(listener, *stale);
    }
    uint32_t iss = initial_sequence(tuple, now);
    if (sequence_floor && seq_lt(iss, sequence_floor))
        iss = sequence_floor;
    if (Connection* connection = add_child(listener, tuple))
        connection->open_passive(segment, iss, now);
}

void Stack::send_syn_cookie(Listener& listener, const Segment& syn, const Tuple& tuple, Millis now)
{
    const Options& options = m_config.defaults;
    Header header;
    header.source_port = tuple.local_port;
    header.destination_port = tuple.remote_port;
    header.sequence = make_syn_cookie(m_config.secret, tuple, syn.header.sequence, syn.header.mss, now);
    header.acknowledgment = syn.header.sequence + 1;
    header.flags = kSyn | kAck;
    header.mss = mss_for_mtu(options.mtu);
    header.window = uint16_t(min<size_t>(options.receive_buffer, 0xffff)); // no window scale option
    size_t length = header_size(header);
    PacketPtr packet(Packet::create(m_config.headroom, length));
    if (!packet)
        return;
    write_header(packet->put(length), header, 0, tuple.local_address, tuple.remote_address);
    listener.m_syn_cookies_sent++;
    listener.m_last_cookie = now ? now : 1;
    emit(move(packet), tuple.local_address, tuple.remote_address);
}

bool Stack::accept_syn_cookie(Listener& listener, const Segment& ack, const Tuple& tuple, Millis now)
{
    // Only while the listener has sent cookies lately (as Linux checks
    // for a recent overflow): otherwise no ACK can be one, and a blind
    // guess of 27 bits is not even looked at.
    if (!m_config.syn_cookies || !listener.m_last_cookie || now - listener.m_last_cookie >= 2 * kSynCookiePeriod)
        return false;
    uint32_t cookie = ack.header.acknowledgment - 1;
    uint16_t mss = check_syn_cookie(m_config.secret, tuple, ack.header.sequence - 1, cookie, now);
    if (!mss) {
        m_stats.syn_cookies_rejected++;
        return false;
    }
    if (listener.m_pending >= listener.m_backlog) {
        // The peer has answered, which a spoofed source never does: a
        // handshake still waiting for its answer gives way, a stale one
        // first (a fresh one's ACK may be on its way).
        Connection* waiting = oldest_handshake(listener, true);
        if (!waiting)
            waiting = oldest_handshake(listener, false);
        if (!waiting) {
            listener.m_dropped_syns++; // all wait for accept(): the peer's data retries
            return true;
        }
        evict_handshake(listener, *waiting);
    }
    Connection* connection = add_child(listener, tuple);
    if (!connection)
        return true;
    connection->open_from_cookie(ack, cookie, mss, now);
    if (connection->m_state == State::SynReceived) {
        // Out of memory for its rings: nothing was promised that a
        // retransmission of the ACK's data cannot bring again.
        connection->set_closed();
        free_connection(*connection);
        return true;
    }
    listener.m_syn_cookies_accepted++;
    return true;
}

void Stack::send_reset_for(const Segment& segment, Ipv4Address source, Ipv4Address destination)
{
    const Header& in = segment.header;
    if (in.has(kRst))
        return; // never answer a reset
    Header header;
    header.source_port = in.destination_port;
    header.destination_port = in.source_port;
    if (in.has(kAck)) {
        header.sequence = in.acknowledgment;
        header.flags = kRst;
    } else {
        header.acknowledgment = in.sequence + uint32_t(segment.sequence_length());
        header.flags = kRst | kAck;
    }
    PacketPtr packet(Packet::create(m_config.headroom, kHeaderSize));
    if (!packet)
        return;
    write_header(packet->put(kHeaderSize), header, 0, destination, source);
    m_stats.resets_sent++;
    emit(move(packet), destination, source);
}

void Stack::emit(PacketPtr segment, Ipv4Address source, Ipv4Address destination)
{
    m_output.transmit(move(segment), source, destination);
}

// RFC 6528: ISN = M + F(4-tuple, secret), M a clock ticking every 4 us,
// F a keyed hash, so that sequence numbers are neither predictable from
// outside nor reused by successive incarnations of a connection.
uint32_t Stack::initial_sequence(const Tuple& tuple, Millis now) const
{
    uint8_t input[12 + sizeof(m_config.secret)];
    store32(input, tuple.local_address);
    store32(input + 4, tuple.remote_address);
    store16(input + 8, tuple.local_port);
    store16(input + 10, tuple.remote_port);
    memcpy(input + 12, m_config.secret, sizeof(m_config.secret));
    Sha256Digest digest = Sha256::hash(input, sizeof(input));
    return load32(digest.bytes) + uint32_t(now * 250);
}

void Stack::tick(Millis now)
{
    for (Connection& connection : m_connections)
        connection.tick(now);
    reap();
}

size_t Stack::orphans() const
{
    size_t count = 0;
    for (const Connection& connection : m_connections)
        count += connection.orphan();
    return count;
}

Millis Stack::next_deadline() const
{
    Millis next = 0;
    for (const Connection& connection : m_connections) {
        Millis deadline = connection.next_deadline();
        if (deadline && (!next || deadline < next))
            next = deadline;
    }
    return next;
}

void Stack::free_connection(Connection& connection)
{
    if (connection.m_listener) {
        connection.m_queue_node.unlink();
        connection.m_listener->m_pending--;
    }
    m_connections.remove(connection);
    Connection** link = &m_buckets[bucket(connection.m_tuple)];
    while (*link != &connection)
        link = &(*link)->m_hash_next;
    *link = connection.m_hash_next;
    m_count--;
    m_stats.connections_freed++;
    net_destroy(&connection);
}

void Stack::reap()
{
    Connection* connection = m_connections.first();
    while (connection) {
        Connection* next = m_connections.next(*connection);
        if (connection->m_state == State::Closed && (connection->m_released || connection->m_listener))
            free_connection(*connection);
        connection = next;
    }
}

} // namespace keel::net::tcp
