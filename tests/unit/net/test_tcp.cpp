// Two TCP stacks talking through a simulated link with a fake clock: the
// handshake, data both ways, loss recovery, every order of closing, resets.
// Each test's packets go to a pcap that tshark judges.
#include <string.h>

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/bytes.h"
#include "lib/net/tcp/sequence.h"
#include "tcp_harness.h"

using keel::Error;
using tcp::State;

namespace {

constexpr uint16_t kPort = 12345; // a port tshark dissects as nothing but TCP

struct Pair {
    tcp::Connection* client = nullptr;
    tcp::Connection* server = nullptr;
    tcp::Listener* listener = nullptr;
};

Pair open_pair(Network& network, size_t backlog = 4)
{
    Pair pair;
    pair.listener = network.b().listen(0, kPort, backlog).release_value();
    pair.client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    REQUIRE(network.run_until([&] {
        if (!pair.server)
            pair.server = pair.listener->accept();
        return pair.server && pair.client->state() == State::Established;
    }));
    REQUIRE(pair.server->state() == State::Established);
    return pair;
}

void require_clean(Network& network)
{
    auto problems = network.judge();
    INFO("capture " << network.capture_path());
    for (const auto& line : problems)
        UNSCOPED_INFO(line);
    REQUIRE(problems.empty());
}

// Sends `to_b` from A and `to_a` from B at once, both sides closing when
// done, and checks that both arrive intact.
void exchange(Network& network, Pair& pair, size_t to_b_size, size_t to_a_size, Millis limit = 600000)
{
    auto to_b = pattern(to_b_size, 1), to_a = pattern(to_a_size, 2);
    std::vector<uint8_t> got_b, got_a;
    size_t sent_b = 0, sent_a = 0;
    bool end_b = false, end_a = false, closed_a = false, closed_b = false;
    REQUIRE(network.run_until(
        [&] {
            Millis now = network.now();
            sent_b = pump_send(*pair.client, to_b, sent_b, now);
            sent_a = pump_send(*pair.server, to_a, sent_a, now);
            if (sent_b == to_b.size() && !closed_a) {
                pair.client->close(now);
                closed_a = true;
            }
            if (sent_a == to_a.size() && !closed_b) {
                pair.server->close(now);
                closed_b = true;
            }
            end_b = end_b || pump_receive(*pair.server, got_b, now);
            end_a = end_a || pump_receive(*pair.client, got_a, now);
            return end_a && end_b;
        },
        limit));
    REQUIRE(got_b == to_b);
    REQUIRE(got_a == to_a);
}

tcp::Stack::Config without_syn_cookies()
{
    tcp::Stack::Config config;
    config.syn_cookies = false;
    return config;
}

} // namespace

