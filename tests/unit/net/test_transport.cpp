// UDP headers, the port table, and a UDP socket's receive queue.
#include <string.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/address.h"
#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"
#include "lib/net/udp.h"
#include "lib/net/udp_protocol.h"

using namespace keel::net;
using keel::Error;

TEST_CASE("udp: checksums and length", "[udp]")
{
    Ipv4Address source = ipv4(10, 0, 0, 1), destination = ipv4(10, 0, 0, 2);
    uint8_t bytes[8 + 5 + 3] = {};
    memcpy(bytes + 8, "hello", 5);
    write_udp(bytes, 1000, 53, 5, source, destination);
    auto parsed = parse_udp(bytes, sizeof(bytes), source, destination, nullptr);
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value().source_port == 1000);
    CHECK(parsed.value().destination_port == 53);
    CHECK(parsed.value().length == 13);
    // Another destination: the pseudo-header no longer matches.
    CHECK(parse_udp(bytes, sizeof(bytes), source, ipv4(10, 0, 0, 3), nullptr).error() == Error::EBADMSG);
    // No checksum at all is allowed in IPv4.
    store16(bytes + 6, 0);
    CHECK(parse_udp(bytes, sizeof(bytes), source, ipv4(10, 0, 0, 3), nullptr).is_ok());
    store16(bytes + 4, 17);
    CHECK(parse_udp(bytes, sizeof(bytes), source, destination, nullptr).error() == Error::EBADMSG);
    store16(bytes + 4, 7);
    CHECK(parse_udp(bytes, sizeof(bytes), source, destination, nullptr).error() == Error::EBADMSG);
    CHECK(parse_udp(bytes, 7, source, destination, nullptr).error() == Error::EBADMSG);
}

TEST_CASE("udp: a computed checksum of 0 is sent as 0xffff", "[udp]")
{
    // Search a payload word that makes the sum come out as zero.
    Ipv4Address source = ipv4(10, 0, 0, 1), destination = ipv4(10, 0, 0, 2);
    uint8_t bytes[10] = {};
    for (uint32_t word = 0; word <= 0xffff; word++) {
        store16(bytes + 8, uint16_t(word));
        write_udp(bytes, 1, 2, 2, source, destination);
        if (load16(bytes + 6) == 0xffff) {
            CHECK(parse_udp(bytes, sizeof(bytes), source, destination, nullptr).is_ok());
            return;
        }
    }
    FAIL("no payload gave a zero checksum");
}

TEST_CASE("ports: bind, conflicts, wildcard lookup, ephemeral ports", "[ports]")
{
    PortTable table;
    PortBinding any, exact, other;
    any.local_port = 53;
    REQUIRE(table.bind(any).is_ok());
    exact.local_address = ipv4(10, 0, 0, 1);
    exact.local_port = 53;
    CHECK(table.bind(exact).error() == Error::EADDRINUSE);
    table.unbind(any);
    REQUIRE(table.bind(exact).is_ok());
    other.local_address = ipv4(10, 0, 0, 2);
    other.local_port = 53;
    REQUIRE(table.bind(other).is_ok());
    CHECK(table.lookup(ipv4(10, 0, 0, 1), 53) == &exact);
    CHECK(table.lookup(ipv4(10, 0, 0, 2), 53) == &other);
    CHECK(table.lookup(ipv4(10, 0, 0, 3), 53) == nullptr);
    any.local_port = 53;
    CHECK(table.bind(any).error() == Error::EADDRINUSE);
    table.unbind(other);
    table.unbind(exact);

    PortBinding first, second;
    REQUIRE(table.bind(first).is_ok());
    REQUIRE(table.bind(second).is_ok());
    CHECK(first.local_port >= PortTable::kEphemeralFirst);
    CHECK(second.local_port != first.local_port);
    CHECK(table.size() == 2);
    table.unbind(first);
    table.unbind(second);
    CHECK(table.size() == 0);
}

TEST_CASE("addresses: dotted quads in and out", "[address]")
{
    CHECK(parse_ipv4_address("127.0.0.1").value() == ipv4(127, 0, 0, 1));
    CHECK(parse_ipv4_address("255.255.255.255").value() == kIpv4Broadcast);
    CHECK(parse_ipv4_address("0.0.0.0").value() == 0);
    for (const char* bad : { "", "1", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.0.0.1", "1..2.3", "01.2.3.4", "1.2.3.x",
             "1.2.3.4 ", "-1.2.3.4", "1.2.3.1000", ".1.2.3" })
        CHECK(parse_ipv4_address(bad).error() == Error::EINVAL);
    char text[16];
    format_ipv4_address(ipv4(10, 0, 2, 15), text);
    CHECK(std::string(text) == "10.0.2.15");
    format_ipv4_address(kIpv4Broadcast, text);
    CHECK(std::string(text) == "255.255.255.255");
    format_ipv4_address(0, text);
    CHECK(std::string(text) == "0.0.0.0");
    format_ipv4_address(ipv4(100, 9, 10, 199), text);
    CHECK(std::string(text) == "100.9.10.199");
    // Every octet value in every position reads back as itself.
    for (uint32_t octet = 0; octet < 256; octet++) {
        for (int shift = 0; shift < 32; shift += 8) {
            Ipv4Address address = (ipv4(1, 2, 3, 4) & ~(0xffu << shift)) | (octet << shift);
            format_ipv4_address(address, text);
            INFO(text);
            CHECK(parse_ipv4_address(text).value() == address);
        }
    }
}

