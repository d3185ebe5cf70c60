// TCP's reaction to ICMP errors (RFC 1122 4.2.3.9, RFC 5461, RFC 5927,
// RFC 1191): two stacks through the simulated link, and ICMP reports
// crafted from the segments A really sent, some of them forged.
#include <string.h>

#include <functional>
#include <vector>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/icmp.h"
#include "lib/net/tcp/sequence.h"
#include "tcp_harness.h"

using keel::Error;
using keel::net::IcmpReport;
using keel::net::kIcmpDestinationUnreachable;
using keel::net::kIcmpTimeExceeded;
using keel::net::load32;
using tcp::State;

namespace {

constexpr uint16_t kPort = 12345;
constexpr Ipv4Address kRouter = 0x0a000063; // 10.0.0.99

// A segment A sent, as the link saw it.
struct Sent {
    Ipv4Address to = 0;
    std::vector<uint8_t> segment;
    uint32_t sequence() const { return load32(segment.data() + 4); }
};

// Records what A sends; drops it when `drop` says so.
struct Recorder {
    std::vector<Sent> sent;
    std::function<bool(const Sent&)> drop = [](const Sent&) { return false; };

    void attach(Network& network)
    {
        network.filter = [this](Ipv4Address from, const uint8_t* segment, size_t length) {
            if (from != kAddressA)
                return false;
            sent.push_back({ kAddressB, std::vector<uint8_t>(segment, segment + length) });
            return drop(sent.back());
        };
    }
};

// An ICMP error quoting `sent` as a router on the path would: the IP
// header's addresses and the first 8 bytes of the segment.
IcmpReport report_about(const Sent& sent, uint8_t type, uint8_t code, uint16_t mtu = 0)
{
    IcmpReport report;
    report.type = type;
    report.code = code;
    report.next_hop_mtu = mtu;
    report.reporter = kRouter;
    report.protocol = keel::net::kIpProtocolTcp;
    report.source = kAddressA;
    report.destination = sent.to;
    report.quoted_total_length = uint16_t(20 + sent.segment.size());
    report.transport = sent.segment.data();
    report.transport_length = 8;
    return report;
}

struct Pair {
    tcp::Connection* client = nullptr;
    tcp::Connection* server = nullptr;
    tcp::Listener* listener = nullptr;
};

Pair open_pair(Network& network)
{
    Pair pair;
    pair.listener = network.b().listen(0, kPort, 4).release_value();
    pair.client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    REQUIRE(network.run_until([&] {
        if (!pair.server)
            pair.server = pair.listener->accept();
        return pair.server && pair.client->state() == State::Established;
    }));
    return pair;
}

void close_pair(Network& network, Pair& pair)
{
    pair.client->abort(network.now());
    pair.client->release(network.now());
    pair.server->abort(network.now());
    pair.server->release(network.now());
    pair.listener->close(network.now());
    network.run_for(1000);
    CHECK(network.a().connections() == 0);
    CHECK(network.b().connections() == 0);
}

// A connection in SYN-SENT whose SYNs vanish; the first SYN in `recorder`.
tcp::Connection* connecting(Network& network, Recorder& recorder)
{
    recorder.drop = [](const Sent&) { return true; };
    recorder.attach(network);
    tcp::Connection* client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    REQUIRE(recorder.sent.size() == 1);
    REQUIRE(client->state() == State::SynSent);
    return client;
}

} // namespace

