// Console tools with Linux's syntax and output shape over the protocol
// modules: ping (icmp.kmod), a UDP echo through a server bound on
// 127.0.0.1, and a UDP echo server (udpecho -l; udp.kmod). Each command
// looks up the module's functions (KABI_ICMP_1.0, KABI_UDP_1.0) with
// symbol_get, which pins the module until the command puts them back.
#include <keel/icmp.h>
#include <keel/udp.h>

#include "console/console.h"
#include "console/inet_symbol.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "lib/net/address.h"
#include "loader/loader.h"
#include "log/log.h"
#include "sched/thread.h"
#include "time/clock.h"

namespace keel {

namespace {

using net::Ipv4Address;

using net::InetSymbol;

constexpr uint32_t kReplyTimeoutMs = 1000;

bool module_missing(const char* tool, const char* module)
{
    console_print("%s: %s is not loaded (insmod %s)\n", tool, module, module);
    return true;
}

constexpr const char* kIcmpNode = "KABI_ICMP_1.0";
constexpr const char* kUdpNode = "KABI_UDP_1.0";

bool parse_count(const char* text, uint64_t max, uint64_t* out)
{
    Result<uint64_t> value = parse_uint(text, strlen(text));
    if (value.is_error() || value.value() > max)
        return false;
    *out = value.value();
    return true;
}

// Seconds with up to three decimals ("0.2", "1", "1.5"), as ping -i takes
// them, into milliseconds; at most `max_ms`.
bool parse_seconds(const char* text, uint64_t max_ms, uint64_t* out)
{
    const char* dot = strchr(text, '.');
    size_t whole_length = dot ? size_t(dot - text) : strlen(text);
    Result<uint64_t> whole = parse_uint(text, whole_length);
    if (whole_length == 0 || whole.is_error() || whole.value() > max_ms / 1000)
        return false;
    uint64_t ms = whole.value() * 1000;
    if (dot) {
        uint64_t scale = 100;
        const char* digit = dot + 1;
        if (!*digit)
            return false;
        for (; *digit; digit++, scale /= 10) {
            if (*digit < '0' || *digit > '9' || scale == 0)
                return false;
            ms += uint64_t(*digit - '0') * scale;
        }
    }
    if (ms > max_ms)
        return false;
    *out = ms;
    return true;
}

// How long a wait lasts before the console is asked for Ctrl-C again.
constexpr uint64_t kSliceMs = 200;

// Sleeps `ms`, in slices; false when Ctrl-C ended it first.
bool sleep_unless_interrupted(uint64_t ms)
{
    uint64_t deadline = time::monotonic_ns() + ms * 1000000;
    for (uint64_t now = time::monotonic_ns(); now < deadline; now = time::monotonic_ns()) {
        if (console_interrupted())
            return false;
        thread_sleep_ms(min((deadline - now + 999999) / 1000000, kSliceMs));
    }
    return !console_interrupted();
}

int ping_usage()
{
    console_print("usage: ping [-c COUNT] [-s SIZE] [-i INTERVAL] HOST (COUNT 1 to 1000, SIZE 0 to 65507, INTERVAL "
                  "0 to 60 seconds, HOST an IPv4 address)\n");
    return 2;
}

int ping_command(int argc, char** argv)
{
    uint64_t count = 4, size = 56, interval_ms = 1000;
    const char* host = nullptr;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], 1000, &count) || count == 0)
                return ping_usage();
        } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], 65507, &size))
                return ping_usage();
        } else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) {
            if (!parse_seconds(argv[++i], 60000, &interval_ms))
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
    InetSymbol<keel_icmp_ping_fn> icmp_ping("keel_icmp_ping", kIcmpNode);
    if (!icmp_ping && module_missing("ping", "icmp"))
        return 2;
    console_print("PING %s (%s) %llu(%llu) bytes of data.\n", host, host, (unsigned long long)size,
        (unsigned long long)size + 28);
    static uint16_t identifier = 0x4b00;
    identifier++;
    uint64_t transmitted = 0, received = 0, min_us = ~0ull, max_us = 0, total_us = 0;
    uint64_t start = time::monotonic_us();
    // As Linux's ping: Ctrl-C stops it, and the statistics still come.
    for (uint64_t sequence = 1; sequence <= count; sequence++) {
        // As Linux's ping: one request per interval, none after the last.
        if (sequence > 1 && interval_ms && !sleep_unless_interrupted(interval_ms))
            break;
        if (sequence > 1 && !interval_ms && console_interrupted())
            break;
        transmitted++;
        uint64_t before = time::monotonic_us();
        uint32_t from_address = 0, length = 0, ttl = 0;
        int32_t status = icmp_ping(destination.value(), identifier, uint16_t(sequence), uint32_t(size), kReplyTimeoutMs,
            &from_address, &length, &ttl);
        uint64_t rtt = time::monotonic_us() - before;
        if (status == -int32_t(Error::ETIMEDOUT))
            continue;
        if (status == -int32_t(Error::ENETUNREACH) && sequence == 1) {
            console_print("ping: connect: Network is unreachable\n");
            return 2;
        }
        if (status < 0) {
            console_print("ping: sendmsg: %s\n", error_description(Error(-status)));
            continue;
        }
        received++;
        min_us = min(min_us, rtt);
        max_us = max(max_us, rtt);
        total_us += rtt;
        char from[16];
        net::format_ipv4_address(from_address, from);
        console_print("%llu bytes from %s: icmp_seq=%llu ttl=%u time=%llu.%03llu ms\n", (unsigned long long)length + 8,
            from, (unsigned long long)sequence, ttl, (unsigned long long)(rtt / 1000),
            (unsigned long long)(rtt % 1000));
    }
    uint64_t elapsed_ms = (time::monotonic_us() - start) / 1000;
    console_print("\n--- %s ping statistics ---\n", host);
    console_print("%llu packets transmitted, %llu received, %llu%% packet loss, time %llums\n",
        (unsigned long long)transmitted, (unsigned long long)received,
        (unsigned long long)((transmitted - received) * 100 / transmitted), (unsigned long long)elapsed_ms);
    if (received) {
        uint64_t avg = total_us / received;
        console_print("rtt min/avg/max = %llu.%03llu/%llu.%03llu/%llu.%03llu ms\n", (unsigned long long)(min_us / 1000),
            (unsigned long long)(min_us % 1000), (unsigned long long)(avg / 1000), (unsigned long long)(avg % 1000),
            (unsigned long long)(max_us / 1000), (unsigned long long)(max_us % 1000));
    }
    return received == transmitted ? 0 : 1;
}

