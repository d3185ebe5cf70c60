// Two TCP stacks (A at 10.0.0.1, B at 10.0.0.2) joined by a simulated
// link, driven by a fake clock. The link delays every packet, and can be
// told to lose, duplicate, reorder and corrupt them (a seeded generator
// makes every run the same). Every segment a stack emits is written, with
// an IPv4 header, to a pcap file for tshark.
#pragma once

#include <stdint.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/net/tcp/stack.h"
#include "pcap.h"

using keel::net::Ipv4Address;
using keel::net::Millis;
namespace tcp = keel::net::tcp;

constexpr Ipv4Address kAddressA = 0x0a000001;
constexpr Ipv4Address kAddressB = 0x0a000002;

struct LinkFaults {
    unsigned drop_percent = 0;
    unsigned duplicate_percent = 0;
    unsigned reorder_percent = 0; // held back by up to 3 more delays
    unsigned corrupt_percent = 0;
};

// A packet on the wire: the IPv4 datagram and when it arrives.
struct InFlight {
    Millis arrival;
    uint64_t order;
    std::vector<uint8_t> datagram;
};

class Network {
public:
    Network(const std::string& capture_name, Millis delay = 10, tcp::Options options = {});
    // Both stacks configured alike (their secrets apart).
    Network(const std::string& capture_name, Millis delay, tcp::Stack::Config config);
    ~Network();

    tcp::Stack& a() { return *m_a; }
    tcp::Stack& b() { return *m_b; }
    tcp::Stack& stack(Ipv4Address address) { return address == kAddressA ? *m_a : *m_b; }
    Millis now() const { return m_now; }
    LinkFaults faults;
    // Drops every packet for which this says true (scripted losses).
    std::function<bool(Ipv4Address from, const uint8_t* segment, size_t length)> filter;
    // Sees every segment delivered (after the filter).
    std::function<void(Ipv4Address to, const uint8_t* segment, size_t length)> observer;

    // Runs until `done` says true or `limit` ms pass; returns whether done.
    bool run_until(const std::function<bool()>& done, Millis limit = 600000);
    // Runs for `duration` ms.
    void run_for(Millis duration);
    // Injects a hand-made segment as if `from` had sent it.
    void inject(Ipv4Address from, Ipv4Address to, const uint8_t* segment, size_t length);
    // The same for a segment of `header` alone (its options written, its
    // checksum computed).
    void inject(Ipv4Address from, Ipv4Address to, const tcp::Header& header);
    // A SYN from A's `port` to B's `to_port` with sequence number 1000 *
    // port (and an MSS option when `mss` is not 0), as a spoofed source
    // would send it: nothing on A answers its SYN-ACK.
    void inject_syn(uint16_t port, uint16_t to_port, uint16_t mss = 0);

    size_t sent() const { return m_sent; }
    size_t dropped() const { return m_dropped; }
    size_t in_flight() const { return m_wire.size(); }
    // Closes the capture and asks tshark about it.
    std::vector<std::string> judge();
    const std::string& capture_path() const { return m_pcap.path(); }

private:
    class Port;
    void transmit(Ipv4Address from, Ipv4Address to, keel::net::PacketPtr segment);
    void deliver(const InFlight& packet);
    bool step(Millis limit);
    uint32_t random();

    std::unique_ptr<Port> m_port_a, m_port_b;
    std::unique_ptr<tcp::Stack> m_a, m_b;
    PcapWriter m_pcap;
    Millis m_delay;
    Millis m_now = 1000;
    uint64_t m_order = 0;
    uint64_t m_seed = 0x9e3779b97f4a7c15ull;
    std::vector<InFlight> m_wire;
    size_t m_sent = 0, m_dropped = 0;
    uint16_t m_ip_id = 1;
};

// Moves bytes through a connection's send buffer and collects what the
// other side receives.
std::vector<uint8_t> pattern(size_t length, uint32_t seed);
// Sends as much of `data` from `offset` as fits; returns the new offset.
size_t pump_send(tcp::Connection& connection, const std::vector<uint8_t>& data, size_t offset, Millis now);
// Reads everything readable into `out`; returns true at end of stream.
bool pump_receive(tcp::Connection& connection, std::vector<uint8_t>& out, Millis now);