TEST_CASE("tcp: handshake, data both ways, orderly close, TIME-WAIT", "[tcp]")
{
    long baseline = net_live_allocations();
    {
        Network network("tcp-basic");
        Pair pair = open_pair(network);
        CHECK(pair.client->mss() == 1460);
        CHECK(pair.server->tuple().remote_port == pair.client->tuple().local_port);
        CHECK(pair.client->tuple().local_port >= 49152);

        exchange(network, pair, 100000, 70000);
        REQUIRE(network.run_until([&] {
            return pair.server->state() == State::Closed
                && (pair.client->state() == State::TimeWait || pair.client->state() == State::Closed);
        }));
        // Whoever closed first waits 2 MSL.
        State client_state = pair.client->state();
        network.run_for(61000);
        CHECK(pair.client->state() == State::Closed);
        INFO("client was " << tcp::state_name(client_state));
        CHECK(pair.client->stats().retransmissions == 0);
        pair.client->release(network.now());
        pair.server->release(network.now());
        pair.listener->close(network.now());
        CHECK(network.a().connections() == 0);
        CHECK(network.b().connections() == 0);
        require_clean(network);

        // The conversation as tshark sees it: a three-way handshake first.
        auto flags = tshark_fields(network.capture_path(), { "tcp.flags.str" });
        REQUIRE(flags.size() > 10);
        CHECK(flags[0].find("S") != std::string::npos);
        CHECK(flags[0].find("A") == std::string::npos);
        CHECK(flags[1].find("A") != std::string::npos);
        CHECK(flags[1].find("S") != std::string::npos);
        auto fins = tshark_fields(network.capture_path(), { "ip.src" }, "tcp.flags.fin == 1");
        CHECK(fins.size() == 2);
        auto resets = tshark_fields(network.capture_path(), { "ip.src" }, "tcp.flags.reset == 1");
        CHECK(resets.empty());
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("tcp: MSS and window scaling are negotiated", "[tcp]")
{
    tcp::Options options;
    options.receive_buffer = 1 << 20;
    options.mtu = 1400;
    Network network("tcp-options", 10, options);
    Pair pair = open_pair(network);
    CHECK(pair.client->mss() == 1360);
    CHECK(pair.client->receive_window_scale() == 5);
    CHECK(pair.client->send_window_scale() == 5);
    // The scaled window is what the peer may fill: close to the buffer.
    CHECK(pair.server->send_window() > 1000000);
    exchange(network, pair, 3000000, 10);
    CHECK(network.a().stats().resets_sent == 0);
    require_clean(network);
    auto windows = tshark_fields(network.capture_path(), { "tcp.window_size" }, "ip.src == 10.0.0.2 && tcp.len == 0");
    REQUIRE(!windows.empty());
    // tshark applies the scale it saw in the handshake.
    CHECK(std::stoul(windows.back()) > 65535);
}

TEST_CASE("tcp: transfers survive loss, duplication, reordering and corruption", "[tcp]")
{
    long baseline = net_live_allocations();
    {
        Network network("tcp-lossy", 5);
        Pair pair = open_pair(network);
        network.faults = { 15, 5, 15, 5 };
        exchange(network, pair, 300000, 200000);
        CHECK(network.dropped() > 50);
        CHECK(pair.client->stats().retransmissions > 0);
        CHECK(pair.client->stats().fast_retransmits + pair.server->stats().fast_retransmits > 0);
        CHECK(network.a().stats().dropped_malformed + network.b().stats().dropped_malformed > 0);
        network.faults = {};
        network.run_for(120000);
        CHECK(pair.client->state() == State::Closed);
        CHECK(pair.server->state() == State::Closed);
        pair.client->release(network.now());
        pair.server->release(network.now());
        pair.listener->close(network.now());
        require_clean(network);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("tcp: one lost segment is repaired by fast retransmit", "[tcp]")
{
    Network network("tcp-fast-retransmit");
    Pair pair = open_pair(network);
    // Let the window grow, then lose one full data segment from A.
    int data_segments = 0;
    network.filter = [&](Ipv4Address from, const uint8_t* segment, size_t length) {
        if (from != kAddressA || length <= 40)
            return false;
        return ++data_segments == 20;
    };
    exchange(network, pair, 200000, 0);
    CHECK(pair.client->stats().fast_retransmits == 1);
    CHECK(pair.client->stats().timeouts == 0);
    require_clean(network);
}

TEST_CASE("tcp: the retransmission timer backs off and gives up", "[tcp]")
{
    Network network("tcp-syn-timeout");
    std::vector<Millis> syn_times;
    network.filter = [&](Ipv4Address from, const uint8_t*, size_t) {
        if (from == kAddressA)
            syn_times.push_back(network.now());
        return true; // a black hole
    };
    Millis start = network.now();
    tcp::Connection* client = network.a().connect(kAddressA, 0, kAddressB, 80, start).release_value();
    REQUIRE(network.run_until([&] { return client->state() == State::Closed; }));
    CHECK(client->error() == Error::ETIMEDOUT);
    REQUIRE(syn_times.size() == 7); // the SYN and 6 retries
    // RFC 6298: 1 s initially, doubled after each expiry.
    Millis expected = 0, rto = 1000;
    for (Millis time : syn_times) {
        CHECK(time - start == expected);
        expected += rto;
        rto *= 2;
    }
    CHECK(client->receive(nullptr, 0, network.now()).error() == Error::ETIMEDOUT);
    client->release(network.now());
    CHECK(network.a().connections() == 0);
}

TEST_CASE("tcp: RTO follows the measured round trip", "[tcp]")
{
    Network network("tcp-rtt", 150);
    Pair pair = open_pair(network);
    exchange(network, pair, 50000, 0);
    // 300 ms round trips: SRTT near 300, RTO at least the 1 s floor.
    CHECK(pair.client->rtt().has_sample());
    CHECK(pair.client->rtt().srtt() >= 290);
    CHECK(pair.client->rtt().srtt() <= 400);
    CHECK(pair.client->rtt().rto() >= 1000);
}

TEST_CASE("tcp: a connection to a closed port is refused", "[tcp]")
{
    Network network("tcp-refused");
    tcp::Connection* client = network.a().connect(kAddressA, 0, kAddressB, 9, network.now()).release_value();
    REQUIRE(network.run_until([&] { return client->state() == State::Closed; }));
    CHECK(client->error() == Error::ECONNREFUSED);
    CHECK(network.b().stats().resets_sent == 1);
    client->release(network.now());
    require_clean(network);
}

TEST_CASE("tcp: a connection whose address went away fails with ENETDOWN and sends nothing", "[tcp]")
{
    Network network("tcp-drop");
    Pair pair = open_pair(network);
    size_t sent = network.sent();
    pair.client->drop(Error::ENETDOWN);
    CHECK(pair.client->state() == State::Closed);
    CHECK(pair.client->error() == Error::ENETDOWN);
    uint8_t byte = 'x';
    CHECK(pair.client->send(&byte, 1, network.now()).error() == Error::ENETDOWN);
    CHECK(pair.client->receive(&byte, 1, network.now()).error() == Error::ENETDOWN);
    pair.client->drop(Error::ECONNRESET); // a closed connection keeps its first reason
    CHECK(pair.client->error() == Error::ENETDOWN);
    pair.client->release(network.now()); // freed at once: closed, nothing to send
    network.run_for(1000);
    CHECK(network.sent() == sent);
    CHECK(network.a().connections() == 0);
    pair.server->abort(network.now());
    pair.server->release(network.now());
    pair.listener->close(network.now());
}

TEST_CASE("tcp: close in every order", "[tcp]")
{
    SECTION("client first")
    {
        Network network("tcp-close-client-first");
        Pair pair = open_pair(network);
        pair.client->close(network.now());
        REQUIRE(network.run_until([&] { return pair.client->state() == State::FinWait2; }));
        CHECK(pair.server->state() == State::CloseWait);
        // Half-closed: the server still sends.
        auto data = pattern(5000, 3);
        pump_send(*pair.server, data, 0, network.now());
        std::vector<uint8_t> got;
        REQUIRE(network.run_until([&] {
            pump_receive(*pair.client, got, network.now());
            return got.size() == data.size();
        }));
        CHECK(got == data);
        pair.server->close(network.now());
        REQUIRE(network.run_until([&] { return pair.server->state() == State::Closed; }));
        CHECK(pair.client->state() == State::TimeWait);
        require_clean(network);
    }
    SECTION("server first")
    {
        Network network("tcp-close-server-first");
        Pair pair = open_pair(network);
        pair.server->close(network.now());
        REQUIRE(network.run_until([&] { return pair.client->at_end_of_stream(); }));
        CHECK(pair.client->state() == State::CloseWait);
        pair.client->close(network.now());
        REQUIRE(network.run_until([&] { return pair.client->state() == State::Closed; }));
        CHECK(pair.server->state() == State::TimeWait);
        require_clean(network);
    }
    SECTION("simultaneous")
    {
        Network network("tcp-close-simultaneous");
        Pair pair = open_pair(network);
        pair.client->close(network.now());
        pair.server->close(network.now());
        REQUIRE(network.run_until(
            [&] { return pair.client->state() == State::TimeWait && pair.server->state() == State::TimeWait; }));
        network.run_for(61000);
        CHECK(pair.client->state() == State::Closed);
        CHECK(pair.server->state() == State::Closed);
        require_clean(network);
    }
    SECTION("with data in flight and the last ACK lost")
    {
        Network network("tcp-close-lost-ack");
        Pair pair = open_pair(network);
        auto data = pattern(20000, 4);
        pump_send(*pair.client, data, 0, network.now());
        pair.client->close(network.now());
        std::vector<uint8_t> got;
        REQUIRE(network.run_until([&] { return pump_receive(*pair.server, got, network.now()); }));
        CHECK(got == data);
        // Lose the client's ACK of the server's FIN once: the server
        // repeats its FIN and the client, in TIME-WAIT, acknowledges again.
        int lost = 0;
        network.filter = [&](Ipv4Address from, const uint8_t*, size_t) {
            return from == kAddressA && pair.client->state() == State::TimeWait && lost++ == 0;
        };
        pair.server->close(network.now());
        REQUIRE(network.run_until([&] { return pair.server->state() == State::Closed; }));
        CHECK(lost >= 1);
        CHECK(pair.server->stats().timeouts >= 1);
        CHECK(pair.client->state() == State::TimeWait);
        require_clean(network);
    }
    SECTION("released without close: the stack closes and frees it")
    {
        long baseline = net_live_allocations();
        {
            Network network("tcp-close-release");
            Pair pair = open_pair(network);
            pair.client->release(network.now());
            REQUIRE(network.run_until([&] { return pair.server->state() == State::CloseWait; }));
            pair.server->release(network.now());
            network.run_for(70000);
            CHECK(network.a().connections() == 0);
            CHECK(network.b().connections() == 0);
            pair.listener->close(network.now());
            require_clean(network);
        }
        CHECK(net_live_allocations() == baseline);
    }
}

TEST_CASE("tcp: simultaneous open", "[tcp]")
{
    Network network("tcp-simultaneous-open");
    tcp::Connection* a = network.a().connect(kAddressA, 40000, kAddressB, 40001, network.now()).release_value();
    tcp::Connection* b = network.b().connect(kAddressB, 40001, kAddressA, 40000, network.now()).release_value();
    REQUIRE(network.run_until([&] { return a->state() == State::Established && b->state() == State::Established; }));
    auto data = pattern(3000, 5);
    pump_send(*a, data, 0, network.now());
    std::vector<uint8_t> got;
    REQUIRE(network.run_until([&] {
        pump_receive(*b, got, network.now());
        return got.size() == data.size();
    }));
    CHECK(got == data);
    require_clean(network);
}

TEST_CASE("tcp: resets", "[tcp]")
{
    SECTION("abort resets the peer")
    {
        Network network("tcp-rst-abort");
        Pair pair = open_pair(network);
        pair.client->abort(network.now());
        CHECK(pair.client->state() == State::Closed);
        REQUIRE(network.run_until([&] { return pair.server->state() == State::Closed; }));
        CHECK(pair.server->error() == Error::ECONNRESET);
        uint8_t byte = 0;
        CHECK(pair.server->send(&byte, 1, network.now()).error() == Error::ECONNRESET);
        require_clean(network);
    }
    SECTION("a reset that is not exactly at RCV.NXT only earns a challenge ACK (RFC 5961)")
    {
        Network network("tcp-rst-blind");
        Pair pair = open_pair(network);
        uint32_t next = 0;
        // Learn the server's RCV.NXT from what the client sends.
        pair.client->send(reinterpret_cast<const uint8_t*>("x"), 1, network.now()).release_value();
        network.observer = [&](Ipv4Address to, const uint8_t* segment, size_t) {
            if (to == kAddressB && !(segment[13] & tcp::kRst))
                next = keel::net::load32(segment + 4) + 1;
        };
        network.run_for(100);
        REQUIRE(next);
        uint8_t rst[20] = {};
        tcp::Header header;
        header.source_port = pair.client->tuple().local_port;
        header.destination_port = kPort;
        header.sequence = next + 100; // in the window, not exact
        header.flags = tcp::kRst;
        tcp::write_header(rst, header, 0, kAddressA, kAddressB);
        network.inject(kAddressA, kAddressB, rst, sizeof(rst));
        network.run_for(100);
        CHECK(pair.server->state() == State::Established);
        CHECK(pair.server->stats().challenge_acks == 1);
        // Far outside the window: ignored, apart from an ACK.
        header.sequence = next + 0x40000000;
        tcp::write_header(rst, header, 0, kAddressA, kAddressB);
        network.inject(kAddressA, kAddressB, rst, sizeof(rst));
        network.run_for(100);
        CHECK(pair.server->state() == State::Established);
        // Exactly at RCV.NXT: the connection is reset.
        header.sequence = next;
        tcp::write_header(rst, header, 0, kAddressA, kAddressB);
        network.inject(kAddressA, kAddressB, rst, sizeof(rst));
        network.run_for(100);
        CHECK(pair.server->state() == State::Closed);
        CHECK(pair.server->error() == Error::ECONNRESET);
        require_clean(network);
    }
    SECTION("a SYN on an established connection earns a challenge ACK")
    {
        Network network("tcp-syn-established");
        Pair pair = open_pair(network);
        uint8_t syn[20] = {};
        tcp::Header header;
        header.source_port = pair.client->tuple().local_port;
        header.destination_port = kPort;
        header.sequence = 12345;
        header.flags = tcp::kSyn;
        tcp::write_header(syn, header, 0, kAddressA, kAddressB);
        network.inject(kAddressA, kAddressB, syn, sizeof(syn));
        network.run_for(100);
        CHECK(pair.server->state() == State::Established);
        CHECK(pair.client->state() == State::Established);
        CHECK(pair.server->stats().challenge_acks == 1);
        require_clean(network);
    }
    SECTION("an ACK to a listener gets a reset, a stray segment too")
    {
        Network network("tcp-rst-listener");
        tcp::Listener* listener = network.b().listen(0, kPort, 4).release_value();
        uint8_t ack[20] = {};
        tcp::Header header;
        header.source_port = 4000;
        header.destination_port = kPort;
        header.sequence = 1;
        header.acknowledgment = 777;
        header.flags = tcp::kAck;
        tcp::write_header(ack, header, 0, kAddressA, kAddressB);
        std::vector<uint32_t> reset_sequences;
        network.observer = [&](Ipv4Address to, const uint8_t* segment, size_t) {
            if (to == kAddressA && (segment[13] & tcp::kRst))
                reset_sequences.push_back(keel::net::load32(segment + 4));
        };
        network.inject(kAddressA, kAddressB, ack, sizeof(ack));
        network.run_for(100);
        REQUIRE(reset_sequences.size() == 1);
        CHECK(reset_sequences[0] == 777); // <SEQ=SEG.ACK><CTL=RST>
        CHECK(listener->pending() == 0);
        listener->close(network.now());
        require_clean(network);
    }
}

TEST_CASE("tcp: the listen backlog holds connections until accepted", "[tcp]")
{
    Network network("tcp-backlog", 10, without_syn_cookies());
    tcp::Listener* listener = network.b().listen(0, kPort, 2).release_value();
    std::vector<tcp::Connection*> clients;
    for (int i = 0; i < 4; i++)
        clients.push_back(network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value());
    network.run_for(500);
    CHECK(listener->ready() == 2);
    CHECK(listener->dropped_syns() >= 2);
    // Accepting makes room; the others' retransmitted SYNs get in.
    std::vector<tcp::Connection*> servers;
    REQUIRE(network.run_until([&] {
        while (tcp::Connection* server = listener->accept())
            servers.push_back(server);
        return servers.size() == 4;
    }));
    for (tcp::Connection* client : clients)
        CHECK(client->state() == State::Established);
    require_clean(network);
}

TEST_CASE("tcp: a handshake stale from a spoofed SYN gives way to a new one; fresh ones do not", "[tcp]")
{
    Network network("tcp-syn-flood", 10, without_syn_cookies());
    tcp::Listener* listener = network.b().listen(0, kPort, 2).release_value();
    // Two SYNs from ports of A that nothing answers from (spoofed
    // sources): their SYN-ACKs go nowhere.
    network.filter = [](Ipv4Address from, const uint8_t* segment, size_t) {
        uint16_t port = keel::net::load16(segment + 2);
        return from == kAddressB && (port == 30000 || port == 30001);
    };
    for (uint16_t port : { 30000, 30001 })
        network.inject_syn(port, kPort);
    network.run_for(100);
    CHECK(listener->pending() == 2);
    // While they are fresh, a new SYN waits for room as before.
    tcp::Connection* early = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    network.run_for(200);
    CHECK(listener->dropped_syns() == 1);
    CHECK(early->state() == State::SynSent);
    // Once their SYN-ACKs have been sent again, the client's retried SYN
    // takes the place of the oldest, long before their two minutes.
    REQUIRE(network.run_until([&] { return early->state() == State::Established; }, 5000));
    CHECK(listener->evicted_handshakes() == 1);
    network.run_for(50); // the client's ACK
    tcp::Connection* server = listener->accept();
    REQUIRE(server);
    CHECK(listener->pending() == 1); // the other stale handshake
    server->release(network.now());
    early->release(network.now());
    listener->close(network.now());
    network.filter = nullptr;
    require_clean(network);
}

TEST_CASE("tcp: a listener's handshakes get their rings only when they complete", "[tcp]")
{
    Network network("tcp-handshake-rings");
    tcp::Listener* listener = network.b().listen(0, kPort, 8).release_value();
    std::map<uint16_t, uint32_t> iss; // B's, by the peer's port
    network.observer = [&](Ipv4Address to, const uint8_t* segment, size_t) {
        if (to == kAddressA && (segment[13] & tcp::kSyn))
            iss[keel::net::load16(segment + 2)] = keel::net::load32(segment + 4);
    };
    // A knows nothing of these handshakes: the resets it answers with are lost.
    network.filter = [](Ipv4Address from, const uint8_t* segment, size_t) {
        return from == kAddressA && (segment[13] & tcp::kRst);
    };
    auto segment_from = [](uint16_t port, uint32_t sequence, uint32_t acknowledgment, uint8_t flags) {
        std::vector<uint8_t> segment(20);
        tcp::Header header;
        header.source_port = port;
        header.destination_port = kPort;
        header.sequence = sequence;
        header.acknowledgment = acknowledgment;
        header.flags = flags;
        header.window = 65535;
        tcp::write_header(segment.data(), header, 0, kAddressA, kAddressB);
        return segment;
    };
    long before = net_live_allocations();
    for (uint16_t port = 30000; port < 30004; port++) {
        auto syn = segment_from(port, 1000u * port, 0, tcp::kSyn);
        network.inject(kAddressA, kAddressB, syn.data(), syn.size());
    }
    network.run_for(50);
    CHECK(listener->pending() == 4);
    REQUIRE(iss.size() == 4);
    CHECK(net_live_allocations() - before == 4); // each handshake's state, no rings
    // 30003's ACK comes when its rings cannot be had: as if it were lost.
    auto ack = segment_from(30003, 1000u * 30003 + 1, iss[30003] + 1, tcp::kAck);
    net_fail_allocations_after(0);
    network.b().input(ack.data(), ack.size(), kAddressA, kAddressB, network.now());
    net_fail_allocations_after(-1);
    CHECK(listener->ready() == 0);
    CHECK(listener->pending() == 4);
    // The next ACK (the answer to the SYN-ACK sent again) completes it.
    network.b().input(ack.data(), ack.size(), kAddressA, kAddressB, network.now());
    CHECK(listener->ready() == 1);
    CHECK(net_live_allocations() - before == 4 + 2);
    tcp::Connection* server = listener->accept();
    REQUIRE(server);
    CHECK(server->state() == State::Established);
    CHECK(server->buffer_bytes() == tcp::Options().send_buffer + tcp::Options().receive_buffer);
    server->abort(network.now());
    server->release(network.now());
    listener->close(network.now());
    CHECK(net_live_allocations() == before - 1); // the listener's own too
}

TEST_CASE("tcp: a zero window is probed until it opens", "[tcp]")
{
    tcp::Options options;
    options.receive_buffer = 8192;
    Network network("tcp-zero-window", 10, options);
    Pair pair = open_pair(network);
    auto data = pattern(40000, 6);
    size_t sent = pump_send(*pair.client, data, 0, network.now());
    network.run_for(20000); // the server reads nothing
    CHECK(pair.client->send_window() == 0);
    CHECK(pair.client->stats().zero_window_probes >= 1);
    CHECK(pair.client->state() == State::Established);
    std::vector<uint8_t> got;
    REQUIRE(network.run_until([&] {
        sent = pump_send(*pair.client, data, sent, network.now());
        pump_receive(*pair.server, got, network.now());
        return got.size() == data.size();
    }));
    CHECK(got == data);
    require_clean(network);
}

TEST_CASE("tcp: delayed ACKs and Nagle", "[tcp]")
{
    Network network("tcp-delayed-ack");
    Pair pair = open_pair(network);
    std::vector<std::pair<Millis, size_t>> from_a;
    Millis ack_at = 0;
    network.observer = [&](Ipv4Address to, const uint8_t* segment, size_t length) {
        size_t header = (segment[12] >> 4) * 4;
        if (to == kAddressB)
            from_a.push_back({ network.now(), length - header });
        else if (length == header && !ack_at)
            ack_at = network.now();
    };
    Millis start = network.now();
    pair.client->send(reinterpret_cast<const uint8_t*>("a"), 1, start).release_value();
    pair.client->send(reinterpret_cast<const uint8_t*>("b"), 1, start).release_value();
    network.run_for(1000);
    // The first byte goes at once; Nagle holds the second until the ACK.
    REQUIRE(from_a.size() == 2);
    CHECK(from_a[0].first == start + 10);
    // The receiver delays its ACK of a single segment by 40 ms (and the
    // link takes 10 ms each way).
    CHECK(ack_at == start + 10 + 40 + 10);
    CHECK(from_a[1].first == ack_at + 10);
    require_clean(network);
}

TEST_CASE("tcp: the send buffer applies back-pressure", "[tcp]")
{
    tcp::Options options;
    options.send_buffer = 4096;
    Network network("tcp-backpressure", 10, options);
    Pair pair = open_pair(network);
    auto data = pattern(10000, 7);
    auto taken = pair.client->send(data.data(), data.size(), network.now());
    REQUIRE(taken.is_ok());
    CHECK(taken.value() == 4096);
    CHECK(pair.client->send(data.data(), 1, network.now()).error() == Error::EAGAIN);
    pair.client->close(network.now());
    CHECK(pair.client->send(data.data(), 1, network.now()).error() == Error::ENOTCONN);
}

TEST_CASE("tcp: sequence arithmetic wraps", "[tcp]")
{
    CHECK(tcp::seq_lt(0xfffffff0u, 0x10u));
    CHECK(tcp::seq_gt(0x10u, 0xfffffff0u));
    CHECK(tcp::seq_in(0x5u, 0xfffffff0u, 0x10u));
    CHECK(!tcp::seq_in(0x10u, 0xfffffff0u, 0x10u));
}

namespace {

// A segment from `from`'s side of the connection to `to`, as the peer
// would send it, injected onto the link.
void inject_segment(Network& network, tcp::Connection& to, uint32_t sequence, uint8_t flags, const char* data = "")
{
    uint8_t segment[64] = {};
    size_t length = strlen(data);
    memcpy(segment + 20, data, length);
    tcp::Header header;
    header.source_port = to.tuple().remote_port;
    header.destination_port = to.tuple().local_port;
    header.sequence = sequence;
    header.acknowledgment = to.send_unacknowledged();
    header.flags = flags;
    header.window = 65535;
    tcp::write_header(segment, header, length, to.tuple().remote_address, to.tuple().local_address);
    network.inject(to.tuple().remote_address, to.tuple().local_address, segment, 20 + length);
}

} // namespace

TEST_CASE("tcp: a reset at RCV.NXT closes the connection in every synchronized state", "[tcp]")
{
    struct Expected {
        const char* name;
        State state;
        Error error;
    };
    for (Expected expected : { Expected { "established", State::Established, Error::ECONNRESET },
             Expected { "fin-wait-2", State::FinWait2, Error::ECONNRESET },
             Expected { "close-wait", State::CloseWait, Error::ECONNRESET },
             Expected { "time-wait", State::TimeWait, Error(0) } }) {
        Network network(std::string("tcp-rst-") + expected.name);
        Pair pair = open_pair(network);
        tcp::Connection* target = pair.client;
        if (expected.state == State::FinWait2) {
            pair.client->close(network.now());
        } else if (expected.state == State::CloseWait) {
            pair.client->close(network.now());
            target = pair.server;
        } else if (expected.state == State::TimeWait) {
            pair.client->close(network.now());
            pair.server->close(network.now());
        }
        REQUIRE(network.run_until([&] { return target->state() == expected.state; }));
        network.run_for(100);
        REQUIRE(target->state() == expected.state);
        INFO(expected.name);
        // One below RCV.NXT is outside the window: ignored.
        inject_segment(network, *target, target->receive_next() - 1, tcp::kRst);
        network.run_for(50);
        CHECK(target->state() == expected.state);
        inject_segment(network, *target, target->receive_next(), tcp::kRst);
        network.run_for(50);
        CHECK(target->state() == State::Closed);
        CHECK(target->error() == expected.error);
        require_clean(network);
    }
}

TEST_CASE("tcp: data outside the window is dropped and answered with an ACK", "[tcp]")
{
    tcp::Options options;
    options.receive_buffer = 4096;
    Network network("tcp-out-of-window", 10, options);
    Pair pair = open_pair(network);
    uint32_t next = pair.server->receive_next();
    inject_segment(network, *pair.server, next + 100000, tcp::kAck | tcp::kPsh, "far away");
    inject_segment(network, *pair.server, next - 20, tcp::kAck | tcp::kPsh, "old data");
    network.run_for(100);
    CHECK(pair.server->stats().dropped_out_of_window == 2);
    CHECK(pair.server->readable() == 0);
    CHECK(pair.server->receive_next() == next);
    // A segment that starts before RCV.NXT and reaches into the window is
    // trimmed to its new part.
    inject_segment(network, *pair.server, next - 4, tcp::kAck | tcp::kPsh, "oldnew");
    network.run_for(100);
    REQUIRE(pair.server->readable() == 2);
    uint8_t bytes[8];
    REQUIRE(pair.server->receive(bytes, sizeof(bytes), network.now()).value() == 2);
    CHECK(memcmp(bytes, "ew", 2) == 0);
    require_clean(network);
}

TEST_CASE("tcp: bare ACKs outside the window are answered at most twice a second, data always", "[tcp]")
{
    Network network("tcp-out-of-window-acks");
    Pair pair = open_pair(network);
    network.run_for(1000);
    size_t answers = 0;
    network.observer = [&](Ipv4Address to, const uint8_t*, size_t) { answers += to == kAddressA; };
    uint32_t next = pair.server->receive_next();
    // Two ends that disagree (a segment spoofed from our own address to
    // ourselves) would otherwise trade such ACKs as fast as they can.
    for (int i = 0; i < 20; i++) {
        inject_segment(network, *pair.server, next + 100000, tcp::kAck);
        network.run_for(50);
    }
    CHECK(answers >= 2);
    CHECK(answers <= 3);
    CHECK(pair.server->stats().invalid_acks_suppressed == 20 - answers);
    // Data out of the window is always answered: the peer's ACK was lost.
    answers = 0;
    for (int i = 0; i < 5; i++) {
        inject_segment(network, *pair.server, next - 20, tcp::kAck | tcp::kPsh, "old data");
        network.run_for(20);
    }
    CHECK(answers == 5);
    require_clean(network);
}

TEST_CASE("tcp: the out-of-order queue holds each byte once", "[tcp]")
{
    Network network("tcp-out-of-order-once");
    Pair pair = open_pair(network);
    network.run_for(1000);
    uint32_t next = pair.server->receive_next();
    // The same stretch again and again takes its room once.
    for (int i = 0; i < 64; i++)
        inject_segment(network, *pair.server, next + 10, tcp::kAck, "0123456789");
    network.run_for(100);
    CHECK(pair.server->out_of_order_segments() == 1);
    CHECK(pair.server->out_of_order_bytes() == 10);
    // An overlap keeps only its new bytes (5 to 9)...
    inject_segment(network, *pair.server, next + 5, tcp::kAck, "abcdefghij");
    network.run_for(100);
    CHECK(pair.server->out_of_order_segments() == 2);
    CHECK(pair.server->out_of_order_bytes() == 15);
    // ... and a segment covering queued ones replaces them.
    inject_segment(network, *pair.server, next + 1, tcp::kAck, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123");
    network.run_for(100);
    CHECK(pair.server->out_of_order_segments() == 1);
    CHECK(pair.server->out_of_order_bytes() == 30);
    // A FIN ends the stream: it is queued once, and nothing beyond it is.
    inject_segment(network, *pair.server, next + 31, tcp::kAck | tcp::kFin, "xyz");
    for (int i = 0; i < 5; i++)
        inject_segment(network, *pair.server, next + 34, tcp::kAck | tcp::kFin);
    inject_segment(network, *pair.server, next + 34, tcp::kAck, "beyond");
    inject_segment(network, *pair.server, next + 30, tcp::kAck, "3xyzmore");
    network.run_for(100);
    CHECK(pair.server->out_of_order_segments() == 2);
    CHECK(pair.server->out_of_order_bytes() == 33);
    // The gap filled, everything is read in order, up to the FIN.
    inject_segment(network, *pair.server, next, tcp::kAck | tcp::kPsh, "!");
    network.run_for(100);
    CHECK(pair.server->out_of_order_segments() == 0);
    CHECK(pair.server->state() == State::CloseWait);
    REQUIRE(pair.server->readable() == 34);
    uint8_t bytes[34];
    REQUIRE(pair.server->receive(bytes, sizeof(bytes), network.now()).value() == 34);
    CHECK(memcmp(bytes, "!ABCDEFGHIJKLMNOPQRSTUVWXYZ0123xyz", 34) == 0);
    CHECK(pair.server->receive_next() == next + 35);
    require_clean(network);
}

TEST_CASE("tcp: connections released while closing are listed until they are gone", "[tcp]")
{
    Network network("tcp-released-listed");
    Pair pair = open_pair(network);
    auto listed = [](tcp::Stack& stack) {
        std::vector<std::string> states;
        stack.for_each_released(
            [&](const tcp::Connection& connection) { states.push_back(tcp::state_name(connection.state())); });
        return states;
    };
    auto buffers = [](tcp::Stack& stack) {
        size_t bytes = 0;
        stack.for_each_released([&](const tcp::Connection& connection) { bytes += connection.buffer_bytes(); });
        return bytes;
    };
    CHECK(listed(network.a()).empty());
    // The client closes and lets go: FIN-WAIT-1, then FIN-WAIT-2 once acknowledged.
    tcp::Tuple tuple = pair.client->tuple();
    pair.client->close(network.now());
    pair.client->release(network.now());
    CHECK(listed(network.a()) == std::vector<std::string> { "FIN-WAIT-1" });
    REQUIRE(network.run_until([&] { return pair.server->at_end_of_stream(); }));
    network.run_for(100);
    CHECK(listed(network.a()) == std::vector<std::string> { "FIN-WAIT-2" });
    // The server closes and lets go too: LAST-ACK on its side until the
    // last ACK, TIME-WAIT on the client's for 2 MSL.
    pair.server->close(network.now());
    pair.server->release(network.now());
    CHECK(listed(network.b()) == std::vector<std::string> { "LAST-ACK" });
    CHECK(buffers(network.b()) == tcp::Options().send_buffer); // nothing more to receive
    CHECK(buffers(network.a()) == 0); // FIN-WAIT-2: everything sent is acknowledged, nothing will be read
    network.run_for(1000);
    CHECK(listed(network.b()).empty());
    std::vector<tcp::Tuple> tuples;
    network.a().for_each_released([&](const tcp::Connection& connection) { tuples.push_back(connection.tuple()); });
    REQUIRE(tuples.size() == 1);
    CHECK(tuples[0] == tuple);
    CHECK(listed(network.a()) == std::vector<std::string> { "TIME-WAIT" });
    CHECK(buffers(network.a()) == 0); // nothing left to send or to read: the rings went
    // It began within that second and lasts the whole 2 MSL (60 s by default).
    network.run_for(58000);
    CHECK(listed(network.a()) == std::vector<std::string> { "TIME-WAIT" });
    network.run_for(2000);
    CHECK(listed(network.a()).empty());
    CHECK(network.a().connections() == 0);
    pair.listener->close(network.now());
}

TEST_CASE("tcp: a connection released with received data unread is reset", "[tcp]")
{
    Network network("tcp-release-unread");
    Pair pair = open_pair(network);
    auto data = pattern(1000, 7);
    REQUIRE(pump_send(*pair.client, data, 0, network.now()) == data.size());
    REQUIRE(network.run_until([&] { return pair.server->readable() == data.size(); }));
    pair.server->release(network.now()); // never read: the client must not believe it arrived
    CHECK(network.b().stats().aborted_on_close == 1);
    CHECK(network.b().connections() == 0);
    REQUIRE(network.run_until([&] { return pair.client->state() == State::Closed; }, 1000));
    CHECK(pair.client->error() == Error::ECONNRESET);
    pair.client->release(network.now());
    pair.listener->close(network.now());
    // Read to the end first, and the release is the orderly close.
    Pair quiet = open_pair(network);
    REQUIRE(pump_send(*quiet.client, data, 0, network.now()) == data.size());
    quiet.client->close(network.now());
    std::vector<uint8_t> got;
    REQUIRE(network.run_until([&] { return pump_receive(*quiet.server, got, network.now()); }));
    quiet.server->release(network.now());
    REQUIRE(network.run_until([&] { return quiet.client->state() == State::TimeWait; }));
    CHECK(network.b().stats().aborted_on_close == 1);
    quiet.client->release(network.now());
    quiet.listener->close(network.now());
    require_clean(network);
}

TEST_CASE("tcp: data that comes after the release is answered with a reset; a FIN is not", "[tcp]")
{
    Network network("tcp-release-data");
    Pair pair = open_pair(network);
    // The server lets go first: FIN-WAIT-2 once its FIN is acknowledged.
    pair.server->release(network.now());
    REQUIRE(network.run_until([&] { return pair.client->at_end_of_stream(); }));
    network.run_for(100);
    CHECK(network.b().connections() == 1);
    auto data = pattern(500, 8);
    REQUIRE(pump_send(*pair.client, data, 0, network.now()) == data.size());
    REQUIRE(network.run_until([&] { return pair.client->state() == State::Closed; }, 1000));
    CHECK(pair.client->error() == Error::ECONNRESET);
    CHECK(network.b().stats().aborted_on_data == 1);
    CHECK(network.b().connections() == 0);
    pair.client->release(network.now());
    // A FIN after the release is no data: the connection closes in order,
    // and the server's side waits in TIME-WAIT.
    tcp::Connection* client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    tcp::Connection* server = nullptr;
    REQUIRE(network.run_until([&] { return server || (server = pair.listener->accept()); }));
    server->release(network.now());
    REQUIRE(network.run_until([&] { return client->at_end_of_stream(); }));
    network.run_for(100);
    client->close(network.now());
    REQUIRE(network.run_until([&] { return client->state() == State::Closed; }, 2000));
    CHECK(client->error() == Error(0));
    CHECK(network.b().stats().aborted_on_data == 1);
    std::vector<State> states;
    network.b().for_each_released([&](const tcp::Connection& connection) { states.push_back(connection.state()); });
    CHECK(states == std::vector<State> { State::TimeWait });
    client->release(network.now());
    pair.listener->close(network.now());
    require_clean(network);
}

TEST_CASE("tcp: released connections still sending are limited, and retried fewer times", "[tcp]")
{
    tcp::Stack::Config config;
    config.max_orphans = 2;
    Network network("tcp-orphans", 10, config);
    tcp::Listener* listener = network.b().listen(0, kPort, 4).release_value();
    std::vector<Pair> pairs(4);
    for (Pair& pair : pairs)
        pair.client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    size_t accepted = 0;
    REQUIRE(network.run_until([&] {
        while (tcp::Connection* server = listener->accept())
            pairs[accepted++].server = server;
        return accepted == pairs.size();
    }));
    network.run_for(100);
    // Nothing from B arrives: whatever its servers send stays unacknowledged.
    network.filter = [](Ipv4Address from, const uint8_t*, size_t) { return from == kAddressB; };
    auto data = pattern(3000, 9);
    for (Pair& pair : pairs)
        REQUIRE(pump_send(*pair.server, data, 0, network.now()) == data.size());
    pairs[3].server->close(network.now()); // closed, not released: not an orphan
    for (int i = 0; i < 3; i++)
        pairs[i].server->release(network.now());
    CHECK(network.b().orphans() == 2);
    CHECK(network.b().stats().aborted_on_orphans == 1); // the third
    CHECK(network.b().connections() == 3);
    // An orphan gives up after 8 unanswered timeouts (1+2+...+32+60+60+60
    // s), not 12: the closed connection its user still holds goes on.
    network.run_for(250000);
    CHECK(network.b().orphans() == 0);
    CHECK(network.b().connections() == 1);
    CHECK(pairs[3].server->state() == State::FinWait1);
    network.run_for(250000);
    CHECK(pairs[3].server->state() == State::Closed);
    CHECK(pairs[3].server->error() == Error::ETIMEDOUT);
    pairs[3].server->release(network.now());
    // The clients heard nothing, and the resets reach them now.
    network.filter = nullptr;
    for (Pair& pair : pairs)
        pair.client->close(network.now());
    REQUIRE(network.run_until([&] {
        for (Pair& pair : pairs) {
            if (pair.client->state() != State::Closed)
                return false;
        }
        return true;
    }));
    for (Pair& pair : pairs)
        pair.client->release(network.now());
    listener->close(network.now());
    CHECK(network.a().connections() == 0);
    CHECK(network.b().connections() == 0);
}

TEST_CASE("tcp: a new SYN from the same port reopens a connection in TIME-WAIT", "[tcp]")
{
    Network network("tcp-time-wait-reopen");
    tcp::Listener* listener = network.b().listen(0, kPort, 4).release_value();
    // One short exchange, the server closing first (as httpd does): the
    // server's side waits in TIME-WAIT.
    auto once = [&](uint16_t port) {
        tcp::Connection* client = network.a().connect(kAddressA, port, kAddressB, kPort, network.now()).release_value();
        tcp::Connection* server = nullptr;
        REQUIRE(network.run_until(
            [&] {
                if (!server)
                    server = listener->accept();
                return server && client->state() == State::Established;
            },
            500));
        auto data = pattern(5000, port);
        REQUIRE(pump_send(*server, data, 0, network.now()) == data.size());
        server->release(network.now());
        std::vector<uint8_t> got;
        REQUIRE(network.run_until([&] { return pump_receive(*client, got, network.now()); }));
        CHECK(got == data);
        client->release(network.now());
        network.run_for(100);
        CHECK(network.a().connections() == 0);
    };
    struct Waiting {
        size_t count = 0;
        uint32_t sent_end = 0, received_end = 0;
    };
    auto waiting = [&] {
        Waiting found;
        network.b().for_each_released([&](const tcp::Connection& connection) {
            if (connection.state() != State::TimeWait)
                return;
            found.count++;
            found.sent_end = connection.send_unacknowledged();
            found.received_end = connection.receive_next();
        });
        return found;
    };
    once(40000);
    Waiting old = waiting();
    REQUIRE(old.count == 1);
    uint32_t new_iss = 0;
    network.observer = [&](Ipv4Address to, const uint8_t* segment, size_t) {
        if (to == kAddressA && (segment[13] & tcp::kSyn))
            new_iss = keel::net::load32(segment + 4);
    };
    // The same port again, at once: in within a round trip, not after a
    // challenge ACK and a retried SYN a second later.
    Millis started = network.now();
    once(40000);
    CHECK(network.b().stats().time_wait_reopened == 1);
    CHECK(network.now() - started < 500);
    // Its sequence numbers started past everything the old one sent.
    REQUIRE(new_iss != 0);
    CHECK(keel::net::tcp::seq_gt(new_iss, old.sent_end));
    // A SYN whose number is not beyond what the connection in TIME-WAIT
    // received does not reopen it: it is answered with an ACK, and
    // TIME-WAIT goes on.
    Waiting now = waiting();
    REQUIRE(now.count == 1);
    tcp::Header header;
    header.source_port = 40000;
    header.destination_port = kPort;
    header.sequence = now.received_end - 3000;
    header.flags = tcp::kSyn;
    header.window = 65535;
    network.observer = nullptr;
    network.filter = [](Ipv4Address from, const uint8_t*, size_t) { return from == kAddressA; };
    network.inject(kAddressA, kAddressB, header);
    network.run_for(50);
    CHECK(network.b().stats().time_wait_reopened == 1);
    CHECK(waiting().count == 1);
    network.filter = nullptr;
    listener->close(network.now());
}

TEST_CASE("tcp: three hundred connections at once each get their own segments", "[tcp]")
{
    // The stack finds a segment's connection on a chain keyed by the
    // four-tuple: with 300 connections to one port some chains hold
    // several, and every byte must still reach its own connection.
    Network network("tcp-many");
    tcp::Listener* listener = network.b().listen(0, kPort, 512).release_value();
    constexpr size_t kCount = 300;
    std::vector<tcp::Connection*> clients;
    for (size_t i = 0; i < kCount; i++)
        clients.push_back(network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value());
    std::vector<tcp::Connection*> servers;
    REQUIRE(network.run_until([&] {
        while (tcp::Connection* server = listener->accept())
            servers.push_back(server);
        return servers.size() == kCount;
    }));
    // Each client sends its own index, twice over, and closes.
    for (tcp::Connection* client : clients) {
        uint16_t port = client->tuple().local_port;
        uint8_t bytes[4] = { uint8_t(port >> 8), uint8_t(port), uint8_t(port >> 8), uint8_t(port) };
        REQUIRE(client->send(bytes, sizeof(bytes), network.now()).value() == sizeof(bytes));
        client->close(network.now());
    }
    std::vector<std::vector<uint8_t>> got(kCount);
    std::vector<bool> ended(kCount);
    REQUIRE(network.run_until([&] {
        size_t done = 0;
        for (size_t i = 0; i < kCount; i++) {
            ended[i] = ended[i] || pump_receive(*servers[i], got[i], network.now());
            done += ended[i];
        }
        return done == kCount;
    }));
    for (size_t i = 0; i < kCount; i++) {
        uint16_t port = servers[i]->tuple().remote_port;
        CHECK(got[i] == std::vector<uint8_t> { uint8_t(port >> 8), uint8_t(port), uint8_t(port >> 8), uint8_t(port) });
        servers[i]->release(network.now());
    }
    for (tcp::Connection* client : clients)
        client->release(network.now());
    network.run_for(1000);
    CHECK(network.b().connections() == 0);
    listener->close(network.now());
    CHECK(network.a().stats().resets_sent == 0);
    CHECK(network.b().stats().resets_sent == 0);
}
