// Console tools over the loopback host, with Linux's syntax and output
// shape: ping, and a UDP echo through a server bound on 127.0.0.1.
#include "console/console.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "net/loopback.h"
#include "time/clock.h"

namespace keel {

namespace {

using net::Ipv4Address;

// Runs the loopback's receive side until what was sent has been handled
// (the netdev core's poll thread will do this).
void settle(net::Ipv4Interface& interface)
{
    for (int rounds = 0; rounds < 64 && interface.has_local_work(); rounds++)
        interface.poll(net::net_now());
}

bool parse_count(const char* text, uint64_t max, uint64_t* out)
{
    Result<uint64_t> value = parse_uint(text, strlen(text));
    if (value.is_error() || value.value() > max)
        return false;
    *out = value.value();
    return true;
}

int ping_usage()
{
    console_print("usage: ping [-c COUNT] [-s SIZE] HOST (COUNT 1 to 1000, SIZE 0 to 65507, HOST in 127.0.0.0/8)\n");
    return 2;
}

int ping_command(int argc, char** argv)
{
    uint64_t count = 4, size = 56;
    const char* host = nullptr;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], 1000, &count) || count == 0)
                return ping_usage();
        } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], 65507, &size))
                return ping_usage();
        } else if (!host && argv[i][0] != '-') {
            host = argv[i];
        } else {
            return ping_usage();
        }
    }
    if (!host)
        return ping_usage();
    Result<Ipv4Address> destination = net::parse_ipv4_address(host);
    if (destination.is_error()) {
        console_print("ping: %s: Name or service not known\n", host);
        return 2;
    }
    if (!net::ipv4_is_loopback(destination.value())) {
        console_print("ping: connect: Network is unreachable (only the loopback network exists yet)\n");
        return 2;
    }
    Result<net::Ipv4Interface*> loopback = net::loopback_interface();
    if (loopback.is_error()) {
        console_print("ping: %s\n", error_description(loopback.error()));
        return 1;
    }
    net::Ipv4Interface& interface = *loopback.value();
    console_print("PING %s (%s) %llu(%llu) bytes of data.\n", host, host, (unsigned long long)size,
        (unsigned long long)size + 28);
    static uint16_t identifier = 0x4b00;
    identifier++;
    uint64_t received = 0, min_us = ~0ull, max_us = 0, total_us = 0;
    uint64_t start = time::monotonic_us();
    for (uint64_t sequence = 1; sequence <= count; sequence++) {
        uint64_t sent = interface.stats().echo_replies_received;
        uint64_t before = time::monotonic_us();
        Result<void> result = interface.ping(destination.value(), identifier, uint16_t(sequence), size, net::net_now());
        settle(interface);
        uint64_t rtt = time::monotonic_us() - before;
        if (result.is_error()) {
            console_print("ping: sendmsg: %s\n", error_description(result.error()));
            continue;
        }
        const auto& reply = interface.last_echo_reply();
        if (interface.stats().echo_replies_received == sent || reply.identifier != identifier
            || reply.sequence != uint16_t(sequence))
            continue;
        received++;
        min_us = min(min_us, rtt);
        max_us = max(max_us, rtt);
        total_us += rtt;
        char from[16];
        net::format_ipv4_address(reply.from, from);
        console_print("%llu bytes from %s: icmp_seq=%llu ttl=%u time=%llu.%03llu ms\n",
            (unsigned long long)reply.length + 8, from, (unsigned long long)sequence, reply.ttl,
            (unsigned long long)(rtt / 1000), (unsigned long long)(rtt % 1000));
    }
    uint64_t elapsed_ms = (time::monotonic_us() - start) / 1000;
    console_print("\n--- %s ping statistics ---\n", host);
    console_print("%llu packets transmitted, %llu received, %llu%% packet loss, time %llums\n",
        (unsigned long long)count, (unsigned long long)received, (unsigned long long)((count - received) * 100 / count),
        (unsigned long long)elapsed_ms);
    if (received) {
        uint64_t avg = total_us / received;
        console_print("rtt min/avg/max = %llu.%03llu/%llu.%03llu/%llu.%03llu ms\n", (unsigned long long)(min_us / 1000),
            (unsigned long long)(min_us % 1000), (unsigned long long)(avg / 1000), (unsigned long long)(avg % 1000),
            (unsigned long long)(max_us / 1000), (unsigned long long)(max_us % 1000));
    }
    return received == count ? 0 : 1;
}

int udpecho_usage()
{
    console_print("usage: udpecho [-p PORT] TEXT (PORT 1 to 65535, default 7)\n");
    return 2;
}

// An echo server bound on 127.0.0.1:PORT for the length of the command,
// a client that sends TEXT and prints what the server sent back.
int udpecho_command(int argc, char** argv)
{
    uint64_t port = 7;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-p") == 0) {
        if (!parse_count(argv[2], 65535, &port) || port == 0)
            return udpecho_usage();
        first = 3;
    }
    if (first >= argc || argv[first][0] == '-')
        return udpecho_usage();
    char text[kConsoleMaxLine + 1];
    size_t length = 0;
    for (int i = first; i < argc; i++) {
        size_t word = strlen(argv[i]);
        if (length + word + 1 > sizeof(text))
            return udpecho_usage();
        if (length)
            text[length++] = ' ';
        memcpy(text + length, argv[i], word);
        length += word;
    }
    Result<net::Ipv4Interface*> loopback = net::loopback_interface();
    if (loopback.is_error()) {
        console_print("udpecho: %s\n", error_description(loopback.error()));
        return 1;
    }
    net::Ipv4Interface& interface = *loopback.value();
    Ipv4Address localhost = net::ipv4(127, 0, 0, 1);
    net::UdpSocket server, client;
    if (Result<void> bound = interface.udp_bind(server, uint16_t(port)); bound.is_error()) {
        console_print("udpecho: bind 127.0.0.1:%llu: %s\n", (unsigned long long)port, error_description(bound.error()));
        return 1;
    }
    int status = 1;
    if (Result<void> bound = interface.udp_bind(client, 0); bound.is_error()) {
        console_print("udpecho: bind: %s\n", error_description(bound.error()));
    } else {
        Result<void> sent = interface.udp_send(
            client, localhost, uint16_t(port), reinterpret_cast<const uint8_t*>(text), length, net::net_now());
        settle(interface);
        Ipv4Address from = 0;
        uint16_t from_port = 0;
        net::PacketPtr request = interface.udp_receive(server, &from, &from_port);
        if (sent.is_ok() && request)
            (void)interface.udp_send(server, from, from_port, request->data(), request->length(), net::net_now());
        settle(interface);
        net::PacketPtr answer = interface.udp_receive(client, nullptr, nullptr);
        if (answer) {
            console_print("%.*s\n", int(answer->length()), reinterpret_cast<const char*>(answer->data()));
            console_print("udpecho: %zu bytes from 127.0.0.1:%llu to port %u and back\n", answer->length(),
                (unsigned long long)port, client.port());
            status = 0;
        } else {
            console_print("udpecho: no answer\n");
        }
        interface.udp_unbind(client);
    }
    interface.udp_unbind(server);
    return status;
}

} // namespace

KEEL_CONSOLE_COMMAND(
    ping, "ping", "[-c COUNT] [-s SIZE] HOST", "send ICMP echo requests (loopback for now)", ping_command);
KEEL_CONSOLE_COMMAND(
    udpecho, "udpecho", "[-p PORT] TEXT", "send TEXT to a UDP echo server on 127.0.0.1 and back", udpecho_command);

} // namespace keel
