// Ethernet framing, ARP packets and the neighbour cache.
#include <string.h>

#include <vector>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/arp.h"
#include "lib/net/neighbour.h"

using namespace keel::net;
using keel::Error;

namespace {

const MacAddress kMacA { { 0x52, 0x54, 0, 0, 0, 1 } };
const MacAddress kMacB { { 0x52, 0x54, 0, 0, 0, 2 } };

struct RecordingSink : NeighbourCache::Sink {
    std::vector<Ipv4Address> requests;
    std::vector<std::pair<uint8_t, MacAddress>> sent; // first byte of each packet
    size_t unresolved_count = 0;
    void send_request(Ipv4Address target) override { requests.push_back(target); }
    void send(PacketPtr packet, const MacAddress& destination) override
    {
        sent.push_back({ packet->data()[0], destination });
    }
    void unresolved(PacketPtr) override { unresolved_count++; }
};

PacketPtr tagged(uint8_t tag) { return PacketPtr(Packet::copy_of(&tag, 1, 0)); }

} // namespace

TEST_CASE("ethernet: header checks", "[ethernet]")
{
    uint8_t frame[60] = {};
    EthernetHeader header { MacAddress::broadcast(), kMacA, kEtherTypeArp };
    write_ethernet(frame, header);
    auto parsed = parse_ethernet(frame, sizeof(frame), nullptr);
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value().destination.is_broadcast());
    CHECK(parsed.value().source == kMacA);
    CHECK(parsed.value().ether_type == kEtherTypeArp);

    keel::Diagnostic diagnostic;
    CHECK(parse_ethernet(frame, 13, &diagnostic).error() == Error::EBADMSG);
    CHECK(strstr(diagnostic.message, "shorter") != nullptr);
    store16(frame + 12, 100); // an 802.3 length
    CHECK(parse_ethernet(frame, sizeof(frame), nullptr).error() == Error::ENOTSUP);
    write_ethernet(frame, { kMacA, MacAddress::broadcast(), kEtherTypeIpv4 });
    CHECK(parse_ethernet(frame, sizeof(frame), nullptr).error() == Error::EBADMSG); // broadcast source
}

TEST_CASE("arp: packets", "[arp]")
{
    ArpPacket request { kArpRequest, kMacA, ipv4(10, 0, 2, 15), {}, ipv4(10, 0, 2, 2) };
    uint8_t bytes[kArpPacketSize + 18] = {};
    write_arp(bytes, request);
    auto parsed = parse_arp(bytes, sizeof(bytes), nullptr);
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value().operation == kArpRequest);
    CHECK(parsed.value().sender_mac == kMacA);
    CHECK(parsed.value().sender_ip == ipv4(10, 0, 2, 15));
    CHECK(parsed.value().target_ip == ipv4(10, 0, 2, 2));

    CHECK(parse_arp(bytes, 27, nullptr).error() == Error::EBADMSG);
    uint8_t bad[kArpPacketSize];
    memcpy(bad, bytes, sizeof(bad));
    bad[5] = 16; // IPv6-sized protocol addresses
    CHECK(parse_arp(bad, sizeof(bad), nullptr).error() == Error::ENOTSUP);
    memcpy(bad, bytes, sizeof(bad));
    store16(bad + 6, 3); // RARP
    CHECK(parse_arp(bad, sizeof(bad), nullptr).error() == Error::ENOTSUP);
    memcpy(bad, bytes, sizeof(bad));
    bad[8] = 0xff; // multicast sender
    CHECK(parse_arp(bad, sizeof(bad), nullptr).error() == Error::EBADMSG);
}

