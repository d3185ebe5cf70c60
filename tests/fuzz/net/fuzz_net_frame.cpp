// libFuzzer target for everything a host does with frames from the wire:
// Ethernet, ARP, IPv4 with reassembly, ICMP, UDP and TCP's input, through
// one Ipv4Host (interface, icmp, udp, tcp) with a UDP socket on port 7
// (connected to 10.0.2.2:9) and a TCP listener on 80.
//
// The input is a sequence of frames, each [flags][length (2 bytes)][bytes]:
// flags bit 0 repairs the frame's checksums, the other bits advance the
// clock (by (flags >> 1) * 100 ms) before the frame. The oracle: nothing
// crashes or leaks (ASan), and every frame the host sends in return is
// well formed by its own parsers.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../unit/net/host_platform.h"
#include "fuzz_checksums.h"
#include "lib/net/arp.h"
#include "lib/net/host.h"
#include "lib/net/icmp.h"
#include "lib/net/udp.h"

using namespace keel::net;

namespace {

const MacAddress kMac { { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };
const Ipv4Address kAddress = ipv4(10, 0, 2, 15);

// Every frame the host sends must pass the checks it applies to others.
class CheckingLink : public Ipv4Interface::Link {
public:
    void transmit(PacketPtr frame) override
    {
        const uint8_t* bytes = frame->data();
        size_t length = frame->length();
        keel::Diagnostic diagnostic;
        auto ethernet = parse_ethernet(bytes, length, &diagnostic);
        if (ethernet.is_error())
            refuse(diagnostic);
        bytes += kEthernetHeaderSize;
        length -= kEthernetHeaderSize;
        if (ethernet.value().ether_type == kEtherTypeArp) {
            if (parse_arp(bytes, length, &diagnostic).is_error())
                refuse(diagnostic);
            return;
        }
        auto ip = parse_ipv4(bytes, length, &diagnostic);
        if (ip.is_error())
            refuse(diagnostic);
        if (ip.value().source != kAddress) {
            fprintf(stderr, "sent from %#x\n", ip.value().source);
            abort();
        }
        if (ip.value().is_fragment())
            return;
        const uint8_t* payload = bytes + ip.value().header_length;
        size_t size = ip.value().payload_length();
        bool good = true;
        if (ip.value().protocol == kIpProtocolIcmp)
            good = parse_icmp(payload, size, &diagnostic).is_ok();
        else if (ip.value().protocol == kIpProtocolUdp)
            good = parse_udp(payload, size, ip.value().source, ip.value().destination, &diagnostic).is_ok();
        else if (ip.value().protocol == kIpProtocolTcp)
            good = tcp::parse_segment(payload, size, ip.value().source, ip.value().destination, &diagnostic).is_ok();
        if (!good)
            refuse(diagnostic);
    }

private:
    [[noreturn]] static void refuse(const keel::Diagnostic& diagnostic)
    {
        fprintf(stderr, "the host sent a frame its own checks refuse: %s\n", diagnostic.message);
        abort();
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    long baseline = net_live_allocations();
    {
        CheckingLink link;
        InterfaceConfig config;
        config.mac = kMac;
        config.address = kAddress;
        config.gateway = ipv4(10, 0, 2, 2);
        tcp::Stack::Config tcp_config;
        Ipv4Host host(link, config, tcp_config);
        UdpSocket socket;
        if (host.udp_bind(socket, 7).is_error())
            abort();
        // Connected, so that ICMP errors quoting 7 -> 10.0.2.2:9 reach it.
        socket.connect(ipv4(10, 0, 2, 2), 9);
        auto listener = host.tcp().listen(0, 80, 4);
        if (listener.is_error())
            abort();
        Millis now = 1000;
        uint8_t frame[2048];
        while (size >= 3) {
            uint8_t flags = data[0];
            size_t length = size_t(data[1]) << 8 | data[2];
            data += 3;
            size -= 3;
            if (length > size)
                length = size;
            if (length > sizeof(frame))
                length = sizeof(frame);
            __builtin_memcpy(frame, data, length);
            data += length;
            size -= length;
            if ((flags & 1) && length > kEthernetHeaderSize)
                repair_ipv4_checksums(frame + kEthernetHeaderSize, length - kEthernetHeaderSize);
            now += Millis(flags >> 1) * 100;
            host.tick(now);
            host.receive(frame, length, now);
            while (PacketPtr datagram = host.udp_receive(socket, nullptr, nullptr)) { }
            if (socket.has_error() && socket.take_error() != keel::Error::ECONNREFUSED)
                abort(); // only port and protocol unreachable are left pending
            while (tcp::Connection* connection = listener.value()->accept()) {
                connection->abort(now);
                connection->release(now);
            }
        }
        host.tick(now + 120000);
        host.udp_unbind(socket);
        listener.value()->close(now);
    }
    if (net_live_allocations() != baseline)
        abort(); // a packet, a fragment or a connection leaked
    return 0;
}
