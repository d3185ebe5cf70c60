#include "tcp_harness.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "lib/net/ipv4.h"

using keel::net::PacketPtr;

class Network::Port : public tcp::Stack::Output {
public:
    Port(Network& network, Ipv4Address address)
        : m_network(network)
        , m_address(address)
    {
    }
    void transmit(PacketPtr segment, Ipv4Address source, Ipv4Address destination) override
    {
        REQUIRE(source == m_address);
        m_network.transmit(source, destination, std::move(segment));
    }

private:
    Network& m_network;
    Ipv4Address m_address;
};

namespace {

tcp::Stack::Config with_defaults(tcp::Options options)
{
    tcp::Stack::Config config;
    config.defaults = options;
    return config;
}

} // namespace

Network::Network(const std::string& capture_name, Millis delay, tcp::Options options)
    : Network(capture_name, delay, with_defaults(options))
{
}

Network::Network(const std::string& capture_name, Millis delay, tcp::Stack::Config config)
    : m_pcap(capture_name, kLinktypeRaw)
    , m_delay(delay)
{
    m_port_a = std::make_unique<Port>(*this, kAddressA);
    m_port_b = std::make_unique<Port>(*this, kAddressB);
    config.secret[0] = 1;
    m_a = std::make_unique<tcp::Stack>(*m_port_a, config);
    config.secret[0] = 2;
    m_b = std::make_unique<tcp::Stack>(*m_port_b, config);
}

Network::~Network() = default;

uint32_t Network::random()
{
    m_seed ^= m_seed << 13;
    m_seed ^= m_seed >> 7;
    m_seed ^= m_seed << 17;
    return uint32_t(m_seed >> 11);
}

void Network::transmit(Ipv4Address from, Ipv4Address to, PacketPtr segment)
{
    REQUIRE(segment);
    // The IP layer's part, as the kernel's inet will do it.
    uint8_t* header = segment->push(keel::net::kIpv4HeaderSize);
    REQUIRE(header);
    keel::net::Ipv4Header ip;
    ip.total_length = uint16_t(segment->length());
    ip.identification = m_ip_id++;
    ip.flags_offset = keel::net::kIpv4FlagDontFragment;
    ip.protocol = keel::net::kIpProtocolTcp;
    ip.source = from;
    ip.destination = to;
    keel::net::write_ipv4(header, ip);
    m_pcap.write(m_now, segment->data(), segment->length());
    m_sent++;
    std::vector<uint8_t> datagram(segment->data(), segment->data() + segment->length());
    if (filter && filter(from, datagram.data() + keel::net::kIpv4HeaderSize, datagram.size() - 20)) {
        m_dropped++;
        return;
    }
    if (faults.drop_percent && random() % 100 < faults.drop_percent) {
        m_dropped++;
        return;
    }
    int copies = faults.duplicate_percent && random() % 100 < faults.duplicate_percent ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        InFlight packet { m_now + m_delay, m_order++, datagram };
        if (faults.reorder_percent && random() % 100 < faults.reorder_percent)
            packet.arrival += m_delay * (1 + random() % 3);
        if (faults.corrupt_percent && random() % 100 < faults.corrupt_percent)
            packet.datagram[20 + random() % (packet.datagram.size() - 20)] ^= uint8_t(1 + random() % 255);
        m_wire.push_back(std::move(packet));
    }
}

void Network::inject(Ipv4Address from, Ipv4Address to, const tcp::Header& header)
{
    uint8_t segment[tcp::kMaxHeaderSize];
    size_t length = tcp::header_size(header);
    tcp::write_header(segment, header, 0, from, to);
    inject(from, to, segment, length);
}

void Network::inject_syn(uint16_t port, uint16_t to_port, uint16_t mss)
{
    tcp::Header header;
    header.source_port = port;
    header.destination_port = to_port;
    header.sequence = 1000u * port;
    header.flags = tcp::kSyn;
    header.window = 65535;
    header.mss = mss;
    inject(kAddressA, kAddressB, header);
}