namespace {

class NoOutput : public Ipv4Output {
public:
    keel::Result<void> output(PacketPtr, uint8_t, Ipv4Address, Ipv4Address, Millis) override { return {}; }
};

class CountReadable : public UdpReadable {
public:
    void readable(UdpSocket& socket) override
    {
        calls++;
        last = &socket;
    }
    int calls = 0;
    UdpSocket* last = nullptr;
};

// A UDP datagram with `payload` bytes from 10.0.2.2:5000 to 10.0.2.15:7,
// as inet hands it up.
struct TestDatagram {
    explicit TestDatagram(size_t payload)
        : bytes(kIpv4HeaderSize + kUdpHeaderSize + payload)
    {
        Ipv4Header ip;
        ip.total_length = uint16_t(bytes.size());
        ip.protocol = kIpProtocolUdp;
        ip.source = ipv4(10, 0, 2, 2);
        ip.destination = ipv4(10, 0, 2, 15);
        for (size_t i = 0; i < payload; i++)
            bytes[kIpv4HeaderSize + kUdpHeaderSize + i] = uint8_t(i);
        write_udp(bytes.data() + kIpv4HeaderSize, 5000, 7, payload, ip.source, ip.destination);
        write_ipv4(bytes.data(), ip);
        header = parse_ipv4(bytes.data(), bytes.size(), nullptr).value();
    }
    Datagram datagram() const { return { &header, bytes.data(), false }; }
    std::vector<uint8_t> bytes;
    Ipv4Header header;
};

} // namespace

TEST_CASE("udp: the receive queue is bounded by bytes, drops and counts, and recovers", "[udp]")
{
    long baseline = net_live_allocations();
    {
        NoOutput output;
        UdpProtocol udp(output);
        CountReadable readable;
        udp.set_readable(&readable);
        UdpSocket socket;
        REQUIRE(udp.bind(socket, 7).is_ok());
        TestDatagram big(1400);
        size_t fits = UdpSocket::kReceiveBuffer / (1400 + UdpSocket::kDatagramOverhead);
        CHECK(fits > 150); // as many as Linux's default receive buffer holds
        for (size_t i = 0; i < fits + 10; i++)
            udp.input(big.datagram(), 0);
        CHECK(socket.queued() == fits);
        CHECK(socket.queued_bytes() == fits * (1400 + UdpSocket::kDatagramOverhead));
        CHECK(socket.dropped() == 10);
        CHECK(udp.stats().dropped_queue_full == 10);
        CHECK(udp.stats().delivered == fits);
        // One wake for the whole burst: the queue stopped being empty once.
        CHECK(readable.calls == 1);
        CHECK(readable.last == &socket);

        // Reading one makes room for exactly one more.
        Ipv4Address from = 0;
        uint16_t from_port = 0;
        PacketPtr first = udp.receive(socket, &from, &from_port);
        REQUIRE(first);
        CHECK(first->length() == 1400);
        CHECK(from == ipv4(10, 0, 2, 2));
        CHECK(from_port == 5000);
        CHECK(first->data()[1399] == uint8_t(1399));
        udp.input(big.datagram(), 0);
        udp.input(big.datagram(), 0);
        CHECK(socket.queued() == fits);
        CHECK(socket.dropped() == 11);
        CHECK(readable.calls == 1);

        // Drained, it takes datagrams again and wakes its reader again;
        // small ones cost less of the buffer, so more of them fit.
        while (udp.receive(socket, nullptr, nullptr)) { }
        CHECK(socket.queued_bytes() == 0);
        TestDatagram small(10);
        for (size_t i = 0; i < UdpSocket::kQueueLimit + 5; i++)
            udp.input(small.datagram(), 0);
        CHECK(readable.calls == 2);
        CHECK(socket.queued() == UdpSocket::kReceiveBuffer / (10 + UdpSocket::kDatagramOverhead));
        CHECK(socket.queued() > fits);
        // Unbinding frees what waited.
        udp.unbind(socket);
        CHECK(socket.queued() == 0);
        CHECK(socket.queued_bytes() == 0);
    }
    CHECK(net_live_allocations() == baseline);
}
