// Frame-level tests of one IPv4 host on an Ethernet segment: two
// interfaces (and a recording stranger) exchange frames through a
// simulated wire; every frame goes to a pcap that tshark judges.
#include <string.h>

#include <deque>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dhcp_server.h"
#include "host_platform.h"
#include "lib/net/arp.h"
#include "lib/net/checksum.h"
#include "lib/net/host.h"
#include "lib/net/icmp.h"
#include "lib/net/udp.h"
#include "pcap.h"

using namespace keel::net;
using keel::Error;

namespace {

const MacAddress kMacA { { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };
const MacAddress kMacB { { 0x52, 0x55, 0x0a, 0, 2, 2 } };
const Ipv4Address kA = ipv4(10, 0, 2, 15);
const Ipv4Address kB = ipv4(10, 0, 2, 2);
// An address of another interface of the hosts' (config.is_host_address).
const Ipv4Address kOtherInterface = ipv4(10, 0, 3, 1);
bool is_host_address(Ipv4Address address) { return address == kOtherInterface; }

struct Frame {
    int from; // 0 A, 1 B, 2 injected
    std::vector<uint8_t> bytes;
};

class Segment {
public:
    class Port : public Ipv4Interface::Link {
    public:
        Port(Segment& segment, int index)
            : m_segment(segment)
            , m_index(index)
        {
        }
        void transmit(PacketPtr frame) override
        {
            m_segment.put(m_index, std::vector<uint8_t>(frame->data(), frame->data() + frame->length()));
        }

    private:
        Segment& m_segment;
        int m_index;
    };

    explicit Segment(const std::string& name, bool icmp_on_b = true)
        : pcap(name, kLinktypeEthernet)
        , port_a(*this, 0)
        , port_b(*this, 1)
        , a(port_a, config(kMacA, kA), tcp_config(1))
        , b(port_b, config(kMacB, kB), tcp_config(2), icmp_on_b)
    {
    }

    static InterfaceConfig config(MacAddress mac, Ipv4Address address)
    {
        InterfaceConfig config;
        config.mac = mac;
        config.address = address;
        config.gateway = kB;
        config.is_host_address = is_host_address;
        return config;
    }
    static tcp::Stack::Config tcp_config(uint8_t secret)
    {
        tcp::Stack::Config config;
        config.secret[0] = secret;
        return config;
    }

    void put(int from, std::vector<uint8_t> bytes)
    {
        pcap.write(now, bytes.data(), bytes.size());
        frames.push_back({ from, std::move(bytes) });
    }
    // Delivers every frame (and what it provokes) to whoever it is for:
    // like a hub, both interfaces see every frame and filter themselves.
    void run()
    {
        while (!frames.empty()) {
            Frame frame = std::move(frames.front());
            frames.pop_front();
            seen.push_back(frame);
            if (frame.from != 0)
                a.receive(frame.bytes.data(), frame.bytes.size(), now);
            if (frame.from != 1)
                b.receive(frame.bytes.data(), frame.bytes.size(), now);
        }
    }
    void advance(Millis duration)
    {
        for (Millis end = now + duration; now < end; now += 10) {
            a.tick(now);
            b.tick(now);
            run();
        }
    }
    std::vector<std::string> judge()
    {
        pcap.close();
        return tshark_problems(pcap.path());
    }

    PcapWriter pcap;
    Port port_a, port_b;
    Ipv4Host a, b;
    std::deque<Frame> frames;
    std::vector<Frame> seen;
    Millis now = 1000;
};

// A frame from a third host at 10.0.2.99 to B, with correct checksums.
std::vector<uint8_t> udp_frame(uint16_t port, size_t payload, Ipv4Address destination = kB, MacAddress to = kMacB,
    Ipv4Address source = ipv4(10, 0, 2, 99))
{
    std::vector<uint8_t> frame(14 + 20 + 8 + payload);
    write_ethernet(frame.data(), { to, { { 0x52, 0x54, 0, 0, 0, 0x99 } }, kEtherTypeIpv4 });
    for (size_t i = 0; i < payload; i++)
        frame[42 + i] = uint8_t(i);
    write_udp(frame.data() + 34, 5555, port, payload, source, destination);
    Ipv4Header ip;
    ip.total_length = uint16_t(28 + payload);
    ip.protocol = kIpProtocolUdp;
    ip.source = source;
    ip.destination = destination;
    write_ipv4(frame.data() + 14, ip);
    return frame;
}

void require_clean(Segment& segment)
{
    auto problems = segment.judge();
    INFO("capture " << segment.pcap.path());
    for (const auto& line : problems)
        UNSCOPED_INFO(line);
    REQUIRE(problems.empty());
}

size_t count_from(Segment& segment, int from, uint16_t ether_type)
{
    size_t count = 0;
    for (const Frame& frame : segment.seen)
        count += frame.from == from && load16(frame.bytes.data() + 12) == ether_type;
    return count;
}

} // namespace

TEST_CASE("interface: ping resolves the neighbour by ARP and gets its reply", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-ping");
        for (uint16_t sequence = 1; sequence <= 3; sequence++) {
            REQUIRE(segment.a.ping(kB, 0x77, sequence, 56, segment.now).is_ok());
            segment.run();
        }
        CHECK(segment.a.icmp_stats().echo_replies_received == 3);
        CHECK(segment.a.last_echo_reply().from == kB);
        CHECK(segment.a.last_echo_reply().sequence == 3);
        CHECK(segment.a.last_echo_reply().length == 56);
        CHECK(segment.b.stats().arp_replies_sent == 1);
        CHECK(count_from(segment, 0, kEtherTypeArp) == 1);   // one request, then the cache
        CHECK(segment.b.neighbours().lookup(kA) != nullptr); // B learnt A from the request
        require_clean(segment);
        auto conversation = tshark_fields(segment.pcap.path(), { "_ws.col.Protocol", "_ws.col.Info" });
        REQUIRE(conversation.size() == 8);
        CHECK(conversation[0].find("Who has 10.0.2.2? Tell 10.0.2.15") != std::string::npos);
        CHECK(conversation[1].find("10.0.2.2 is at 52:55:0a:00:02:02") != std::string::npos);
        CHECK(conversation[2].find("Echo (ping) request") != std::string::npos);
        CHECK(conversation[3].find("Echo (ping) reply") != std::string::npos);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: the default route is set and cleared; the neighbour cache lists its entries", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-gateway");
        const Ipv4Address outside = ipv4(192, 0, 2, 1);
        segment.a.interface().set_gateway(0);
        CHECK(segment.a.ping(outside, 0x78, 1, 8, segment.now).error() == Error::ENETUNREACH);
        CHECK(segment.a.stats().dropped_no_route == 1);
        segment.a.interface().set_gateway(kB);
        CHECK(segment.a.config().gateway == kB);
        REQUIRE(segment.a.ping(outside, 0x78, 2, 8, segment.now).is_ok());
        segment.run();
        // The request went to the gateway's MAC with the outside address in it.
        bool to_gateway = false;
        for (const Frame& frame : segment.seen) {
            if (frame.from == 0 && frame.bytes.size() >= 34 && memcmp(frame.bytes.data(), kMacB.bytes, 6) == 0
                && frame.bytes[12] == 0x08 && frame.bytes[13] == 0x00)
                to_gateway = load32(frame.bytes.data() + 30) == outside;
        }
        CHECK(to_gateway);
        size_t listed = 0;
        for (size_t i = 0; i < NeighbourCache::kEntries; i++) {
            const auto& entry = segment.a.neighbours().entry(i);
            if (entry.state == NeighbourCache::State::Free)
                continue;
            listed++;
            CHECK(entry.address == kB);
            CHECK(entry.state == NeighbourCache::State::Reachable);
            CHECK(entry.mac == kMacB);
        }
        CHECK(listed == 1);
        require_clean(segment);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: ARP for another host is ignored, and so is a broadcast ping", "[interface]")
{
    Segment segment("if-ignored");
    uint8_t frame[42];
    write_ethernet(frame, { MacAddress::broadcast(), { { 0x52, 0x54, 0, 0, 0, 0x99 } }, kEtherTypeArp });
    write_arp(
        frame + 14, { kArpRequest, { { 0x52, 0x54, 0, 0, 0, 0x99 } }, ipv4(10, 0, 2, 99), {}, ipv4(10, 0, 2, 3) });
    segment.put(2, std::vector<uint8_t>(frame, frame + sizeof(frame)));
    segment.run();
    CHECK(segment.b.stats().arp_replies_sent == 0);
    CHECK(segment.b.neighbours().size() == 0); // not for us: nothing learnt

    // A ping to the subnet's broadcast address gets no answer.
    REQUIRE(segment.a.ping(ipv4(10, 0, 2, 255), 1, 1, 8, segment.now).is_ok());
    segment.run();
    CHECK(segment.b.icmp_stats().echo_requests == 0);
    CHECK(segment.a.icmp_stats().echo_replies_received == 0);
    require_clean(segment);
}

TEST_CASE("interface: UDP echo, and a closed port answered only with icmp", "[interface]")
{
    for (bool icmp : { true, false }) {
        Segment segment(icmp ? "if-udp" : "if-udp-no-icmp", icmp);
        UdpSocket server, client;
        REQUIRE(segment.b.udp_bind(server, 7).is_ok());
        REQUIRE(segment.a.udp_bind(client, 0).is_ok());
        const char* message = "hello, keel";
        REQUIRE(
            segment.a.udp_send(client, kB, 7, reinterpret_cast<const uint8_t*>(message), strlen(message), segment.now)
                .is_ok());
        segment.run();
        Ipv4Address from = 0;
        uint16_t from_port = 0;
        PacketPtr got = segment.b.udp_receive(server, &from, &from_port);
        REQUIRE(got);
        CHECK(std::string(reinterpret_cast<char*>(got->data()), got->length()) == message);
        CHECK(from == kA);
        CHECK(from_port == client.port());
        REQUIRE(segment.b.udp_send(server, from, from_port, got->data(), got->length(), segment.now).is_ok());
        segment.run();
        CHECK(segment.a.udp_receive(client, nullptr, nullptr));

        // To a closed port.
        REQUIRE(segment.a.udp_send(client, kB, 9999, nullptr, 0, segment.now).is_ok());
        segment.run();
        CHECK(segment.b.udp_stats().dropped_no_port == 1);
        CHECK(segment.b.icmp_stats().errors_sent == (icmp ? 1u : 0u));
        CHECK(segment.a.icmp_stats().errors_received == (icmp ? 1u : 0u));
        segment.b.udp_unbind(server);
        segment.a.udp_unbind(client);
        require_clean(segment);
        if (icmp) {
            auto unreachable = tshark_fields(segment.pcap.path(), { "icmp.type", "icmp.code", "udp.dstport" }, "icmp");
            REQUIRE(unreachable.size() == 1);
            CHECK(unreachable[0] == "3 3 9999");
        }
    }
}

TEST_CASE("interface: bad input is counted and dropped", "[interface]")
{
    Segment segment("if-bad-input");
    UdpSocket server;
    REQUIRE(segment.b.udp_bind(server, 7).is_ok());
    auto good = udp_frame(7, 10);
    segment.put(2, good);
    auto bad_udp = good;
    bad_udp[45] ^= 0x40; // payload: UDP checksum fails
    segment.put(2, bad_udp);
    auto bad_ip = good;
    bad_ip[22] = 0; // TTL changed without the checksum
    segment.put(2, bad_ip);
    auto short_frame = std::vector<uint8_t>(good.begin(), good.begin() + 30);
    segment.put(2, short_frame);
    auto not_ours = udp_frame(7, 10, ipv4(10, 0, 2, 77));
    segment.put(2, not_ours);
    auto ttl_zero = good;
    ttl_zero[22] = 0;
    store16(ttl_zero.data() + 24, 0);
    store16(ttl_zero.data() + 24, internet_checksum(ttl_zero.data() + 14, 20));
    segment.put(2, ttl_zero); // a host accepts TTL 0 (RFC 1122 3.2.1.7)
    segment.run();
    CHECK(server.queued() == 2);
    CHECK(segment.b.udp_stats().dropped_malformed == 1);
    CHECK(segment.b.stats().dropped_ip_header == 2);
    CHECK(segment.b.stats().dropped_not_ours == 1);
    CHECK(segment.b.icmp_stats().errors_sent == 0);
    segment.b.udp_unbind(server);
    // The broken frames were sent on purpose: tshark must see them as broken.
    segment.pcap.close();
    auto problems = tshark_problems(segment.pcap.path());
    CHECK(problems.size() == 3);
}

TEST_CASE("interface: datagrams from martian sources are dropped, DHCP's 0.0.0.0 to broadcast is not", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-martians");
        UdpSocket server;
        REQUIRE(segment.b.udp_bind(server, 7).is_ok());
        // Sources no other host may use: B's own address (a reply would
        // come back to B), the address of another of its interfaces, 127/8,
        // 0/8 to a unicast address, the subnet's broadcast address.
        for (Ipv4Address source :
            { kB, kOtherInterface, ipv4(127, 0, 0, 1), ipv4(0, 0, 0, 0), ipv4(0, 1, 2, 3), ipv4(10, 0, 2, 255) })
            segment.put(2, udp_frame(7, 10, kB, kMacB, source));
        segment.run();
        CHECK(segment.b.stats().dropped_martian == 6);
        CHECK(server.queued() == 0);
        // A host without an address asking DHCP, and an ordinary source.
        segment.put(2, udp_frame(7, 10, kIpv4Broadcast, MacAddress::broadcast(), 0));
        segment.put(2, udp_frame(7, 10));
        segment.run();
        CHECK(segment.b.stats().dropped_martian == 6);
        CHECK(server.queued() == 2);
        CHECK(segment.b.icmp_stats().errors_sent == 0);
        segment.b.udp_unbind(server);
        require_clean(segment);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: big datagrams are fragmented and reassembled", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-fragments");
        UdpSocket server, client;
        REQUIRE(segment.b.udp_bind(server, 7).is_ok());
        REQUIRE(segment.a.udp_bind(client, 0).is_ok());
        std::vector<uint8_t> big(5000);
        for (size_t i = 0; i < big.size(); i++)
            big[i] = uint8_t(i * 31);
        REQUIRE(segment.a.udp_send(client, kB, 7, big.data(), big.size(), segment.now).is_ok());
        segment.run();
        CHECK(segment.a.stats().fragments_sent == 4);
        PacketPtr got = segment.b.udp_receive(server, nullptr, nullptr);
        REQUIRE(got);
        CHECK(std::vector<uint8_t>(got->data(), got->data() + got->length()) == big);
        REQUIRE(segment.a.ping(kB, 1, 1, 3000, segment.now).is_ok());
        segment.run();
        CHECK(segment.a.icmp_stats().echo_replies_received == 1);
        CHECK(segment.a.last_echo_reply().length == 3000);
        segment.b.udp_unbind(server);
        segment.a.udp_unbind(client);
        require_clean(segment);
        auto reassembled = tshark_fields(segment.pcap.path(), { "udp.length" }, "udp");
        REQUIRE(reassembled.size() == 1);
        CHECK(reassembled[0] == "5008");
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: TCP over the segment", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-tcp");
        tcp::Listener* listener = segment.b.tcp().listen(0, 8080, 4).release_value();
        tcp::Connection* client = segment.a.tcp().connect(kA, 0, kB, 8080, segment.now).release_value();
        tcp::Connection* server = nullptr;
        std::vector<uint8_t> data(20000), got;
        for (size_t i = 0; i < data.size(); i++)
            data[i] = uint8_t(i ^ (i >> 8));
        size_t sent = 0;
        for (int round = 0; round < 1000 && got.size() < data.size(); round++) {
            segment.advance(10);
            if (!server)
                server = listener->accept();
            if (client->state() == tcp::State::Established && sent < data.size())
                sent += client->send(data.data() + sent, data.size() - sent, segment.now).value_or(0);
            uint8_t buffer[4096];
            while (server) {
                auto received = server->receive(buffer, sizeof(buffer), segment.now);
                if (received.is_error() || received.value() == 0)
                    break;
                got.insert(got.end(), buffer, buffer + received.value());
            }
        }
        CHECK(got == data);
        client->abort(segment.now);
        segment.run();
        REQUIRE(server);
        CHECK(server->error() == Error::ECONNRESET);
        client->release(segment.now);
        server->release(segment.now);
        listener->close(segment.now);
        require_clean(segment);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: a loopback host answers itself without the link", "[interface]")
{
    long baseline = net_live_allocations();
    {
        struct NoLink : Ipv4Interface::Link {
            size_t frames = 0;
            void transmit(PacketPtr) override { frames++; }
        } link;
        InterfaceConfig config;
        config.address = ipv4(127, 0, 0, 1);
        config.prefix_length = 8;
        config.mtu = 65535;
        Ipv4Host loopback(link, config, tcp::Stack::Config());
        auto settle = [&] {
            while (loopback.interface().has_local_work())
                loopback.poll(0);
        };
        REQUIRE(loopback.ping(ipv4(127, 0, 0, 1), 1, 1, 56, 0).is_ok());
        CHECK(loopback.icmp_stats().echo_replies_received == 0); // not before the poll
        settle();
        CHECK(loopback.icmp_stats().echo_replies_received == 1);
        REQUIRE(loopback.ping(ipv4(127, 3, 2, 1), 1, 2, 9000, 0).is_ok());
        settle();
        CHECK(loopback.last_echo_reply().from == ipv4(127, 3, 2, 1));
        CHECK(loopback.last_echo_reply().length == 9000);
        CHECK(loopback.last_echo_reply().ttl == 64);

        UdpSocket server, client;
        REQUIRE(loopback.udp_bind(server, 7).is_ok());
        REQUIRE(loopback.udp_bind(client, 0).is_ok());
        REQUIRE(
            loopback.udp_send(client, ipv4(127, 0, 0, 1), 7, reinterpret_cast<const uint8_t*>("ping"), 4, 0).is_ok());
        settle();
        PacketPtr got = loopback.udp_receive(server, nullptr, nullptr);
        REQUIRE(got);
        CHECK(got->length() == 4);
        loopback.udp_unbind(server);
        loopback.udp_unbind(client);

        // TCP through the loopback, handshake to close.
        tcp::Listener* listener = loopback.tcp().listen(0, 80, 1).release_value();
        tcp::Connection* connection
            = loopback.tcp().connect(ipv4(127, 0, 0, 1), 0, ipv4(127, 0, 0, 1), 80, 0).release_value();
        settle();
        tcp::Connection* accepted = listener->accept();
        REQUIRE(accepted);
        CHECK(connection->state() == tcp::State::Established);
        REQUIRE(connection->send(reinterpret_cast<const uint8_t*>("GET /"), 5, 0).value() == 5);
        settle();
        uint8_t buffer[16];
        CHECK(accepted->receive(buffer, sizeof(buffer), 0).value() == 5);
        connection->close(0);
        accepted->close(0);
        settle();
        CHECK(connection->state() == tcp::State::TimeWait);
        connection->release(0);
        accepted->release(0);
        listener->close(0);
        loopback.tick(120000);
        CHECK(loopback.tcp().connections() == 0);
        CHECK(link.frames == 0);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: on a loopback device, datagrams to itself go out as frames and come back", "[interface]")
{
    long baseline = net_live_allocations();
    {
        // What lo does: every frame sent is received, later.
        struct Mirror : Ipv4Interface::Link {
            PacketQueue frames { 64 };
            size_t sent = 0;
            void transmit(PacketPtr frame) override
            {
                sent++;
                CHECK(frame->length() >= kEthernetHeaderSize);
                CHECK(MacAddress {} == parse_ethernet(frame->data(), frame->length(), nullptr).value().destination);
                CHECK(!frames.push(move(frame)));
            }
        } link;
        InterfaceConfig config;
        config.address = ipv4(127, 0, 0, 1);
        config.prefix_length = 8;
        config.mtu = 65535;
        config.loopback_device = true;
        Ipv4Host loopback(link, config, tcp::Stack::Config());
        auto reflect = [&] {
            while (PacketPtr frame = link.frames.pop())
                loopback.receive(frame->data(), frame->length(), 0);
        };
        REQUIRE(loopback.ping(ipv4(127, 0, 0, 1), 7, 1, 56, 0).is_ok());
        CHECK(link.sent == 1);
        CHECK(!loopback.interface().has_local_work());
        CHECK(loopback.icmp_stats().echo_replies_received == 0);
        reflect();
        CHECK(link.sent == 2); // the reply went out on the device too
        reflect();
        CHECK(loopback.icmp_stats().echo_replies_received == 1);
        CHECK(loopback.last_echo_reply().from == ipv4(127, 0, 0, 1));
        CHECK(loopback.last_echo_reply().sequence == 1);
        // A big echo, in one frame of the 65535-byte MTU.
        REQUIRE(loopback.ping(ipv4(127, 0, 0, 2), 7, 2, 70000 - 28 - 20000, 0).is_ok());
        reflect();
        reflect();
        CHECK(loopback.icmp_stats().echo_replies_received == 2);
        CHECK(loopback.last_echo_reply().length == 70000 - 28 - 20000);
        CHECK(loopback.stats().local_delivered == 0);
        // The address of another of the host's interfaces, routed to lo
        // (ping 10.0.2.15 from the host that has it): answered from it.
        REQUIRE(loopback.ping(ipv4(10, 0, 2, 15), 7, 3, 56, 0).is_ok());
        reflect();
        reflect();
        CHECK(loopback.icmp_stats().echo_replies_received == 3);
        CHECK(loopback.last_echo_reply().from == ipv4(10, 0, 2, 15));
        CHECK(loopback.stats().dropped_not_ours == 0);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: the IP protocol table refuses taken numbers and delivers the rest", "[interface]")
{
    long baseline = net_live_allocations();
    {
        struct Mirror : Ipv4Interface::Link {
            PacketQueue frames { 64 };
            void transmit(PacketPtr frame) override { CHECK(!frames.push(move(frame))); }
        } link;
        struct Recorder : ProtocolHandler {
            size_t datagrams = 0;
            size_t bytes = 0;
            void input(const Datagram& datagram, Millis) override
            {
                CHECK(datagram.header->protocol == 253);
                CHECK(datagram.payload()[0] == 'x');
                datagrams++;
                bytes += datagram.payload_length();
            }
        } recorder, other;
        InterfaceConfig config;
        config.address = ipv4(127, 0, 0, 1);
        config.prefix_length = 8;
        config.mtu = 65535;
        config.loopback_device = true;
        Ipv4Host host(link, config, tcp::Stack::Config());
        auto reflect = [&] {
            while (PacketPtr frame = link.frames.pop())
                host.receive(frame->data(), frame->length(), 0);
        };
        CHECK(host.interface().register_protocol(kIpProtocolUdp, other).error() == Error::EEXIST);
        CHECK(host.interface().register_protocol(kIpProtocolTcp, other).error() == Error::EEXIST);
        CHECK(host.interface().register_protocol(kIpProtocolIcmp, other).error() == Error::EEXIST);
        REQUIRE(host.interface().register_protocol(253, recorder).is_ok());
        CHECK(host.interface().register_protocol(253, other).error() == Error::EEXIST);
        const uint8_t payload[5] = { 'x', 1, 2, 3, 4 };
        REQUIRE(host.interface().send_datagram(253, 0, ipv4(127, 0, 0, 1), payload, sizeof(payload), 0).is_ok());
        reflect();
        CHECK(recorder.datagrams == 1);
        CHECK(recorder.bytes == 5);
        CHECK(other.datagrams == 0);
        // Unregistered: the next one is a protocol unreachable again.
        host.interface().unregister_protocol(253);
        REQUIRE(host.interface().send_datagram(253, 0, ipv4(127, 0, 0, 1), payload, sizeof(payload), 0).is_ok());
        reflect();
        CHECK(recorder.datagrams == 1);
        CHECK(host.stats().dropped_protocol == 1);
        CHECK(host.icmp_stats().errors_sent == 1);
        reflect();
        CHECK(host.icmp_stats().errors_received == 1);
        CHECK(host.interface().send_datagram(253, 0, ipv4(127, 0, 0, 1), payload, 65535 - 19, 0).error()
            == Error::EMSGSIZE);
    }
    CHECK(net_live_allocations() == baseline);
}

namespace {

// An ICMP error from B to A about `offending` (a frame A sent): its IP
// header and the 8 bytes after it, as a router would quote them.
std::vector<uint8_t> icmp_error_frame(
    const std::vector<uint8_t>& offending, uint8_t type, uint8_t code, uint16_t mtu = 0)
{
    const uint8_t* quote = offending.data() + 14;
    size_t quoted = size_t(quote[0] & 0xf) * 4 + 8;
    std::vector<uint8_t> frame = ipv4_frame(kMacA, kMacB, kB, kA, kIpProtocolIcmp, 8 + quoted);
    memcpy(frame.data() + 42, quote, quoted);
    write_icmp(frame.data() + 34, type, code, mtu, quoted);
    return frame;
}

// Takes the frames A sent that are not yet delivered out of the segment.
std::vector<std::vector<uint8_t>> take_from_a(Segment& segment)
{
    std::vector<std::vector<uint8_t>> taken;
    std::deque<Frame> kept;
    for (Frame& frame : segment.frames) {
        if (frame.from == 0)
            taken.push_back(std::move(frame.bytes));
        else
            kept.push_back(std::move(frame));
    }
    segment.frames = std::move(kept);
    return taken;
}

} // namespace

TEST_CASE("interface: an ICMP error reaches the TCP connection it quotes; forged ones do not", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-tcp-icmp");
        REQUIRE(segment.a.ping(kB, 1, 1, 0, segment.now).is_ok()); // ARP first
        segment.run();
        tcp::Connection* client = segment.a.tcp().connect(kA, 0, kB, 9, segment.now).release_value();
        auto syns = take_from_a(segment);
        REQUIRE(syns.size() == 1);
        const std::vector<uint8_t>& syn = syns[0];
        // Forged: a sequence number never sent; a quote of another source.
        std::vector<uint8_t> wrong_sequence = syn;
        wrong_sequence[14 + 20 + 4] ^= 0x80;
        segment.put(2, icmp_error_frame(wrong_sequence, kIcmpDestinationUnreachable, kIcmpUnreachablePort));
        std::vector<uint8_t> other_source = syn;
        store32(other_source.data() + 14 + 12, ipv4(10, 0, 2, 77));
        segment.put(2, icmp_error_frame(other_source, kIcmpDestinationUnreachable, kIcmpUnreachablePort));
        segment.run();
        CHECK(client->state() == tcp::State::SynSent);
        CHECK(segment.a.icmp_stats().errors_received == 2);
        CHECK(segment.a.icmp_stats().errors_bad_quote == 1);
        CHECK(segment.a.tcp().stats().icmp_errors_ignored == 1);
        // The real thing: port unreachable aborts the connect.
        segment.put(2, icmp_error_frame(syn, kIcmpDestinationUnreachable, kIcmpUnreachablePort));
        segment.run();
        CHECK(client->state() == tcp::State::Closed);
        CHECK(client->error() == Error::ECONNREFUSED);
        CHECK(segment.a.tcp().stats().icmp_errors == 1);
        CHECK(segment.a.icmp_stats().errors_reported == 2);
        client->release(segment.now);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: a reassembly that times out after its first fragment gets time exceeded", "[interface]")
{
    long baseline = net_live_allocations();
    for (bool icmp : { true, false }) {
        for (bool first : { true, false }) {
            Segment segment(icmp ? "if-reassembly-timeout" : "if-reassembly-timeout-no-icmp", icmp);
            UdpSocket server, client;
            REQUIRE(segment.b.udp_bind(server, 7).is_ok());
            REQUIRE(segment.a.udp_bind(client, 0).is_ok());
            REQUIRE(segment.a.ping(kB, 1, 1, 0, segment.now).is_ok()); // ARP both ways
            segment.run();
            std::vector<uint8_t> big(3000, 0x5a);
            REQUIRE(segment.a.udp_send(client, kB, 7, big.data(), big.size(), segment.now).is_ok());
            auto fragments = take_from_a(segment);
            REQUIRE(fragments.size() == 3);
            // Only the first fragment arrives, or only the last.
            segment.put(0, first ? fragments.front() : fragments.back());
            segment.run();
            CHECK(segment.b.reassembler().datagrams_in_progress() == 1);
            segment.advance(29000);
            CHECK(segment.b.icmp_stats().errors_sent == 0);
            segment.advance(1100);
            CHECK(segment.b.reassembler().datagrams_in_progress() == 0);
            CHECK(segment.b.reassembler().stats().dropped_timeout == 1);
            bool expected = icmp && first;
            CHECK(segment.b.icmp_stats().errors_sent == (expected ? 1u : 0u));
            CHECK(segment.a.icmp_stats().errors_received == (expected ? 1u : 0u));
            CHECK(!segment.b.udp_receive(server, nullptr, nullptr));
            segment.b.udp_unbind(server);
            segment.a.udp_unbind(client);
            require_clean(segment);
            auto exceeded
                = tshark_fields(segment.pcap.path(), { "icmp.type", "icmp.code", "udp.dstport" }, "icmp.type == 11");
            if (expected) {
                REQUIRE(exceeded.size() == 1);
                CHECK(exceeded[0] == "11 1 7"); // about the datagram to port 7
            } else {
                CHECK(exceeded.empty());
            }
        }
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("interface: port unreachable is left pending on the connected UDP socket that sent it", "[interface]")
{
    long baseline = net_live_allocations();
    {
        Segment segment("if-udp-icmp");
        UdpSocket connected, unconnected, other_peer;
        REQUIRE(segment.a.udp_bind(connected, 0).is_ok());
        REQUIRE(segment.a.udp_bind(unconnected, 0).is_ok());
        REQUIRE(segment.a.udp_bind(other_peer, 0).is_ok());
        connected.connect(kB, 9999);
        other_peer.connect(kB, 7);
        const uint8_t byte = 'x';
        auto send_to_closed_port = [&](UdpSocket& socket) {
            REQUIRE(segment.a.udp_send(socket, kB, 9999, &byte, 1, segment.now).is_ok());
            segment.run();
        };

        // B has no port 9999 and answers port unreachable: only the socket
        // connected to that peer and port hears of it, once.
        send_to_closed_port(connected);
        CHECK(segment.b.icmp_stats().errors_sent == 1);
        REQUIRE(connected.has_error());
        CHECK(connected.take_error() == Error::ECONNREFUSED);
        CHECK_FALSE(connected.has_error());
        send_to_closed_port(unconnected);
        send_to_closed_port(other_peer);
        CHECK_FALSE(unconnected.has_error());
        CHECK_FALSE(other_peer.has_error());
        CHECK(segment.a.udp_stats().icmp_errors == 1);
        CHECK(segment.a.udp_stats().icmp_errors_ignored == 2);

        // Soft errors (host unreachable, time exceeded) leave nothing
        // pending; a quote of another source port reaches no socket.
        REQUIRE(segment.a.udp_send(connected, kB, 9999, &byte, 1, segment.now).is_ok());
        auto sent = take_from_a(segment);
        REQUIRE(sent.size() == 1);
        segment.put(2, icmp_error_frame(sent[0], kIcmpDestinationUnreachable, kIcmpUnreachableHost));
        segment.put(2, icmp_error_frame(sent[0], kIcmpTimeExceeded, kIcmpTimeExceededTtl));
        std::vector<uint8_t> other_port = sent[0];
        store16(other_port.data() + 14 + 20, uint16_t(connected.port() + 1));
        segment.put(2, icmp_error_frame(other_port, kIcmpDestinationUnreachable, kIcmpUnreachablePort));
        segment.run();
        CHECK_FALSE(connected.has_error());
        CHECK(segment.a.udp_stats().icmp_errors_ignored == 5);
        // Protocol unreachable is hard too; unbinding drops what is pending.
        segment.put(2, icmp_error_frame(sent[0], kIcmpDestinationUnreachable, kIcmpUnreachableProtocol));
        segment.run();
        CHECK(connected.has_error());
        segment.a.udp_unbind(connected);
        CHECK_FALSE(connected.has_error());
        segment.a.udp_unbind(unconnected);
        segment.a.udp_unbind(other_peer);
        require_clean(segment);
    }
    CHECK(net_live_allocations() == baseline);
}
