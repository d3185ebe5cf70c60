// nc: a TCP or UDP client or one-connection server, with OpenBSD nc's
// options where they fit a console without standard input:
//   nc [-u] [-w SECONDS] HOST PORT [TEXT...]
//       connects, sends TEXT and a newline (then, over TCP, ends its side
//       of the stream), and prints what arrives until the peer closes or
//       SECONDS (5 by default) pass without anything;
//   nc -l [-u] [-w SECONDS] PORT [TEXT...]
//       listens on 0.0.0.0:PORT, takes one connection (over UDP: the first
//       datagram's sender), sends it TEXT and a newline, and prints what
//       arrives until the peer closes or SECONDS (30 by default) pass
//       without anything.
#include "console/console.h"
#include "lib/base/errno.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "net/socket.h"
#include "net/socket_tools.h"

namespace keel::net {

namespace {

constexpr uint32_t kConnectTimeoutMs = 10000;

struct NcOptions {
    bool listen = false;
    bool udp = false;
    uint32_t seconds = 0;
    uint32_t host = 0;
    uint16_t port = 0;
    int text_count = 0;
    char** text = nullptr;
};

int nc_usage()
{
    console_print("usage: nc [-u] [-w SECONDS] HOST PORT [TEXT...]\n"
                  "       nc -l [-u] [-w SECONDS] PORT [TEXT...]\n");
    return 2;
}

// TEXT words joined by spaces, and a newline.
size_t join_text(const NcOptions& options, char* out, size_t size)
{
    size_t length = 0;
    for (int i = 0; i < options.text_count; i++)
        length += format(out + length, size - length, "%s%s", i ? " " : "", options.text[i]);
    if (options.text_count)
        length += format(out + length, size - length, "\n");
    return length < size ? length : size - 1;
}

// Prints what arrives until the end, a quiet `seconds`, an error or Ctrl-C.
int print_until_end(keel_socket* socket, const NcOptions& options, keel_sockaddr* peer)
{
    static uint8_t buffer[2048];
    for (;;) {
        keel_sockaddr from {};
        int64_t length = tool_receive(socket, buffer, sizeof(buffer), &from, uint64_t(options.seconds) * 1000);
        if (length == 0 || length == -int64_t(Error::EAGAIN))
            return 0;
        if (length == -int64_t(Error::EINTR))
            return 130;
        if (length < 0) {
            console_print("nc: %s\n", error_description(Error(-length)));
            return 1;
        }
        if (peer && peer->port == 0)
            *peer = from;
        console_print("%.*s", int(length), reinterpret_cast<const char*>(buffer));
    }
}

int nc_send(keel_socket* socket, const NcOptions& options, const keel_sockaddr* to)
{
    char text[kConsoleMaxLine + 2];
    size_t length = join_text(options, text, sizeof(text));
    if (!length)
        return 0;
    int64_t sent = tool_send(socket, text, length, to, kConnectTimeoutMs);
    if (sent < 0) {
        console_print("nc: send: %s\n", error_description(Error(-sent)));
        return 1;
    }
    return 0;
}

int nc_client(const NcOptions& options)
{
    SocketGuard socket(tool_socket("nc", options.udp ? KEEL_SOCK_DGRAM : KEEL_SOCK_STREAM));
    if (!socket.get())
        return 1;
    keel_sockaddr peer { KEEL_AF_INET, options.port, options.host };
    if (int32_t status = socket_connect(socket.get(), &peer, kConnectTimeoutMs)) {
        char host[16];
        format_ipv4_address(options.host, host);
        console_print("nc: connect to %s port %u (%s) failed: %s\n", host, options.port, options.udp ? "udp" : "tcp",
            error_description(Error(-status)));
        return 1;
    }
    if (int status = nc_send(socket.get(), options, nullptr))
        return status;
    if (!options.udp && options.text_count)
        socket_shutdown(socket.get(), KEEL_SHUT_WR);
    return print_until_end(socket.get(), options, nullptr);
}

int nc_server(const NcOptions& options)
{
    SocketGuard listener(tool_socket("nc", options.udp ? KEEL_SOCK_DGRAM : KEEL_SOCK_STREAM));
    if (!listener.get())
        return 1;
    keel_sockaddr local { KEEL_AF_INET, options.port, 0 };
    int32_t status = socket_bind(listener.get(), &local);
    if (status == 0 && !options.udp)
        status = socket_listen(listener.get(), 1);
    if (status) {
        console_print("nc: bind 0.0.0.0:%u: %s\n", options.port, error_description(Error(-status)));
        return 1;
    }
    console_print("Listening on 0.0.0.0 %u\n", options.port);
    uint64_t timeout_ms = uint64_t(options.seconds) * 1000;
    if (options.udp) {
        // The first datagram names the peer; the answer goes to it.
        keel_sockaddr peer {};
        static uint8_t first[2048];
        int64_t length = tool_receive(listener.get(), first, sizeof(first), &peer, timeout_ms);
        if (length < 0) {
            console_print(
                "nc: %s\n", length == -int64_t(Error::EAGAIN) ? "no datagram came" : error_description(Error(-length)));
            return length == -int64_t(Error::EINTR) ? 130 : 1;
        }
        char from[24];
        format_endpoint(peer, from, sizeof(from));
        console_print("Connection received on %s\n", from);
        console_print("%.*s", int(length), reinterpret_cast<const char*>(first));
        if (int send_status = nc_send(listener.get(), options, &peer))
            return send_status;
        return print_until_end(listener.get(), options, nullptr);
    }
    keel_socket* accepted = nullptr;
    status = tool_accept(listener.get(), &accepted, timeout_ms);
    if (status) {
        console_print(
            "nc: %s\n", status == -int32_t(Error::EAGAIN) ? "no connection came" : error_description(Error(-status)));
        return status == -int32_t(Error::EINTR) ? 130 : 1;
    }
    SocketGuard connection(accepted);
    listener.reset(nullptr); // one connection, as nc -l takes
    keel_socket_info info {};
    info.size = sizeof(info);
    info.version = KEEL_SOCKET_INFO_VERSION;
    if (socket_info(connection.get(), &info) == 0) {
        char from[24];
        format_endpoint(info.remote, from, sizeof(from));
        console_print("Connection received on %s\n", from);
    }
    if (int send_status = nc_send(connection.get(), options, nullptr))
        return send_status;
    return print_until_end(connection.get(), options, nullptr);
}

int nc_command(int argc, char** argv)
{
    NcOptions options;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "-l") == 0)
            options.listen = true;
        else if (strcmp(argv[i], "-u") == 0)
            options.udp = true;
        else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
            if (!parse_timeout(argv[++i], &options.seconds))
                return nc_usage();
        } else
            return nc_usage();
    }
    if (!options.seconds)
        options.seconds = options.listen ? 30 : 5;
    if (!options.listen) {
        if (i + 2 > argc)
            return nc_usage();
        if (!parse_host(argv[i], &options.host)) {
            console_print("nc: getaddrinfo for host \"%s\" port %s: Name or service not known\n", argv[i], argv[i + 1]);
            return 1;
        }
        i++;
    }
    if (i >= argc || !parse_port(argv[i], &options.port)) {
        if (i < argc)
            console_print("nc: port number invalid: %s\n", argv[i]);
        return i < argc ? 1 : nc_usage();
    }
    options.text = argv + i + 1;
    options.text_count = argc - i - 1;
    return options.listen ? nc_server(options) : nc_client(options);
}

} // namespace

KEEL_CONSOLE_COMMAND(nc, "nc", "[-l] [-u] [-w SECONDS] [HOST] PORT [TEXT...]",
    "TCP or UDP client, or one-connection server (-l), sending TEXT and printing what comes back", nc_command);

} // namespace keel::net
