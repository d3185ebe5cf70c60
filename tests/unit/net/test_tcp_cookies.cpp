// SYN cookies: the cookie itself (what it encodes, how long it is good,
// that it cannot be bent), and a listener under a SYN flood that answers
// with cookies and takes the peers that come back.
#include <string.h>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/bytes.h"
#include "lib/net/tcp/syn_cookie.h"
#include "tcp_harness.h"

using tcp::State;

namespace {

constexpr uint16_t kPort = 12345;
constexpr uint8_t kSecret[tcp::kSynCookieSecretSize] = { 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
const tcp::Tuple kTuple { kAddressB, kPort, kAddressA, 40000 };

// A SYN from A's `port` that nothing will answer: its source is spoofed.
void inject_syn(Network& network, uint16_t port) { network.inject_syn(port, kPort, 1460); }

// The spoofed sources' ports: what B sends them is lost.
bool spoofed(Ipv4Address from, const uint8_t* segment)
{
    uint16_t port = keel::net::load16(segment + 2);
    return from == kAddressB && (port == 30000 || port == 30001 || port == 30003);
}

} // namespace

TEST_CASE("tcp cookie: encodes the peer's MSS and is good for one to two periods", "[tcp]")
{
    const Millis now = 10 * tcp::kSynCookiePeriod + 500;
    struct {
        uint16_t offered, carried;
    } const cases[] = { { 0, 536 }, { 100, 64 }, { 535, 64 }, { 536, 536 }, { 1300, 1200 }, { 1460, 1460 },
        { 1500, 1460 }, { 9000, 8960 }, { 65535, 8960 } };
    for (const auto& c : cases) {
        uint32_t cookie = tcp::make_syn_cookie(kSecret, kTuple, 0x12345678, c.offered, now);
        CHECK(tcp::check_syn_cookie(kSecret, kTuple, 0x12345678, cookie, now) == c.carried);
    }
    uint32_t cookie = tcp::make_syn_cookie(kSecret, kTuple, 77, 1460, now);
    // Good until the end of the next period, not after.
    Millis period_end = 11 * tcp::kSynCookiePeriod;
    CHECK(tcp::check_syn_cookie(kSecret, kTuple, 77, cookie, period_end + tcp::kSynCookiePeriod - 1) == 1460);
    CHECK(tcp::check_syn_cookie(kSecret, kTuple, 77, cookie, period_end + tcp::kSynCookiePeriod) == 0);
    CHECK(tcp::check_syn_cookie(kSecret, kTuple, 77, cookie, now + 4 * tcp::kSynCookiePeriod) == 0);
    // Cookies from the first periods after boot work too.
    uint32_t early = tcp::make_syn_cookie(kSecret, kTuple, 77, 1460, 5);
    CHECK(tcp::check_syn_cookie(kSecret, kTuple, 77, early, tcp::kSynCookiePeriod + 5) == 1460);
}

TEST_CASE("tcp cookie: any other tuple, ISN, secret or bit is refused", "[tcp]")
{
    const Millis now = 3 * tcp::kSynCookiePeriod;
    uint32_t cookie = tcp::make_syn_cookie(kSecret, kTuple, 99, 1460, now);
    REQUIRE(tcp::check_syn_cookie(kSecret, kTuple, 99, cookie, now) == 1460);
    for (unsigned bit = 0; bit < 32; bit++) {
        INFO("bit " << bit);
        CHECK(tcp::check_syn_cookie(kSecret, kTuple, 99, cookie ^ (1u << bit), now) == 0);
    }
    CHECK(tcp::check_syn_cookie(kSecret, kTuple, 100, cookie, now) == 0);
    tcp::Tuple other = kTuple;
    other.remote_port++;
    CHECK(tcp::check_syn_cookie(kSecret, other, 99, cookie, now) == 0);
    other = kTuple;
    other.local_address++;
    CHECK(tcp::check_syn_cookie(kSecret, other, 99, cookie, now) == 0);
    uint8_t secret[tcp::kSynCookieSecretSize];
    memcpy(secret, kSecret, sizeof(secret));
    secret[15] ^= 1;
    CHECK(tcp::check_syn_cookie(secret, kTuple, 99, cookie, now) == 0);
}

TEST_CASE("tcp: with the backlog full of fresh handshakes, a SYN is answered with a cookie", "[tcp]")
{
    Network network("tcp-syn-cookies");
    tcp::Listener* listener = network.b().listen(0, kPort, 2).release_value();
    network.filter = [](Ipv4Address from, const uint8_t* segment, size_t) { return spoofed(from, segment); };
    inject_syn(network, 30000);
    inject_syn(network, 30001);
    network.run_for(100);
    REQUIRE(listener->pending() == 2);
    // An honest client gets in at once, not after the handshakes go stale.
    tcp::Connection* client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    network.run_for(100);
    CHECK(listener->syn_cookies_sent() == 1);
    CHECK(listener->dropped_syns() == 0);
    CHECK(client->state() == State::Established);
    CHECK(client->send_window_scale() == 0); // the cookie's SYN-ACK offered no scaling
    CHECK(client->mss() == 1460);
    tcp::Connection* server = listener->accept();
    REQUIRE(server);
    CHECK(listener->syn_cookies_accepted() == 1);
    CHECK(listener->evicted_handshakes() == 1); // a spoofed one gave way to a peer that answered
    CHECK(server->state() == State::Established);
    CHECK(server->mss() == 1460);
    CHECK(server->receive_window_scale() == 0);
    // Data both ways, and an orderly close.
    auto to_server = pattern(200000, 11), to_client = pattern(150000, 12);
    std::vector<uint8_t> got_server, got_client;
    size_t sent_server = 0, sent_client = 0;
    bool closed_client = false, closed_server = false, end_server = false, end_client = false;
    REQUIRE(network.run_until([&] {
        Millis now = network.now();
        sent_server = pump_send(*client, to_server, sent_server, now);
        sent_client = pump_send(*server, to_client, sent_client, now);
        if (sent_server == to_server.size() && !closed_client) {
            client->close(now);
            closed_client = true;
        }
        if (sent_client == to_client.size() && !closed_server) {
            server->close(now);
            closed_server = true;
        }
        end_server = end_server || pump_receive(*server, got_server, now);
        end_client = end_client || pump_receive(*client, got_client, now);
        return end_server && end_client;
    }));
    CHECK(got_server == to_server);
    CHECK(got_client == to_client);
    server->release(network.now());
    client->release(network.now());
    listener->close(network.now());
    network.filter = nullptr;
    auto problems = network.judge();
    for (const auto& line : problems)
        UNSCOPED_INFO(line);
    CHECK(problems.empty());
}

TEST_CASE("tcp: an ACK with a forged or stale cookie is answered with a reset", "[tcp]")
{
    Network network("tcp-syn-cookie-forged");
    tcp::Listener* listener = network.b().listen(0, kPort, 1).release_value();
    // 30000 is spoofed; 30001's SYN-ACK reaches A (which resets it: no
    // connection there), and the cookie it carries is noted.
    network.filter = [](Ipv4Address from, const uint8_t* segment, size_t) {
        uint16_t port = keel::net::load16(segment + 2);
        return from == kAddressB && (port == 30000 || port == 30003 || port == 30004);
    };
    uint32_t cookie = 0;
    network.observer = [&](Ipv4Address to, const uint8_t* segment, size_t) {
        if (to == kAddressA && keel::net::load16(segment + 2) == 30001 && (segment[13] & tcp::kSyn))
            cookie = keel::net::load32(segment + 4);
    };
    auto inject_ack = [&](uint16_t port, uint32_t sequence, uint32_t acknowledgment) {
        tcp::Header header;
        header.source_port = port;
        header.destination_port = kPort;
        header.sequence = sequence;
        header.acknowledgment = acknowledgment;
        header.flags = tcp::kAck;
        header.window = 1000;
        network.inject(kAddressA, kAddressB, header);
    };
    // Before any cookie was sent, an ACK is not even checked.
    inject_ack(30005, 1, 1);
    network.run_for(50);
    CHECK(network.b().stats().syn_cookies_rejected == 0);
    inject_syn(network, 30000); // fills the backlog of one
    network.run_for(50);
    inject_syn(network, 30001);
    network.run_for(50);
    REQUIRE(listener->syn_cookies_sent() == 1);
    REQUIRE(cookie != 0);
    uint64_t resets = network.b().stats().resets_sent;
    // A wrong cookie, the right one from another port, the right one for
    // another ISN: each a reset, none a connection.
    const uint32_t isn = 30001u * 1000;
    inject_ack(30001, isn + 1, cookie + 2);
    inject_ack(30002, isn + 1, cookie + 1);
    inject_ack(30001, isn + 2, cookie + 1);
    network.run_for(50);
    CHECK(network.b().stats().syn_cookies_rejected == 3);
    CHECK(network.b().stats().resets_sent == resets + 3);
    CHECK(listener->syn_cookies_accepted() == 0);
    CHECK(network.b().connections() == 1); // the spoofed handshake
    // Two periods later the right one is stale. Cookies sent meanwhile
    // keep the listener looking at ACKs: the cookie itself is refused.
    network.run_for(100000);
    inject_syn(network, 30004); // takes the place of 30000's handshake, stale by now
    inject_syn(network, 30005); // finds the backlog full again: a cookie
    network.run_for(50);
    REQUIRE(listener->syn_cookies_sent() == 2);
    network.run_for(2 * tcp::kSynCookiePeriod - 100000);
    inject_ack(30001, isn + 1, cookie + 1);
    network.run_for(50);
    CHECK(network.b().stats().syn_cookies_rejected == 4);
    CHECK(listener->syn_cookies_accepted() == 0);
    CHECK(network.b().stats().resets_sent == resets + 4);
    // In time, the right one is a connection.
    inject_syn(network, 30003); // takes the place of 30004's, stale by now
    network.run_for(50);
    inject_syn(network, 30001); // the backlog full again: a cookie
    network.run_for(50);
    REQUIRE(listener->syn_cookies_sent() == 3);
    inject_ack(30001, isn + 1, cookie + 1);
    network.run_for(50);
    CHECK(listener->syn_cookies_accepted() == 1);
    tcp::Connection* server = listener->accept();
    REQUIRE(server);
    CHECK(server->tuple().remote_port == 30001);
    server->abort(network.now());
    server->release(network.now());
    listener->close(network.now());
}

TEST_CASE("tcp: with the backlog full of connections waiting for accept, a SYN gets no cookie", "[tcp]")
{
    Network network("tcp-syn-cookie-accept-full");
    tcp::Listener* listener = network.b().listen(0, kPort, 1).release_value();
    tcp::Connection* first = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    REQUIRE(network.run_until([&] { return listener->ready() == 1; }));
    tcp::Connection* second = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    network.run_for(500);
    CHECK(listener->syn_cookies_sent() == 0);
    CHECK(listener->dropped_syns() >= 1);
    CHECK(second->state() == State::SynSent);
    // Once the first is taken, the second's retried SYN gets in.
    tcp::Connection* server = listener->accept();
    REQUIRE(server);
    REQUIRE(network.run_until([&] { return listener->ready() == 1; }, 5000));
    CHECK(second->state() == State::Established);
    tcp::Connection* other = listener->accept();
    for (tcp::Connection* connection : { first, second, server, other }) {
        connection->abort(network.now());
        connection->release(network.now());
    }
    listener->close(network.now());
}
