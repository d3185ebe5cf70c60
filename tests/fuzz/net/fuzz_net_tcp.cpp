// libFuzzer target for TCP's input path on a live connection: A and B are
// connected (with data moving both ways), then the input's segments are
// delivered to B as if A had sent them, mixed with what A really sends.
//
// Each step is [mode][segment length (1 byte)][segment bytes]. The segment
// is a TCP header and data whose ports are set to the connection's and
// whose checksum is repaired; mode bit 0 places the sequence number
// relative to B's RCV.NXT and bit 1 the acknowledgment relative to B's
// SND.UNA (the fields then hold small signed offsets), so the fuzzer
// reaches the in-window paths without guessing 32-bit numbers; bits 2-4
// advance the clock; bit 5 lets queued real segments through; bit 6 makes
// B read, bit 7 makes B or A close. A segment's first byte can make it
// another peer's, for the listener and its SYN cookies (below). The
// oracle is ASan and the leak count.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <deque>
#include <vector>

#include "../../unit/net/host_platform.h"
#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"
#include "lib/net/tcp/stack.h"
#include "lib/net/tcp/syn_cookie.h"

using namespace keel::net;

namespace {

constexpr Ipv4Address kA = 0x0a000001, kB = 0x0a000002;

struct Wire : tcp::Stack::Output {
    Ipv4Address self;
    std::deque<std::vector<uint8_t>>* queue;
    void transmit(PacketPtr segment, Ipv4Address source, Ipv4Address) override
    {
        if (source != self)
            abort();
        queue->emplace_back(segment->data(), segment->data() + segment->length());
    }
};

void deliver_all(std::deque<std::vector<uint8_t>>& to_a, std::deque<std::vector<uint8_t>>& to_b, tcp::Stack& a,
    tcp::Stack& b, Millis now)
{
    for (int rounds = 0; rounds < 64 && (!to_a.empty() || !to_b.empty()); rounds++) {
        while (!to_b.empty()) {
            auto segment = std::move(to_b.front());
            to_b.pop_front();
            b.input(segment.data(), segment.size(), kA, kB, now);
        }
        while (!to_a.empty()) {
            auto segment = std::move(to_a.front());
            to_a.pop_front();
            a.input(segment.data(), segment.size(), kB, kA, now);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    long baseline = net_live_allocations();
    {
        std::deque<std::vector<uint8_t>> to_a, to_b;
        Wire wire_a, wire_b;
        wire_a.self = kA;
        wire_a.queue = &to_b;
        wire_b.self = kB;
        wire_b.queue = &to_a;
        tcp::Stack::Config config;
        config.defaults.receive_buffer = 16384;
        config.defaults.send_buffer = 16384;
        tcp::Stack a(wire_a, config), b(wire_b, config);
        Millis now = 1000;
        tcp::Listener* listener = b.listen(0, 80, 2).release_value();
        tcp::Connection* client = a.connect(kA, 0, kB, 80, now).release_value();
        deliver_all(to_a, to_b, a, b, now);
        tcp::Connection* server = listener->accept();
        if (!server || client->state() != tcp::State::Established)
            abort();
        uint8_t bytes[3000];
        memset(bytes, 'k', sizeof(bytes));
        (void)client->send(bytes, sizeof(bytes), now);
        (void)server->send(bytes, 1000, now);
        deliver_all(to_a, to_b, a, b, now);

        uint8_t segment[300];
        while (size >= 2) {
            uint8_t mode = data[0];
            size_t length = data[1];
            data += 2;
            size -= 2;
            if (length > size)
                length = size;
            memcpy(segment, data, length);
            data += length;
            size -= length;
            now += Millis((mode >> 2) & 7) * 50;
            if (length >= tcp::kHeaderSize) {
                // A first byte of 0xfe or 0xff makes the segment another
                // peer's (port 40000 + the second byte), for the
                // listener: SYNs fill its backlog and get cookies; 0xff
                // makes the acknowledgment the right cookie plus one.
                bool other = segment[0] >= 0xfe;
                uint16_t port = other ? uint16_t(40000 + segment[1]) : client->tuple().local_port;
                bool cookie = segment[0] == 0xff;
                store16(segment, port);
                store16(segment + 2, 80);
                if (mode & 1)
                    store32(segment + 4, server->receive_next() + int16_t(load16(segment + 4)));
                if (mode & 2)
                    store32(segment + 8, server->send_unacknowledged() + int16_t(load16(segment + 8)));
                if (cookie) {
                    tcp::Tuple tuple { kB, 80, kA, port };
                    uint32_t isn = load32(segment + 4) - 1;
                    store32(
                        segment + 8, tcp::make_syn_cookie(config.secret, tuple, isn, load16(segment + 18), now) + 1);
                }
                store16(segment + 16, 0);
                uint64_t sum = pseudo_header_sum(kA, kB, kIpProtocolTcp, uint16_t(length));
                store16(segment + 16, checksum_finish(checksum_add(sum, segment, length)));
            }
            b.input(segment, length, kA, kB, now);
            if (mode & 0x20)
                deliver_all(to_a, to_b, a, b, now);
            else
                to_a.clear(); // B's answers lost
            if (mode & 0x40) {
                uint8_t sink[4096];
                (void)server->receive(sink, sizeof(sink), now);
            }
            if (mode & 0x80) {
                if (mode & 1)
                    server->close(now);
                else
                    client->close(now);
            }
            a.tick(now);
            b.tick(now);
        }
        client->release(now);
        server->release(now);
        listener->close(now);
        for (int i = 0; i < 10; i++) {
            now += 30000;
            deliver_all(to_a, to_b, a, b, now);
            a.tick(now);
            b.tick(now);
        }
    }
    if (net_live_allocations() != baseline)
        abort();
    return 0;
}
