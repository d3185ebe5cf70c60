// IPv4 headers, fragment reassembly and ICMP.
#include <string.h>

#include <vector>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/checksum.h"
#include "lib/net/icmp.h"
#include "lib/net/reassembly.h"

using namespace keel::net;
using keel::Error;

namespace {

std::vector<uint8_t> datagram(size_t payload, uint8_t protocol = kIpProtocolUdp)
{
    std::vector<uint8_t> bytes(kIpv4HeaderSize + payload);
    Ipv4Header header;
    header.total_length = uint16_t(bytes.size());
    header.identification = 42;
    header.protocol = protocol;
    header.source = ipv4(10, 0, 0, 1);
    header.destination = ipv4(10, 0, 0, 2);
    for (size_t i = 0; i < payload; i++)
        bytes[kIpv4HeaderSize + i] = uint8_t(i * 13);
    write_ipv4(bytes.data(), header);
    return bytes;
}

Ipv4Header fragment_header(size_t offset, size_t length, bool more, uint16_t id = 7)
{
    Ipv4Header header;
    header.total_length = uint16_t(kIpv4HeaderSize + length);
    header.identification = id;
    header.flags_offset = uint16_t(offset / 8) | (more ? kIpv4FlagMoreFragments : 0);
    header.protocol = kIpProtocolUdp;
    header.source = ipv4(10, 0, 0, 1);
    header.destination = ipv4(10, 0, 0, 2);
    return header;
}

std::vector<uint8_t> payload_bytes(size_t length)
{
    std::vector<uint8_t> bytes(length);
    for (size_t i = 0; i < length; i++)
        bytes[i] = uint8_t(i * 7 + i / 251);
    return bytes;
}

} // namespace

TEST_CASE("ipv4: a good header parses; each broken field is refused", "[ipv4]")
{
    auto bytes = datagram(30);
    bytes.resize(bytes.size() + 6); // link padding
    auto parsed = parse_ipv4(bytes.data(), bytes.size(), nullptr);
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value().total_length == 50);
    CHECK(parsed.value().payload_length() == 30);
    CHECK(!parsed.value().is_fragment());

    auto broken = [&](auto change) {
        auto copy = bytes;
        change(copy);
        return parse_ipv4(copy.data(), copy.size(), nullptr).error();
    };
    CHECK(parse_ipv4(bytes.data(), 19, nullptr).error() == Error::EBADMSG);
    CHECK(broken([](auto& b) { b[0] = 0x65; }) == Error::EBADMSG);               // version 6
    CHECK(broken([](auto& b) { b[0] = 0x44; }) == Error::EBADMSG);               // IHL 4
    CHECK(broken([](auto& b) { b[0] = 0x4f; }) == Error::EBADMSG);               // IHL beyond total length
    CHECK(broken([](auto& b) { store16(b.data() + 2, 19); }) == Error::EBADMSG); // total < header
    CHECK(broken([](auto& b) { store16(b.data() + 2, 57); }) == Error::EBADMSG); // total > buffer
    CHECK(broken([](auto& b) { b[8] ^= 1; }) == Error::EBADMSG);                 // checksum
    keel::Diagnostic diagnostic;
    auto multicast = bytes;
    store32(multicast.data() + 12, ipv4(224, 0, 0, 1));
    store16(multicast.data() + 10, 0);
    store16(multicast.data() + 10, internet_checksum(multicast.data(), 20));
    CHECK(parse_ipv4(multicast.data(), multicast.size(), &diagnostic).error() == Error::EBADMSG);
    CHECK(strstr(diagnostic.message, "multicast") != nullptr);
}

TEST_CASE("ipv4: TTL decrement by incremental checksum keeps the header valid", "[ipv4]")
{
    auto bytes = datagram(8);
    uint16_t old_word = load16(bytes.data() + 8);
    bytes[8]--;
    store16(bytes.data() + 10, checksum_update16(load16(bytes.data() + 10), old_word, load16(bytes.data() + 8)));
    CHECK(parse_ipv4(bytes.data(), bytes.size(), nullptr).is_ok());
}