TEST_CASE("tcp icmp: port and protocol unreachable abort a connection in SYN-SENT", "[tcp][icmp]")
{
    long baseline = net_live_allocations();
    for (uint8_t code : { keel::net::kIcmpUnreachablePort, keel::net::kIcmpUnreachableProtocol }) {
        Network network("tcp-icmp-hard");
        Recorder recorder;
        tcp::Connection* client = connecting(network, recorder);
        network.a().icmp_error(report_about(recorder.sent[0], kIcmpDestinationUnreachable, code), network.now());
        CHECK(client->state() == State::Closed);
        CHECK(client->error() == Error::ECONNREFUSED);
        CHECK(network.a().stats().icmp_errors == 1);
        // Nothing more is sent: no SYN retry.
        network.run_for(10000);
        CHECK(recorder.sent.size() == 1);
        CHECK(client->receive(nullptr, 0, network.now()).error() == Error::ECONNREFUSED);
        client->release(network.now());
        CHECK(network.a().connections() == 0);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("tcp icmp: soft errors in SYN-SENT are the reason connect gives when it times out", "[tcp][icmp]")
{
    struct Case {
        uint8_t type, code;
        Error expected;
    };
    const Case cases[] = {
        { kIcmpDestinationUnreachable, keel::net::kIcmpUnreachableNet, Error::ENETUNREACH },
        { kIcmpDestinationUnreachable, keel::net::kIcmpUnreachableHost, Error::EHOSTUNREACH },
        { kIcmpDestinationUnreachable, keel::net::kIcmpUnreachableSourceRouteFailed, Error::EHOSTUNREACH },
        { kIcmpTimeExceeded, keel::net::kIcmpTimeExceededTtl, Error::EHOSTUNREACH },
    };
    for (const Case& test : cases) {
        Network network("tcp-icmp-soft");
        Recorder recorder;
        tcp::Connection* client = connecting(network, recorder);
        network.a().icmp_error(report_about(recorder.sent[0], test.type, test.code), network.now());
        // A soft error: the SYN is sent again as before.
        CHECK(client->state() == State::SynSent);
        CHECK(client->soft_error() == test.expected);
        CHECK(client->stats().icmp_soft_errors == 1);
        REQUIRE(network.run_until([&] { return client->state() == State::Closed; }));
        CHECK(recorder.sent.size() == 7); // the SYN and its 6 retries
        CHECK(client->error() == test.expected);
        client->release(network.now());
    }
}

TEST_CASE("tcp icmp: forged errors are ignored", "[tcp][icmp]")
{
    Network network("tcp-icmp-forged");
    Recorder recorder;
    tcp::Connection* client = connecting(network, recorder);
    const Sent syn = recorder.sent[0];
    auto port_unreachable = [&](const Sent& sent) {
        return report_about(sent, kIcmpDestinationUnreachable, keel::net::kIcmpUnreachablePort);
    };
    auto with = [&](auto change) {
        Sent forged = syn;
        change(forged.segment.data());
        return forged;
    };
    // Sequence numbers never in flight: before ISS, after SND.NXT.
    uint32_t iss = syn.sequence();
    for (uint32_t sequence : { iss - 1, iss + 1, iss + 100000, iss ^ 0x80000000 }) {
        Sent forged = with([&](uint8_t* bytes) { keel::net::store32(bytes + 4, sequence); });
        network.a().icmp_error(port_unreachable(forged), network.now());
    }
    // Another local port, another remote port.
    network.a().icmp_error(port_unreachable(with([](uint8_t* bytes) { bytes[1] ^= 1; })), network.now());
    network.a().icmp_error(port_unreachable(with([](uint8_t* bytes) { bytes[3] ^= 1; })), network.now());
    // Another peer, another local address, another protocol, a short quote.
    IcmpReport report = port_unreachable(syn);
    report.destination = 0x0a000003;
    network.a().icmp_error(report, network.now());
    report = port_unreachable(syn);
    report.source = 0x0a000004;
    network.a().icmp_error(report, network.now());
    report = port_unreachable(syn);
    report.protocol = keel::net::kIpProtocolUdp;
    network.a().icmp_error(report, network.now());
    report = port_unreachable(syn);
    report.transport_length = 7;
    network.a().icmp_error(report, network.now());
    CHECK(network.a().stats().icmp_errors_ignored == 10);
    CHECK(network.a().stats().icmp_errors == 0);
    CHECK(client->state() == State::SynSent);
    CHECK(client->soft_error() == Error(0));
    // The genuine one still works.
    network.a().icmp_error(port_unreachable(syn), network.now());
    CHECK(client->error() == Error::ECONNREFUSED);
    client->release(network.now());
}

TEST_CASE("tcp icmp: in a synchronized connection hard errors are soft", "[tcp][icmp]")
{
    long baseline = net_live_allocations();
    {
        Network network("tcp-icmp-established");
        Recorder recorder;
        recorder.attach(network);
        Pair pair = open_pair(network);
        // Nothing in flight: no segment of ours can be quoted.
        const Sent ack = recorder.sent.back();
        network.a().icmp_error(
            report_about(ack, kIcmpDestinationUnreachable, keel::net::kIcmpUnreachablePort), network.now());
        CHECK(network.a().stats().icmp_errors_ignored == 1);
        CHECK(pair.client->soft_error() == Error(0));

        // Data that vanishes on the way: the error about it is remembered,
        // the connection goes on.
        recorder.drop = [](const Sent& sent) { return sent.segment.size() > 20; };
        std::vector<uint8_t> data = pattern(1000, 7);
        REQUIRE(pair.client->send(data.data(), data.size(), network.now()).value() == data.size());
        const Sent lost = recorder.sent.back();
        REQUIRE(lost.segment.size() == 20 + data.size());
        network.a().icmp_error(
            report_about(lost, kIcmpDestinationUnreachable, keel::net::kIcmpUnreachablePort), network.now());
        CHECK(pair.client->state() == State::Established);
        CHECK(pair.client->soft_error() == Error::ECONNREFUSED);
        CHECK(pair.client->stats().icmp_soft_errors == 1);

        SECTION("and given as the reason when the connection times out")
        {
            REQUIRE(network.run_until([&] { return pair.client->state() == State::Closed; }, 3600000));
            CHECK(pair.client->error() == Error::ECONNREFUSED);
        }
        SECTION("and forgotten once the path works again")
        {
            recorder.drop = [](const Sent&) { return false; };
            std::vector<uint8_t> got;
            REQUIRE(network.run_until([&] {
                pump_receive(*pair.server, got, network.now());
                return got.size() == data.size();
            }));
            CHECK(got == data);
            REQUIRE(network.run_until([&] { return pair.client->unacknowledged() == 0; }));
            CHECK(pair.client->soft_error() == Error(0));
            CHECK(pair.client->state() == State::Established);
        }
        close_pair(network, pair);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("tcp icmp: a half-open connection is dropped on a hard error", "[tcp][icmp]")
{
    Network network("tcp-icmp-syn-received");
    tcp::Listener* listener = network.b().listen(0, kPort, 4).release_value();
    // B's SYN-ACKs vanish; the error quotes one.
    std::vector<uint8_t> syn_ack;
    network.filter = [&](Ipv4Address from, const uint8_t* segment, size_t length) {
        if (from != kAddressB)
            return false;
        syn_ack.assign(segment, segment + length);
        return true;
    };
    tcp::Connection* client = network.a().connect(kAddressA, 0, kAddressB, kPort, network.now()).release_value();
    REQUIRE(network.run_until([&] { return !syn_ack.empty(); }));
    REQUIRE(listener->pending() == 1);
    IcmpReport report;
    report.type = kIcmpDestinationUnreachable;
    report.code = keel::net::kIcmpUnreachablePort;
    report.protocol = keel::net::kIpProtocolTcp;
    report.source = kAddressB;
    report.destination = kAddressA;
    report.quoted_total_length = uint16_t(20 + syn_ack.size());
    report.transport = syn_ack.data();
    report.transport_length = 8;
    network.b().icmp_error(report, network.now());
    CHECK(listener->pending() == 0);
    CHECK(network.b().connections() == 0);
    client->abort(network.now());
    client->release(network.now());
    listener->close(network.now());
}

TEST_CASE("tcp icmp: fragmentation needed lowers the MSS and resends at once", "[tcp][icmp]")
{
    struct Case {
        uint16_t mtu;          // in the message
        uint32_t expected_mss; // afterwards
    };
    // 1000 as given; 300 below the floor of 576; 0 (no next-hop MTU):
    // the plateau below the quoted length (1500 -> 1492, RFC 1191 7).
    const Case cases[] = { { 1000, 960 }, { 300, 536 }, { 0, 1452 } };
    long baseline = net_live_allocations();
    for (const Case& test : cases) {
        Network network("tcp-icmp-frag-needed");
        Recorder recorder;
        recorder.attach(network);
        Pair pair = open_pair(network);
        REQUIRE(pair.client->mss() == 1460);
        // A router on the path with a smaller MTU drops what is bigger.
        uint32_t path_mtu = test.mtu ? (test.mtu < 576 ? 576 : test.mtu) : 1492;
        recorder.drop = [&](const Sent& sent) { return 20 + sent.segment.size() > path_mtu; };
        std::vector<uint8_t> data = pattern(30000, 3), got;
        size_t offset = pump_send(*pair.client, data, 0, network.now());
        const Sent too_big = recorder.sent.back();
        REQUIRE(20 + too_big.segment.size() == 1500);
        uint64_t retransmissions = pair.client->stats().retransmissions;
        Millis reported_at = network.now();
        network.a().icmp_error(report_about(too_big, kIcmpDestinationUnreachable,
                                   keel::net::kIcmpUnreachableFragmentationNeeded, test.mtu),
            network.now());
        CHECK(pair.client->mss() == test.expected_mss);
        CHECK(pair.client->stats().path_mtu_lowered == 1);
        // Resent at once in smaller segments, not after a timeout.
        CHECK(pair.client->stats().retransmissions > retransmissions);
        CHECK(20 + recorder.sent.back().segment.size() <= path_mtu);
        REQUIRE(network.run_until([&] {
            offset = pump_send(*pair.client, data, offset, network.now());
            pump_receive(*pair.server, got, network.now());
            return got.size() == data.size();
        }));
        CHECK(got == data);
        CHECK(pair.client->stats().timeouts == 0);
        CHECK(network.now() - reported_at < 1000);
        // A larger MTU later is ignored: the MSS only goes down.
        REQUIRE(pair.client->send(data.data(), 100, network.now()).is_ok());
        network.a().icmp_error(report_about(recorder.sent.back(), kIcmpDestinationUnreachable,
                                   keel::net::kIcmpUnreachableFragmentationNeeded, 1500),
            network.now());
        CHECK(pair.client->mss() == test.expected_mss);
        close_pair(network, pair);
    }
    CHECK(net_live_allocations() == baseline);
}