int udpecho_usage()
{
    console_print("usage: udpecho [-p PORT] TEXT, or udpecho -l [-p PORT] [-c COUNT] [-w SECONDS] (PORT 1 to 65535, "
                  "default 7; COUNT 1 to 100000, default 1; SECONDS 1 to 3600, default 60)\n");
    return 2;
}

// An echo server on PORT of every interface: each datagram goes back to
// where it came from, until COUNT have or SECONDS pass without one.
int udpecho_serve(uint64_t port, uint64_t count, uint64_t seconds)
{
    InetSymbol<keel_udp_open_fn> udp_open("keel_udp_open", kUdpNode);
    InetSymbol<keel_udp_send_fn> udp_send("keel_udp_send", kUdpNode);
    InetSymbol<keel_udp_receive_fn> udp_receive("keel_udp_receive", kUdpNode);
    InetSymbol<keel_udp_close_fn> udp_close("keel_udp_close", kUdpNode);
    if (!(udp_open && udp_send && udp_receive && udp_close) && module_missing("udpecho", "udp"))
        return 2;
    keel_udp* server = nullptr;
    if (int32_t bound = udp_open(uint16_t(port), &server); bound < 0) {
        console_print("udpecho: bind 0.0.0.0:%llu: %s\n", (unsigned long long)port, error_description(Error(-bound)));
        return 1;
    }
    console_print("udpecho: listening on 0.0.0.0:%llu\n", (unsigned long long)port);
    static uint8_t buffer[65536]; // one command runs at a time on the console
    uint64_t echoed = 0;
    uint64_t idle_ms = 0; // since the last datagram, in slices: Ctrl-C ends the wait
    while (echoed < count && idle_ms < seconds * 1000) {
        uint32_t from = 0;
        uint16_t from_port = 0;
        int64_t length = udp_receive(server, buffer, sizeof(buffer), &from, &from_port, uint32_t(kSliceMs));
        if (length == -int64_t(Error::ETIMEDOUT)) {
            if (console_interrupted())
                break;
            idle_ms += kSliceMs;
            continue;
        }
        if (length < 0)
            break;
        idle_ms = 0;
        char text[16];
        net::format_ipv4_address(from, text);
        int32_t sent = udp_send(server, from, from_port, buffer, size_t(length));
        if (sent < 0) {
            console_print("udpecho: %lld bytes from %s:%u not echoed: %s\n", (long long)length, text, from_port,
                error_description(Error(-sent)));
            continue;
        }
        echoed++;
        console_print("udpecho: %lld bytes from %s:%u echoed\n", (long long)length, text, from_port);
    }
    udp_close(server);
    console_print("udpecho: %llu datagram(s) echoed\n", (unsigned long long)echoed);
    return echoed == count ? 0 : 1;
}