TEST_CASE("neighbour cache: resolution with a pending queue", "[arp]")
{
    long baseline = net_live_allocations();
    {
        RecordingSink sink;
        NeighbourCache::Limits limits;
        limits.pending_per_entry = 3;
        NeighbourCache cache(sink, limits);
        Ipv4Address gateway = ipv4(10, 0, 2, 2);
        for (uint8_t i = 0; i < 5; i++)
            cache.output(gateway, tagged(i), 1000);
        CHECK(sink.requests.size() == 1);
        CHECK(cache.stats().queued == 3);
        CHECK(cache.pending_bytes() == 3);
        CHECK(cache.stats().dropped_queue_full == 2);
        CHECK(sink.sent.empty());
        cache.learn(gateway, kMacB, false, 1100);
        REQUIRE(sink.sent.size() == 3);
        CHECK(cache.pending_bytes() == 0);
        CHECK(sink.sent[0].first == 0);
        CHECK(sink.sent[2].first == 2);
        CHECK(sink.sent[2].second == kMacB);
        cache.output(gateway, tagged(9), 1200);
        CHECK(sink.sent.size() == 4); // at once now
        // Answers expire.
        cache.tick(1100 + 60000);
        CHECK(cache.lookup(gateway) == nullptr);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("neighbour cache: silent neighbours are given up", "[arp]")
{
    long baseline = net_live_allocations();
    {
        RecordingSink sink;
        NeighbourCache cache(sink);
        Ipv4Address silent = ipv4(10, 0, 2, 99);
        cache.output(silent, tagged(1), 0);
        for (Millis now = 0; now <= 5000; now += 100)
            cache.tick(now);
        CHECK(sink.requests.size() == 3); // at 0, 1 s and 2 s
        CHECK(sink.unresolved_count == 1);
        CHECK(cache.stats().dropped_unresolved == 1);
        CHECK(cache.pending_bytes() == 0);
        CHECK(cache.lookup(silent) == nullptr);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("neighbour cache: unsolicited ARP only updates, never creates", "[arp]")
{
    RecordingSink sink;
    NeighbourCache cache(sink);
    cache.learn(ipv4(10, 0, 2, 7), kMacA, false, 0);
    CHECK(cache.size() == 0);
    cache.learn(ipv4(10, 0, 2, 7), kMacA, true, 0);
    CHECK(cache.size() == 1);
    cache.learn(ipv4(10, 0, 2, 7), kMacB, false, 10);
    CHECK(cache.lookup(ipv4(10, 0, 2, 7))->mac == kMacB);
}

TEST_CASE("neighbour cache: a full table evicts the oldest answer, then the oldest pending resolution", "[arp]")
{
    long baseline = net_live_allocations();
    {
        RecordingSink sink;
        NeighbourCache cache(sink);
        for (uint32_t i = 0; i < NeighbourCache::kEntries; i++)
            cache.learn(ipv4(10, 1, 0, 0) + i, kMacA, true, 100 + i);
        CHECK(cache.size() == NeighbourCache::kEntries);
        cache.output(ipv4(10, 2, 0, 1), tagged(1), 500);
        CHECK(cache.stats().evicted == 1);
        CHECK(cache.lookup(ipv4(10, 1, 0, 0)) == nullptr); // the oldest
        // Fill the table with pending resolutions (replies to spoofed
        // sources, say): every answer goes first, then the resolution
        // touched longest ago, its packet dropped as unresolved.
        for (uint32_t i = 0; i < NeighbourCache::kEntries; i++)
            cache.output(ipv4(10, 3, 0, 0) + i, tagged(2), 600);
        CHECK(cache.stats().dropped_table_full == 0);
        CHECK(cache.stats().evicted == 1 + NeighbourCache::kEntries);
        CHECK(cache.lookup(ipv4(10, 2, 0, 1)) == nullptr);
        CHECK(sink.unresolved_count == 1);
        CHECK(cache.pending_bytes() == NeighbourCache::kEntries);
        // The gateway still gets its place, and its answer.
        Ipv4Address gateway = ipv4(10, 0, 2, 2);
        cache.output(gateway, tagged(3), 700);
        REQUIRE(cache.lookup(gateway) != nullptr);
        cache.learn(gateway, kMacB, false, 710);
        CHECK(sink.sent.size() == 1);
        CHECK(sink.sent[0].second == kMacB);
        cache.flush();
        CHECK(cache.size() == 0);
        CHECK(cache.pending_bytes() == 0);
    }
    CHECK(net_live_allocations() == baseline);
}