TEST_CASE("reassembly: fragments in any order make the datagram", "[ipv4][fragments]")
{
    long baseline = net_live_allocations();
    {
        Reassembler reassembler;
        auto payload = payload_bytes(3000);
        // 0..1480, 1480..2960, 2960..3000, delivered last-first.
        PacketPtr whole = reassembler.input(fragment_header(2960, 40, false), payload.data() + 2960, 40, 0);
        CHECK(!whole);
        whole = reassembler.input(fragment_header(1480, 1480, true), payload.data() + 1480, 1480, 1);
        CHECK(!whole);
        CHECK(reassembler.datagrams_in_progress() == 1);
        whole = reassembler.input(fragment_header(0, 1480, true), payload.data(), 1480, 2);
        REQUIRE(whole);
        auto header = parse_ipv4(whole->data(), whole->length(), nullptr);
        REQUIRE(header.is_ok());
        CHECK(header.value().total_length == 3020);
        CHECK(!header.value().is_fragment());
        CHECK(memcmp(whole->data() + 20, payload.data(), 3000) == 0);
        CHECK(reassembler.datagrams_in_progress() == 0);
        CHECK(reassembler.bytes_held() == 0);
        CHECK(reassembler.stats().reassembled == 1);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("reassembly: overlaps, inconsistencies and oversize discard the datagram", "[ipv4][fragments]")
{
    long baseline = net_live_allocations();
    {
        Reassembler reassembler;
        auto payload = payload_bytes(65536);
        SECTION("overlap")
        {
            CHECK(!reassembler.input(fragment_header(0, 1000, true), payload.data(), 1000, 0));
            CHECK(!reassembler.input(fragment_header(992, 16, false), payload.data() + 992, 16, 0));
            CHECK(reassembler.stats().dropped_overlap == 1);
            CHECK(reassembler.datagrams_in_progress() == 0);
        }
        SECTION("an exact duplicate is ignored")
        {
            CHECK(!reassembler.input(fragment_header(0, 1000, true), payload.data(), 1000, 0));
            CHECK(!reassembler.input(fragment_header(0, 1000, true), payload.data(), 1000, 0));
            CHECK(reassembler.stats().duplicates == 1);
            CHECK(reassembler.input(fragment_header(1000, 8, false), payload.data() + 1000, 8, 0));
        }
        SECTION("two last fragments that disagree")
        {
            CHECK(!reassembler.input(fragment_header(1000, 8, false), payload.data(), 8, 0));
            CHECK(!reassembler.input(fragment_header(2000, 8, false), payload.data(), 8, 0));
            CHECK(reassembler.stats().dropped_inconsistent == 1);
        }
        SECTION("a fragment beyond the end")
        {
            CHECK(!reassembler.input(fragment_header(1000, 8, false), payload.data(), 8, 0));
            CHECK(!reassembler.input(fragment_header(1008, 8, true), payload.data(), 8, 0));
            CHECK(reassembler.stats().dropped_inconsistent == 1);
        }
        SECTION("a middle fragment not a multiple of 8")
        {
            CHECK(!reassembler.input(fragment_header(0, 1001, true), payload.data(), 1001, 0));
            CHECK(reassembler.stats().dropped_inconsistent == 1);
        }
        SECTION("more than 65535 bytes")
        {
            CHECK(!reassembler.input(fragment_header(65528, 8, false), payload.data(), 8, 0));
            CHECK(reassembler.stats().dropped_too_big == 1);
        }
        CHECK((reassembler.bytes_held() == 0 || reassembler.datagrams_in_progress() > 0));
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("reassembly: limits and timeouts", "[ipv4][fragments]")
{
    long baseline = net_live_allocations();
    {
        Reassembler::Limits limits;
        limits.datagrams = 4;
        limits.bytes = 10000;
        Reassembler reassembler(limits);
        auto payload = payload_bytes(4000);
        // Six datagrams for four places: the two that started first make
        // room for the last two.
        for (uint16_t id = 0; id < 6; id++)
            reassembler.input(fragment_header(0, 800, true, id), payload.data(), 800, id);
        CHECK(reassembler.datagrams_in_progress() == 4);
        CHECK(reassembler.stats().evicted == 2);
        CHECK(reassembler.stats().dropped_limit == 0);
        // Datagram 5 grows past the byte limit: the older ones go first.
        CHECK(!reassembler.input(fragment_header(800, 4000, true, 5), payload.data(), 4000, 6));
        CHECK(reassembler.stats().evicted == 2);
        CHECK(!reassembler.input(fragment_header(4800, 4000, true, 5), payload.data(), 4000, 6));
        CHECK(reassembler.bytes_held() == 800 + 4000 + 4000 + 800);
        CHECK(reassembler.stats().evicted == 4);
        CHECK(reassembler.datagrams_in_progress() == 2);
        // One datagram alone over the limit is dropped, not let through.
        CHECK(!reassembler.input(fragment_header(8800, 4000, true, 5), payload.data(), 4000, 6));
        CHECK(reassembler.stats().dropped_limit == 1);
        CHECK(reassembler.bytes_held() <= 10000);
        CHECK(reassembler.datagrams_in_progress() == 1);
        CHECK(reassembler.stats().evicted == 5);
        // A new datagram still finds room beside it.
        reassembler.input(fragment_header(0, 800, true, 1), payload.data(), 800, 7);
        CHECK(reassembler.datagrams_in_progress() == 2);
        reassembler.tick(29999);
        CHECK(reassembler.datagrams_in_progress() == 2);
        reassembler.tick(30007);
        CHECK(reassembler.datagrams_in_progress() == 0);
        CHECK(reassembler.stats().dropped_timeout == 2);
        CHECK(reassembler.bytes_held() == 0);
        // What remains in progress at destruction is freed too.
        reassembler.input(fragment_header(0, 800, true, 9), payload.data(), 800, 40000);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("reassembly: the quote handed on for time exceeded is the first fragment's start", "[ipv4][fragments]")
{
    struct Sink : Reassembler::TimeoutSink {
        std::vector<uint8_t> bytes;
        Ipv4Header header;
        void reassembly_timed_out(const Ipv4Header& quoted, const uint8_t* data, Millis) override
        {
            header = quoted;
            bytes.assign(data, data + kIpv4HeaderSize + 8);
        }
    } sink;
    Reassembler reassembler;
    reassembler.set_timeout_sink(&sink);
    auto payload = payload_bytes(1480);
    reassembler.input(fragment_header(0, 1480, true), payload.data(), 1480, 0);
    reassembler.tick(30000);
    REQUIRE(sink.bytes.size() == kIpv4HeaderSize + 8);
    // Its header is the fragment's, as the error will quote it: the 28
    // bytes are not a whole datagram, but they are a datagram's start.
    CHECK(sink.header.total_length == kIpv4HeaderSize + 1480);
    CHECK(parse_ipv4(sink.bytes.data(), sink.bytes.size(), nullptr).is_error());
    auto parsed = parse_ipv4_start(sink.bytes.data(), sink.bytes.size(), nullptr);
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value().total_length == kIpv4HeaderSize + 1480);
    CHECK(parsed.value().identification == 7);
    CHECK(parsed.value().more_fragments());
    CHECK(memcmp(sink.bytes.data() + kIpv4HeaderSize, payload.data(), 8) == 0);
}

TEST_CASE("icmp: echo and errors", "[icmp]")
{
    uint8_t echo[kIcmpHeaderSize + 4] = { 0, 0, 0, 0, 0, 0, 0, 0, 'p', 'i', 'n', 'g' };
    write_icmp(echo, kIcmpEchoRequest, 0, 0x12340001, 4);
    auto parsed = parse_icmp(echo, sizeof(echo), nullptr);
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value().type == kIcmpEchoRequest);
    CHECK(parsed.value().echo_identifier() == 0x1234);
    CHECK(parsed.value().echo_sequence() == 1);
    CHECK(parsed.value().body_length == 4);
    echo[9] ^= 1;
    CHECK(parse_icmp(echo, sizeof(echo), nullptr).error() == Error::EBADMSG);
    CHECK(parse_icmp(echo, 7, nullptr).error() == Error::EBADMSG);

    auto offending = datagram(100);
    auto header = parse_ipv4(offending.data(), offending.size(), nullptr).release_value();
    PacketPtr error = make_icmp_error(kIcmpDestinationUnreachable, kIcmpUnreachablePort, 0, offending.data(),
        offending.size(), header.header_length, 34);
    REQUIRE(error);
    CHECK(error->length() == 8 + 20 + 8);
    CHECK(error->headroom() == 34);
    auto message = parse_icmp(error->data(), error->length(), nullptr);
    REQUIRE(message.is_ok());
    CHECK(memcmp(message.value().body, offending.data(), 28) == 0);

    // A datagram with no payload is quoted whole: 20 bytes, still valid.
    auto bare = datagram(0, 253);
    PacketPtr short_quote = make_icmp_error(
        kIcmpDestinationUnreachable, kIcmpUnreachableProtocol, 0, bare.data(), bare.size(), kIpv4HeaderSize, 0);
    REQUIRE(short_quote);
    CHECK(short_quote->length() == 8 + 20);
    CHECK(parse_icmp(short_quote->data(), short_quote->length(), nullptr).is_ok());
    CHECK(parse_icmp(short_quote->data(), short_quote->length() - 1, nullptr).is_error());
}

TEST_CASE("icmp: when an error may not be sent (RFC 1122 3.2.2)", "[icmp]")
{
    auto udp = datagram(16);
    auto header = parse_ipv4(udp.data(), udp.size(), nullptr).release_value();
    CHECK(icmp_error_allowed(header, udp.data(), udp.size(), false));
    CHECK(!icmp_error_allowed(header, udp.data(), udp.size(), true)); // link broadcast
    Ipv4Header to_broadcast = header;
    to_broadcast.destination = kIpv4Broadcast;
    CHECK(!icmp_error_allowed(to_broadcast, udp.data(), udp.size(), false));
    Ipv4Header later_fragment = header;
    later_fragment.flags_offset = 10;
    CHECK(!icmp_error_allowed(later_fragment, udp.data(), udp.size(), false));

    auto icmp = datagram(36, kIpProtocolIcmp);
    auto icmp_header = parse_ipv4(icmp.data(), icmp.size(), nullptr).release_value();
    icmp[20] = kIcmpDestinationUnreachable;
    CHECK(!icmp_error_allowed(icmp_header, icmp.data(), icmp.size(), false));
    icmp[20] = kIcmpEchoRequest;
    CHECK(icmp_error_allowed(icmp_header, icmp.data(), icmp.size(), false));
}

TEST_CASE("icmp: the rate limit is a token bucket", "[icmp]")
{
    RateLimiter limiter(100, 10); // 100 per second, bursts of 10
    int allowed = 0;
    for (int i = 0; i < 50; i++)
        allowed += limiter.allow(1000);
    CHECK(allowed == 10);
    CHECK(limiter.refused() == 40);
    allowed = 0;
    for (Millis now = 1000; now < 2000; now++)
        allowed += limiter.allow(now);
    CHECK(allowed >= 99);
    CHECK(allowed <= 101);
}