// An echo server bound on 127.0.0.1:PORT for the length of the command,
// a client that sends TEXT and prints what the server sent back.
int udpecho_command(int argc, char** argv)
{
    uint64_t port = 7;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-l") == 0) {
        uint64_t count = 1, seconds = 60;
        for (int i = 2; i < argc; i += 2) {
            bool good = i + 1 < argc;
            if (good && strcmp(argv[i], "-p") == 0)
                good = parse_count(argv[i + 1], 65535, &port) && port != 0;
            else if (good && strcmp(argv[i], "-c") == 0)
                good = parse_count(argv[i + 1], 100000, &count) && count != 0;
            else if (good && strcmp(argv[i], "-w") == 0)
                good = parse_count(argv[i + 1], 3600, &seconds) && seconds != 0;
            else
                good = false;
            if (!good)
                return udpecho_usage();
        }
        return udpecho_serve(port, count, seconds);
    }
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
    InetSymbol<keel_udp_open_fn> udp_open("keel_udp_open", kUdpNode);
    InetSymbol<keel_udp_port_fn> udp_port("keel_udp_port", kUdpNode);
    InetSymbol<keel_udp_send_fn> udp_send("keel_udp_send", kUdpNode);
    InetSymbol<keel_udp_receive_fn> udp_receive("keel_udp_receive", kUdpNode);
    InetSymbol<keel_udp_close_fn> udp_close("keel_udp_close", kUdpNode);
    if (!(udp_open && udp_port && udp_send && udp_receive && udp_close) && module_missing("udpecho", "udp"))
        return 2;
    Ipv4Address localhost = net::ipv4(127, 0, 0, 1);
    keel_udp* server = nullptr;
    keel_udp* client = nullptr;
    if (int32_t bound = udp_open(uint16_t(port), &server); bound < 0) {
        console_print("udpecho: bind 127.0.0.1:%llu: %s\n", (unsigned long long)port, error_description(Error(-bound)));
        return 1;
    }
    int status = 1;
    if (int32_t bound = udp_open(uint16_t(0), &client); bound < 0) {
        console_print("udpecho: bind: %s\n", error_description(Error(-bound)));
    } else {
        uint8_t buffer[kConsoleMaxLine + 1];
        int32_t sent = udp_send(client, localhost, uint16_t(port), reinterpret_cast<const uint8_t*>(text), length);
        // The server answers only the client's datagram: the port is open
        // on every address, and another host's datagram is no request.
        // keel_udp_receive returns a datagram's whole length, which may be
        // more than the buffer took.
        int64_t request = sent < 0 ? sent : -int64_t(Error::ETIMEDOUT);
        uint64_t deadline = time::monotonic_ns() + uint64_t(kReplyTimeoutMs) * 1000000;
        for (uint64_t now = time::monotonic_ns(); sent >= 0 && now < deadline; now = time::monotonic_ns()) {
            uint32_t from = 0;
            uint16_t from_port = 0;
            request = udp_receive(
                server, buffer, sizeof(buffer), &from, &from_port, uint32_t((deadline - now) / 1000000 + 1));
            if (request < 0 || (from == localhost && from_port == udp_port(client)))
                break;
            request = -int64_t(Error::ETIMEDOUT);
        }
        if (request >= 0)
            (void)udp_send(server, localhost, udp_port(client), buffer, min(size_t(request), sizeof(buffer)));
        int64_t answer
            = request < 0 ? request : udp_receive(client, buffer, sizeof(buffer), nullptr, nullptr, kReplyTimeoutMs);
        if (answer >= 0) {
            answer = min(answer, int64_t(sizeof(buffer)));
            console_print("%.*s\n", int(answer), reinterpret_cast<const char*>(buffer));
            console_print("udpecho: %lld bytes from 127.0.0.1:%llu to port %u and back\n", (long long)answer,
                (unsigned long long)port, udp_port(client));
            status = 0;
        } else {
            console_print("udpecho: no answer\n");
        }
        udp_close(client);
    }
    udp_close(server);
    return status;
}

} // namespace

KEEL_CONSOLE_COMMAND(
    ping, "ping", "[-c COUNT] [-s SIZE] [-i INTERVAL] HOST", "send ICMP echo requests (icmp.kmod)", ping_command);
KEEL_CONSOLE_COMMAND(udpecho, "udpecho", "[-p PORT] TEXT | -l [-p PORT] [-c COUNT] [-w SECONDS]",
    "send TEXT to a UDP echo server on 127.0.0.1 and back, or (-l) serve UDP echo", udpecho_command);

} // namespace keel
