// virtio_net's measurement mode (modules/virtio_net/floor_frame.c): an
// IPv4 UDP datagram to the port is answered, with addresses and ports
// swapped and its checksums still right; a datagram to another port, a
// fragment, one with IP options, another protocol or EtherType, and one
// whose lengths run past the frame are not.
#include <catch2/catch.hpp>

#include <vector>

#include "floor_frame.h"

namespace {

using Frame = std::vector<uint8_t>;

void put16(Frame& frame, size_t at, uint32_t value)
{
    frame[at] = uint8_t(value >> 8);
    frame[at + 1] = uint8_t(value);
}

uint32_t get16(const Frame& frame, size_t at) { return uint32_t(frame[at]) << 8 | frame[at + 1]; }

uint32_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

uint32_t sum16(const Frame& frame, size_t from, size_t length, uint32_t sum = 0)
{
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += get16(frame, from + i);
    if (length & 1)
        sum += uint32_t(frame[from + length - 1]) << 8;
    return fold(sum);
}

uint32_t udp_sum(const Frame& frame)
{
    uint32_t length = get16(frame, 38);
    return sum16(frame, 34, length, sum16(frame, 26, 8, 17 + length));
}

// 10.0.3.2:40007 to 10.0.3.1:`port` from 52:54:00:00:03:02, both checksums right.
Frame datagram(uint32_t port, size_t payload = 5)
{
    Frame frame(42 + payload, 0);
    const uint8_t to[6] = { 0x52, 0x54, 0, 0, 3, 1 };
    const uint8_t from[6] = { 0x52, 0x54, 0, 0, 3, 2 };
    std::copy(to, to + 6, frame.begin());
    std::copy(from, from + 6, frame.begin() + 6);
    put16(frame, 12, 0x0800);
    frame[14] = 0x45;
    put16(frame, 16, uint32_t(28 + payload));
    put16(frame, 20, 0x4000); // don't fragment
    frame[22] = 64;
    frame[23] = 17;
    const uint8_t source[4] = { 10, 0, 3, 2 };
    const uint8_t destination[4] = { 10, 0, 3, 1 };
    std::copy(source, source + 4, frame.begin() + 26);
    std::copy(destination, destination + 4, frame.begin() + 30);
    put16(frame, 24, ~sum16(frame, 14, 20) & 0xffff);
    put16(frame, 34, 40007);
    put16(frame, 36, port);
    put16(frame, 38, uint32_t(8 + payload));
    for (size_t i = 0; i < payload; i++)
        frame[42 + i] = uint8_t('a' + i);
    put16(frame, 40, ~udp_sum(frame) & 0xffff);
    return frame;
}

bool answered(const Frame& frame, uint32_t port = 7001)
{
    return vnet_floor_datagram(frame.data(), uint32_t(frame.size()), port) != 0;
}

} // namespace

TEST_CASE("a datagram to the port is answered with addresses and ports swapped and its checksums right")
{
    Frame frame = datagram(7001);
    REQUIRE(sum16(frame, 14, 20) == 0xffff);
    REQUIRE(udp_sum(frame) == 0xffff);
    REQUIRE(answered(frame));
    Frame answer = frame;
    vnet_floor_swap(answer.data());
    CHECK(Frame(answer.begin(), answer.begin() + 6) == Frame(frame.begin() + 6, frame.begin() + 12));
    CHECK(Frame(answer.begin() + 6, answer.begin() + 12) == Frame(frame.begin(), frame.begin() + 6));
    CHECK(Frame(answer.begin() + 26, answer.begin() + 30) == Frame(frame.begin() + 30, frame.begin() + 34));
    CHECK(Frame(answer.begin() + 30, answer.begin() + 34) == Frame(frame.begin() + 26, frame.begin() + 30));
    CHECK(get16(answer, 34) == 7001);
    CHECK(get16(answer, 36) == 40007);
    CHECK(Frame(answer.begin() + 38, answer.end()) == Frame(frame.begin() + 38, frame.end()));
    CHECK(sum16(answer, 14, 20) == 0xffff);
    CHECK(udp_sum(answer) == 0xffff);
}

TEST_CASE("a frame padded past its datagram is answered; one shorter than its lengths is not")
{
    Frame padded = datagram(7001);
    padded.resize(60, 0); // Ethernet's minimum, as a card delivers it
    CHECK(answered(padded));
    Frame cut = datagram(7001);
    cut.pop_back();
    CHECK_FALSE(answered(cut));
    Frame long_udp = datagram(7001);
    put16(long_udp, 38, get16(long_udp, 38) + 1); // one past the IP packet
    CHECK_FALSE(answered(long_udp));
    Frame short_udp = datagram(7001);
    put16(short_udp, 38, 7);
    CHECK_FALSE(answered(short_udp));
    Frame short_ip = datagram(7001);
    put16(short_ip, 16, 27);
    CHECK_FALSE(answered(short_ip));
    for (size_t length = 0; length < 42; length++)
        CHECK_FALSE(vnet_floor_datagram(datagram(7001).data(), uint32_t(length), 7001));
}

TEST_CASE("what is not a whole IPv4 UDP datagram without options to the port is not answered")
{
    CHECK_FALSE(answered(datagram(7002)));
    CHECK_FALSE(answered(datagram(7001), 7002));
    Frame fragment = datagram(7001);
    fragment[20] |= 0x20; // more fragments
    CHECK_FALSE(answered(fragment));
    Frame later = datagram(7001);
    put16(later, 20, 1); // offset 8
    CHECK_FALSE(answered(later));
    Frame options = datagram(7001);
    options[14] = 0x46;
    CHECK_FALSE(answered(options));
    Frame tcp = datagram(7001);
    tcp[23] = 6;
    CHECK_FALSE(answered(tcp));
    Frame arp = datagram(7001);
    put16(arp, 12, 0x0806);
    CHECK_FALSE(answered(arp));
    Frame ipv6 = datagram(7001);
    ipv6[14] = 0x65;
    CHECK_FALSE(answered(ipv6));
}
