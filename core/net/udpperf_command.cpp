// udpperf: UDP datagram rates over kernel sockets, with iperf's options
// where they fit (docs/networking.md, scripts/bench-net.py):
//   udpperf -s [-e] [-p PORT] [-t SECONDS] [-w SECONDS]
//       counts the datagrams that arrive on 0.0.0.0:PORT (5001), with -e
//       sends each back to where it came from; stops SECONDS (10) after
//       the first, once none came for a second, or when none came within
//       -w SECONDS (30); prints how many came between the first and the
//       last, and their rate;
//   udpperf -c HOST [-p PORT] [-l LENGTH] [-t SECONDS]
//       sends LENGTH-byte (1400) datagrams to HOST:PORT for SECONDS (10),
//       as fast as the socket takes them, and prints how many it sent.
#include "console/console.h"
#include "lib/base/errno.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/cmdline/cmdline.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "net/socket.h"
#include "net/socket_tools.h"
#include "time/clock.h"

namespace keel::net {

namespace {

constexpr size_t kMaxLength = 8192;
constexpr uint64_t kQuietUs = 1000000;

struct UdpperfOptions {
    bool server = false;
    bool echo = false;
    uint32_t host = 0;
    uint16_t port = 5001;
    size_t length = 1400;
    uint32_t seconds = 10;
    uint32_t wait_seconds = 30;
};

uint8_t g_buffer[kMaxLength]; // one command runs at a time on the console

int udpperf_usage()
{
    console_print("usage: udpperf -s [-e] [-p PORT] [-t SECONDS] [-w SECONDS]\n"
                  "       udpperf -c HOST [-p PORT] [-l LENGTH] [-t SECONDS] (LENGTH 1 to %zu)\n",
        kMaxLength);
    return 2;
}

// Datagrams per second over `count - 1` gaps between the first and the last.
uint64_t per_second(uint64_t count, uint64_t span_us)
{
    return count > 1 && span_us ? (count - 1) * 1000000 / span_us : 0;
}

int udpperf_server(const UdpperfOptions& options)
{
    SocketGuard socket(tool_socket("udpperf", KEEL_SOCK_DGRAM));
    if (!socket.get())
        return 1;
    keel_sockaddr local { KEEL_AF_INET, options.port, 0 };
    if (int32_t status = socket_bind(socket.get(), &local)) {
        console_print("udpperf: bind 0.0.0.0:%u: %s\n", options.port, error_description(Error(-status)));
        return 1;
    }
    console_print("udpperf: listening on 0.0.0.0:%u%s\n", options.port, options.echo ? ", echoing" : "");
    keel_sockaddr peer {};
    int64_t length
        = tool_receive(socket.get(), g_buffer, sizeof(g_buffer), &peer, uint64_t(options.wait_seconds) * 1000);
    if (length < 0) {
        console_print("udpperf: %s\n",
            length == -int64_t(Error::EAGAIN) ? "no datagram came" : error_description(Error(-length)));
        return length == -int64_t(Error::EINTR) ? 130 : 1;
    }
    uint64_t first_us = time::monotonic_us();
    uint64_t last_us = first_us;
    uint64_t end_us = first_us + uint64_t(options.seconds) * 1000000;
    uint64_t count = 0, bytes = 0, failed = 0;
    for (;;) {
        count++;
        bytes += uint64_t(length);
        if (options.echo && socket_send(socket.get(), g_buffer, size_t(length), &peer, 0) < 0)
            failed++;
        uint64_t now = time::monotonic_us();
        if (now >= end_us)
            break;
        uint64_t left_us = min(end_us - now, kQuietUs);
        keel_sockaddr from {};
        length = tool_receive(socket.get(), g_buffer, sizeof(g_buffer), &from, (left_us + 999) / 1000);
        if (length == -int64_t(Error::EINTR))
            return 130;
        if (length < 0)
            break;
        last_us = time::monotonic_us();
        if (options.echo)
            peer = from;
    }
    char source[24];
    format_endpoint(peer, source, sizeof(source));
    uint64_t span_us = last_us - first_us;
    console_print("udpperf: %llu datagrams, %llu bytes in %llu us from %s (%llu datagrams/s)",
        (unsigned long long)count, (unsigned long long)bytes, (unsigned long long)span_us, source,
        (unsigned long long)per_second(count, span_us));
    if (options.echo)
        console_print(", %llu echoed", (unsigned long long)(count - failed));
    console_print("\n");
    return 0;
}

int udpperf_client(const UdpperfOptions& options)
{
    SocketGuard socket(tool_socket("udpperf", KEEL_SOCK_DGRAM));
    if (!socket.get())
        return 1;
    keel_sockaddr peer { KEEL_AF_INET, options.port, options.host };
    if (int32_t status = socket_connect(socket.get(), &peer, 0)) {
        console_print("udpperf: connect: %s\n", error_description(Error(-status)));
        return 1;
    }
    for (size_t i = 0; i < options.length; i++)
        g_buffer[i] = uint8_t(i);
    uint64_t start_us = time::monotonic_us();
    uint64_t end_us = start_us + uint64_t(options.seconds) * 1000000;
    uint64_t sent = 0, refused = 0, now = start_us;
    while (now < end_us) {
        // A waiting send stops at the end of the time, as a full queue may keep it.
        uint64_t left_ms = (end_us - now + 999) / 1000;
        int64_t status
            = socket_send(socket.get(), g_buffer, options.length, nullptr, uint32_t(min<uint64_t>(left_ms, 200)));
        now = time::monotonic_us();
        if (status == int64_t(options.length))
            sent++;
        else if (status != -int64_t(Error::EAGAIN) || now < end_us)
            refused++; // not a send the end of the time cut short while it waited for room
        if ((sent & 255) == 0 && console_interrupted())
            return 130;
    }
    uint64_t span_us = now - start_us;
    console_print("udpperf: %llu datagrams, %llu bytes sent in %llu us (%llu datagrams/s), %llu refused\n",
        (unsigned long long)sent, (unsigned long long)sent * options.length, (unsigned long long)span_us,
        (unsigned long long)(span_us ? sent * 1000000 / span_us : 0), (unsigned long long)refused);
    return sent ? 0 : 1;
}

bool parse_length(const char* text, size_t* length)
{
    Result<uint64_t> value = parse_uint(text, strlen(text));
    if (value.is_error() || value.value() == 0 || value.value() > kMaxLength)
        return false;
    *length = size_t(value.value());
    return true;
}

int udpperf_command(int argc, char** argv)
{
    UdpperfOptions options;
    bool client = false;
    for (int i = 1; i < argc; i++) {
        const char* option = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        bool good = true;
        if (strcmp(option, "-s") == 0)
            options.server = true;
        else if (strcmp(option, "-e") == 0)
            options.echo = true;
        else if (strcmp(option, "-c") == 0 && value)
            good = (client = parse_host(argv[++i], &options.host));
        else if (strcmp(option, "-p") == 0 && value)
            good = parse_port(argv[++i], &options.port);
        else if (strcmp(option, "-l") == 0 && value)
            good = parse_length(argv[++i], &options.length);
        else if (strcmp(option, "-t") == 0 && value)
            good = parse_timeout(argv[++i], &options.seconds);
        else if (strcmp(option, "-w") == 0 && value)
            good = parse_timeout(argv[++i], &options.wait_seconds);
        else
            good = false;
        if (!good)
            return udpperf_usage();
    }
    if (options.server == client || (options.echo && !options.server))
        return udpperf_usage();
    return options.server ? udpperf_server(options) : udpperf_client(options);
}

} // namespace

KEEL_CONSOLE_COMMAND(udpperf, "udpperf",
    "-s [-e] [-p PORT] [-t SECONDS] [-w SECONDS] | -c HOST [-p PORT] [-l LENGTH] [-t SECONDS]",
    "count (or echo, -e) the UDP datagrams arriving on PORT, or send datagrams to HOST:PORT for SECONDS",
    udpperf_command);

} // namespace keel::net