void Network::inject(Ipv4Address from, Ipv4Address to, const uint8_t* segment, size_t length)
{
    uint8_t datagram[1600];
    REQUIRE(length + 20 <= sizeof(datagram));
    keel::net::Ipv4Header ip;
    ip.total_length = uint16_t(length + 20);
    ip.protocol = keel::net::kIpProtocolTcp;
    ip.source = from;
    ip.destination = to;
    keel::net::write_ipv4(datagram, ip);
    std::copy(segment, segment + length, datagram + 20);
    m_pcap.write(m_now, datagram, length + 20);
    m_wire.push_back({ m_now, m_order++, std::vector<uint8_t>(datagram, datagram + length + 20) });
}

void Network::deliver(const InFlight& packet)
{
    auto parsed = keel::net::parse_ipv4(packet.datagram.data(), packet.datagram.size(), nullptr);
    REQUIRE(parsed.is_ok());
    const keel::net::Ipv4Header& ip = parsed.value();
    const uint8_t* segment = packet.datagram.data() + ip.header_length;
    size_t length = ip.total_length - ip.header_length;
    if (observer)
        observer(ip.destination, segment, length);
    stack(ip.destination).input(segment, length, ip.source, ip.destination, m_now);
}

// Advances the clock to the next event (a delivery or a timer), at most to
// `limit`, and handles it. False when nothing is left to happen.
bool Network::step(Millis limit)
{
    Millis next = 0;
    for (const InFlight& packet : m_wire)
        next = next ? std::min(next, packet.arrival) : packet.arrival;
    for (tcp::Stack* stack : { m_a.get(), m_b.get() }) {
        Millis deadline = stack->next_deadline();
        if (deadline)
            next = next ? std::min(next, deadline) : deadline;
    }
    if (!next)
        return false;
    if (next > limit) {
        m_now = std::max(m_now, limit);
        return false;
    }
    m_now = std::max(m_now, next);
    // Deliver everything due, in order of arrival then of sending.
    std::sort(m_wire.begin(), m_wire.end(), [](const InFlight& x, const InFlight& y) {
        return x.arrival != y.arrival ? x.arrival < y.arrival : x.order < y.order;
    });
    while (!m_wire.empty() && m_wire.front().arrival <= m_now) {
        InFlight packet = std::move(m_wire.front());
        m_wire.erase(m_wire.begin());
        deliver(packet);
    }
    m_a->tick(m_now);
    m_b->tick(m_now);
    return true;
}

bool Network::run_until(const std::function<bool()>& done, Millis limit)
{
    Millis end = m_now + limit;
    for (;;) {
        if (done())
            return true;
        if (m_now >= end)
            return false;
        if (!step(end)) {
            // Nothing was scheduled; `done` may have queued something.
            if (done())
                return true;
            if (m_wire.empty() && !m_a->next_deadline() && !m_b->next_deadline())
                return false;
        }
    }
}

void Network::run_for(Millis duration)
{
    Millis end = m_now + duration;
    while (step(end)) { }
    m_now = std::max(m_now, end);
}

std::vector<std::string> Network::judge()
{
    m_pcap.close();
    return tshark_problems(m_pcap.path());
}

std::vector<uint8_t> pattern(size_t length, uint32_t seed)
{
    std::vector<uint8_t> bytes(length);
    uint32_t x = seed * 2654435761u + 1;
    for (uint8_t& byte : bytes) {
        x = x * 1103515245u + 12345u;
        byte = uint8_t(x >> 16);
    }
    return bytes;
}

size_t pump_send(tcp::Connection& connection, const std::vector<uint8_t>& data, size_t offset, Millis now)
{
    while (offset < data.size()) {
        auto sent = connection.send(data.data() + offset, data.size() - offset, now);
        if (sent.is_error())
            break;
        offset += sent.value();
    }
    return offset;
}

bool pump_receive(tcp::Connection& connection, std::vector<uint8_t>& out, Millis now)
{
    uint8_t buffer[4096];
    for (;;) {
        auto received = connection.receive(buffer, sizeof(buffer), now);
        if (received.is_error())
            return false;
        if (received.value() == 0)
            return true;
        out.insert(out.end(), buffer, buffer + received.value());
    }
}
