#include "lib/net/dhcp_client.h"

namespace keel::net::dhcp {

namespace {

// An address a host may take: not 0, loopback, multicast, class E or
// the limited broadcast.
bool usable_host_address(Ipv4Address address)
{
    return address != 0 && !ipv4_is_loopback(address) && (address >> 28) < 14;
}

// RFC 1122 3.3.1.2's classful default when the server gives no mask.
uint8_t classful_prefix(Ipv4Address address)
{
    if ((address >> 31) == 0)
        return 8;
    if ((address >> 30) == 2)
        return 16;
    return 24;
}

} // namespace

const char* state_name(Client::State state)
{
    switch (state) {
    case Client::State::Init: return "INIT";
    case Client::State::Selecting: return "SELECTING";
    case Client::State::Requesting: return "REQUESTING";
    case Client::State::Bound: return "BOUND";
    case Client::State::Renewing: return "RENEWING";
    case Client::State::Rebinding: return "REBINDING";
    }
    return "?";
}

const char* lease_event_name(LeaseEvent event)
{
    switch (event) {
    case LeaseEvent::Renewing: return "renewing";
    case LeaseEvent::Rebinding: return "rebinding";
    case LeaseEvent::Renewed: return "renewed";
    case LeaseEvent::Expired: return "expired";
    case LeaseEvent::Refused: return "refused";
    }
    return "?";
}

int prefix_length_of(Ipv4Address mask)
{
    int length = 0;
    while (length < 32 && (mask & (0x80000000u >> length)))
        length++;
    uint32_t expected = length ? ~uint32_t(0) << (32 - length) : 0;
    return mask == expected ? length : -1;
}

Client::Client(Output& output, const MacAddress& mac, uint32_t seed)
    : m_output(output)
    , m_mac(mac)
    , m_random(seed ? seed : 0x9e3779b9)
{
}

uint32_t Client::random()
{
    // xorshift32: enough for transaction IDs and jitter, which only need
    // to differ between clients and attempts.
    m_random ^= m_random << 13;
    m_random ^= m_random >> 17;
    m_random ^= m_random << 5;
    return m_random;
}

void Client::start(Millis now)
{
    m_lease = {};
    begin_discover(now);
}

void Client::begin_discover(Millis now)
{
    m_state = State::Selecting;
    m_xid = random();
    m_started = now;
    m_offered = 0;
    m_server = 0;
    m_timeout = kFirstTimeout;
    m_attempts = 0;
    transmit(now);
}

void Client::transmit(Millis now)
{
    Request request;
    request.type = m_state == State::Selecting ? MessageType::Discover : MessageType::Request;
    request.xid = m_xid;
    Millis elapsed = (now - m_started) / 1000;
    request.seconds = uint16_t(elapsed > 0xffff ? 0xffff : elapsed);
    request.mac = m_mac;
    if (m_state == State::Requesting) {
        request.requested_address = m_offered;
        request.server_id = m_server;
    }
    // RFC 2131 table 5: renewing and rebinding, the address is in ciaddr
    // and neither option 50 nor 54 is sent.
    bool keeping = m_state == State::Renewing || m_state == State::Rebinding;
    if (keeping)
        request.client_address = m_lease.address;
    uint8_t message[kClientMessageSize];
    size_t length = write_request(message, request);
    m_stats.sent++;
    if (m_attempts++)
        m_stats.retransmissions++;
    m_sent_at = now;
    if (m_state == State::Renewing)
        m_output.send_from_address(message, length, m_lease.address, m_lease.server);
    else if (m_state == State::Rebinding)
        m_output.send_from_address(message, length, m_lease.address, kIpv4Broadcast);
    else
        m_output.send_message(message, length);
    if (keeping)
        schedule_keeping(now);
    else
        schedule_retransmission(now);
}

Millis Client::t1() const { return m_lease.bound_at + Millis(m_lease.renewal_seconds) * 1000; }
Millis Client::t2() const { return m_lease.bound_at + Millis(m_lease.rebinding_seconds) * 1000; }
Millis Client::expiry() const { return m_lease.bound_at + Millis(m_lease.lease_seconds) * 1000; }

void Client::schedule_keeping(Millis now)
{
    // RFC 2131 4.4.5: half the time left until T2 (RENEWING) or the end of
    // the lease (REBINDING), at least a minute, never past that limit.
    Millis limit = m_state == State::Renewing ? t2() : expiry();
    Millis left = limit > now ? limit - now : 0;
    Millis wait = left / 2 > kMinRenewalRetry ? left / 2 : kMinRenewalRetry;
    m_deadline = now + wait < limit ? now + wait : limit;
}

void Client::begin_keeping(LeaseEvent event, Millis now)
{
    m_state = event == LeaseEvent::Renewing ? State::Renewing : State::Rebinding;
    m_xid = random();
    m_started = now;
    m_attempts = 0;
    m_output.lease_event(event, m_lease);
    transmit(now);
}

void Client::lose_lease(LeaseEvent event, Millis now)
{
    if (event == LeaseEvent::Expired)
        m_stats.expirations++;
    Lease lost = m_lease;
    m_lease = {};
    m_state = State::Init;
    m_deadline = now + kRestartDelay;
    m_output.lease_event(event, lost);
}

void Client::schedule_retransmission(Millis now)
{
    // The current timeout moved uniformly within +-kJitter, then doubled.
    Millis delay = m_timeout - kJitter + random() % (2 * kJitter + 1);
    m_deadline = now + delay;
    m_timeout = m_timeout * 2 > kMaxTimeout ? kMaxTimeout : m_timeout * 2;
}

void Client::tick(Millis now)
{
    if (m_deadline == 0 || now < m_deadline)
        return;
    switch (m_state) {
    case State::Init: begin_discover(now); break;
    case State::Selecting: transmit(now); break;
    case State::Requesting:
        if (m_attempts >= kRequestAttempts) {
            m_stats.request_timeouts++;
            m_state = State::Init;
            m_deadline = now + kRestartDelay;
            break;
        }
        transmit(now);
        break;
    case State::Bound:
        if (m_lease.lease_seconds == kInfiniteLease) {
            m_deadline = 0;
            break;
        }
        if (now >= expiry())
            lose_lease(LeaseEvent::Expired, now);
        else
            begin_keeping(now >= t2() ? LeaseEvent::Rebinding : LeaseEvent::Renewing, now);
        break;
    case State::Renewing:
    case State::Rebinding:
        if (now >= expiry())
            lose_lease(LeaseEvent::Expired, now);
        else if (m_state == State::Renewing && now >= t2())
            begin_keeping(LeaseEvent::Rebinding, now);
        else
            transmit(now);
        break;
    }
}

void Client::receive(const uint8_t* message, size_t length, Millis now, Diagnostic* diagnostic)
{
    auto parsed = parse_reply(message, length, diagnostic);
    if (parsed.is_error()) {
        m_stats.malformed++;
        return;
    }
    const Reply& reply = parsed.value();
    if (reply.xid != m_xid || reply.client_mac != m_mac) {
        m_stats.ignored++;
        return;
    }
    if (m_state == State::Selecting && reply.type == MessageType::Offer)
        accept_offer(reply, now);
    else if ((m_state == State::Requesting || m_state == State::Renewing || m_state == State::Rebinding)
        && reply.type == MessageType::Ack)
        accept_ack(reply, now);
    else if ((m_state == State::Renewing || m_state == State::Rebinding) && reply.type == MessageType::Nak
        && (reply.server_id == 0 || m_state == State::Rebinding || reply.server_id == m_lease.server)) {
        // RFC 2131 4.4.5: the address must not be used any more.
        m_stats.naks++;
        lose_lease(LeaseEvent::Refused, now);
    } else if (m_state == State::Requesting && reply.type == MessageType::Nak
        && (reply.server_id == 0 || reply.server_id == m_server)) {
        m_stats.naks++;
        m_state = State::Init;
        m_deadline = now + kRestartDelay;
    } else {
        m_stats.ignored++;
    }
}

void Client::accept_offer(const Reply& reply, Millis now)
{
    // RFC 2131 table 3: an OFFER carries the server identifier.
    if (!usable_host_address(reply.your_address) || reply.server_id == 0) {
        m_stats.malformed++;
        return;
    }
    m_stats.offers++;
    m_offered = reply.your_address;
    m_server = reply.server_id;
    m_state = State::Requesting;
    m_timeout = kFirstTimeout;
    m_attempts = 0;
    transmit(now);
}

void Client::accept_ack(const Reply& reply, Millis now)
{
    // The server we asked, the address it offered (RFC 2131 4.3.2 lets it
    // be another, which we take), a lease time (MUST in an ACK), a mask
    // that is one.
    bool renewal = m_state == State::Renewing || m_state == State::Rebinding;
    // REBINDING asks every server; RENEWING the one that gave the lease.
    Ipv4Address server = m_state == State::Rebinding && reply.server_id ? reply.server_id : m_server;
    int prefix = reply.has_subnet_mask ? prefix_length_of(reply.subnet_mask) : classful_prefix(reply.your_address);
    if ((reply.server_id && reply.server_id != server) || !usable_host_address(reply.your_address)
        || !reply.has_lease_time || prefix <= 0 || prefix > 30) {
        m_stats.malformed++;
        return;
    }
    m_lease.address = reply.your_address;
    m_lease.prefix_length = uint8_t(prefix);
    uint32_t mask = ~uint32_t(0) << (32 - prefix);
    // A router off the leased network could never be reached: left out.
    bool router_on_link = (reply.router & mask) == (reply.your_address & mask) && reply.router != reply.your_address;
    m_lease.router = usable_host_address(reply.router) && router_on_link ? reply.router : 0;
    m_server = server;
    m_lease.server = m_server;
    m_lease.dns_count = reply.dns_count;
    for (size_t i = 0; i < reply.dns_count; i++)
        m_lease.dns[i] = reply.dns[i];
    uint32_t lease = reply.lease_seconds;
    m_lease.lease_seconds = lease;
    // RFC 2131 4.4.5: T1 and T2 as the server gives them if they make
    // sense (T1 < T2 < the lease), else half and seven eighths of it.
    uint32_t rebinding = uint32_t(uint64_t(lease) * 7 / 8);
    if (reply.has_rebinding_time && reply.rebinding_seconds < lease)
        rebinding = reply.rebinding_seconds;
    uint32_t renewal_at = lease / 2 < rebinding ? lease / 2 : rebinding / 2;
    if (reply.has_renewal_time && reply.renewal_seconds < rebinding)
        renewal_at = reply.renewal_seconds;
    m_lease.renewal_seconds = renewal_at;
    m_lease.rebinding_seconds = rebinding;
    // A renewed lease counts from the REQUEST that won it (4.4.5).
    m_lease.bound_at = renewal ? m_sent_at : now;
    m_state = State::Bound;
    m_deadline = lease == kInfiniteLease ? 0 : t1();
    if (renewal) {
        m_stats.renewals++;
        m_output.lease_event(LeaseEvent::Renewed, m_lease);
    }
}

} // namespace keel::net::dhcp
