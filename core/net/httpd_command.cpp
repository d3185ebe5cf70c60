// httpd [-p PORT] [-c COUNT] [-w SECONDS] DIR: serves the files under DIR
// over HTTP/1.0 on 0.0.0.0:PORT (80 by default), one connection at a
// time, until COUNT requests were answered, SECONDS (60 by default) pass
// without a connection, or Ctrl-C. GET and HEAD of regular files; a
// directory's index.html; 400, 403, 404, 405, 414 and 505 otherwise. One
// log line a request, as a server's access log has. What a client sends
// beyond its request's head is read and dropped before the close (a
// lingering close), so that the close is not a reset.
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/errno.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "lib/http/http.h"
#include "log/log.h"
#include "net/socket.h"
#include "net/socket_tools.h"
#include "time/clock.h"
#include "vfs/vfs.h"

namespace keel::net {

namespace {

constexpr uint64_t kRequestTimeoutMs = 10000;
constexpr uint64_t kSendStallMs = 30000;
constexpr size_t kChunk = 32 * 1024;
constexpr size_t kMaxFullPath = 512;
constexpr uint64_t kLingerMs = 2000;
constexpr size_t kLingerBytes = 1024 * 1024;

uint8_t g_request[http::kMaxHead];
uint8_t g_chunk[kChunk];

struct Server {
    VfsContext* context;
    const char* root;
    uint64_t served = 0;
};

int httpd_usage()
{
    console_print("usage: httpd [-p PORT] [-c COUNT] [-w SECONDS] DIR\n");
    return 2;
}

void send_head(keel_socket* socket, uint16_t status, uint64_t length)
{
    char head[256];
    size_t head_length = format(head, sizeof(head),
        "HTTP/1.0 %u %s\r\nServer: keel-httpd\r\nContent-Type: %s\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n",
        status, http::reason_phrase(status), status == 200 ? "application/octet-stream" : "text/plain",
        (unsigned long long)length);
    (void)tool_send(socket, head, head_length, nullptr, kSendStallMs);
}

// An error page: the status line again as the body.
uint64_t send_error(keel_socket* socket, uint16_t status, bool with_body)
{
    char body[64];
    size_t length = format(body, sizeof(body), "%u %s\n", status, http::reason_phrase(status));
    send_head(socket, status, length);
    if (with_body)
        (void)tool_send(socket, body, length, nullptr, kSendStallMs);
    return length;
}

// The file's bytes after its head; the bytes sent.
uint64_t send_file(keel_socket* socket, File& file, uint64_t size)
{
    uint64_t sent = 0;
    while (sent < size) {
        // No more than the head said, whatever the file has grown to since.
        auto got = vfs_read(file, g_chunk, size_t(min<uint64_t>(kChunk, size - sent)));
        if (got.is_error() || got.value() == 0)
            break; // shorter than it said: the client sees Content-Length unmet
        int64_t done = tool_send(socket, g_chunk, got.value(), nullptr, kSendStallMs);
        if (done <= 0)
            break;
        sent += uint64_t(done);
        if (size_t(done) < got.value())
            break;
    }
    return sent;
}

// Answers one request; its status and the body bytes sent.
uint16_t answer(Server& server, keel_socket* socket, const http::Request& request, uint64_t* sent)
{
    bool with_body = request.method == http::Method::Get;
    if (request.method == http::Method::Other) {
        *sent = send_error(socket, 405, true);
        return 405;
    }
    if (!http::path_is_safe(request.path)) {
        *sent = send_error(socket, 403, with_body);
        return 403;
    }
    char path[kMaxFullPath];
    size_t length = format(path, sizeof(path), "%s%s", server.root, request.path);
    if (length >= sizeof(path) - 16) {
        *sent = send_error(socket, 414, with_body);
        return 414;
    }
    auto found = vfs_stat(*server.context, path, true);
    if (!found.is_error() && (found.value().attr.mode & KEEL_S_IFMT) == KEEL_S_IFDIR)
        format(path + length, sizeof(path) - length, "%sindex.html", path[length - 1] == '/' ? "" : "/");
    auto stat = vfs_stat(*server.context, path, true);
    if (stat.is_error()) {
        uint16_t status = stat.error() == Error::EACCES ? 403 : 404;
        *sent = send_error(socket, status, with_body);
        return status;
    }
    if ((stat.value().attr.mode & KEEL_S_IFMT) != KEEL_S_IFREG) {
        *sent = send_error(socket, 403, with_body);
        return 403;
    }
    auto file = vfs_open(*server.context, path, kOpenReadOnly, 0);
    if (file.is_error()) {
        *sent = send_error(socket, 404, with_body);
        return 404;
    }
    uint64_t size = stat.value().attr.size;
    send_head(socket, 200, size);
    *sent = with_body ? send_file(socket, *file.value(), size) : 0;
    vfs_close(file.value());
    return 200;
}

// After the response: what the client still sends (a body httpd does not
// read, the rest of a head too long) is read and dropped until it closes,
// for up to 2 s and 1 MiB. Closing with received bytes unread resets the
// connection (RFC 1122 4.2.2.13), and a reset can make the client throw
// away the response it has not read yet.
void linger(keel_socket* socket)
{
    uint64_t deadline = time::monotonic_ns() + kLingerMs * 1000000;
    for (size_t dropped = 0; dropped < kLingerBytes;) {
        uint64_t now = time::monotonic_ns();
        if (now >= deadline)
            return;
        int64_t length = tool_receive(socket, g_request, sizeof(g_request), nullptr, (deadline - now) / 1000000 + 1);
        if (length <= 0)
            return;
        dropped += size_t(length);
    }
}

void serve(Server& server, keel_socket* socket)
{
    keel_socket_info info {};
    info.size = sizeof(info);
    info.version = KEEL_SOCKET_INFO_VERSION;
    char peer[24] = "?";
    if (socket_info(socket, &info) == 0)
        format_endpoint(info.remote, peer, sizeof(peer));
    size_t have = 0;
    size_t head_length = 0;
    bool too_long = false;
    // One deadline for the whole head: a client sending a byte now and
    // then must not hold the server, which serves one at a time.
    uint64_t deadline = time::monotonic_ns() + kRequestTimeoutMs * 1000000;
    while (!head_length) {
        auto end = http::find_head_end(g_request, have);
        if (end.is_error()) {
            too_long = true;
            break;
        }
        head_length = end.value();
        if (head_length)
            break;
        uint64_t now = time::monotonic_ns();
        int64_t length = now >= deadline
            ? -int64_t(Error::EAGAIN)
            : tool_receive(socket, g_request + have, sizeof(g_request) - have, nullptr, (deadline - now) / 1000000 + 1);
        if (length <= 0) {
            console_print(
                "httpd: %s: no request (%s)\n", peer, length == 0 ? "closed" : error_description(Error(-length)));
            return;
        }
        have += size_t(length);
    }
    uint64_t sent = 0;
    uint16_t status;
    char line[96] = "";
    if (too_long) {
        status = 431;
        sent = send_error(socket, status, true);
    } else {
        size_t line_length = 0;
        while (line_length < head_length && line_length + 1 < sizeof(line) && g_request[line_length] != '\r'
            && g_request[line_length] != '\n') {
            uint8_t c = g_request[line_length];
            line[line_length++] = c >= ' ' && c < 0x7f ? char(c) : '?';
        }
        line[line_length] = 0;
        Diagnostic problem;
        auto request = http::parse_request(g_request, head_length, problem);
        if (request.is_error()) {
            status = request.error() == Error::ENOTSUP ? 505 : 400;
            sent = send_error(socket, status, true);
        } else {
            status = answer(server, socket, request.value(), &sent);
        }
    }
    socket_shutdown(socket, KEEL_SHUT_WR);
    linger(socket);
    server.served++;
    console_print("httpd: %s \"%s\" %u %llu\n", peer, line, status, (unsigned long long)sent);
}

int httpd_command(int argc, char** argv)
{
    uint16_t port = 80;
    uint64_t count = 0;
    uint32_t seconds = 60;
    const char* root = nullptr;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            if (!parse_port(argv[++i], &port))
                return httpd_usage();
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            auto value = parse_uint(argv[i + 1], strlen(argv[i + 1]));
            if (value.is_error() || value.value() == 0)
                return httpd_usage();
            count = value.value();
            i++;
        } else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
            if (!parse_timeout(argv[++i], &seconds))
                return httpd_usage();
        } else if (argv[i][0] == '-' || root) {
            return httpd_usage();
        } else {
            root = argv[i];
        }
    }
    if (!root)
        return httpd_usage();
    VfsContext* context = console_vfs_context_or_complain("httpd");
    if (!context)
        return 1;
    auto stat = vfs_stat(*context, root, true);
    if (stat.is_error())
        return console_vfs_failure("httpd", "cannot serve", root, stat.error());
    if ((stat.value().attr.mode & KEEL_S_IFMT) != KEEL_S_IFDIR)
        return console_vfs_failure("httpd", "cannot serve", root, Error::ENOTDIR);
    // "/" serves as "", so that request paths join without a double slash.
    size_t root_length = strlen(root);
    while (root_length > 0 && root[root_length - 1] == '/')
        root_length--;
    char root_path[kMaxFullPath / 2];
    if (root_length >= sizeof(root_path))
        return console_vfs_failure("httpd", "cannot serve", root, Error::ENAMETOOLONG);
    memcpy(root_path, root, root_length);
    root_path[root_length] = 0;

    SocketGuard listener(tool_socket("httpd", KEEL_SOCK_STREAM));
    if (!listener.get())
        return 1;
    keel_sockaddr local { KEEL_AF_INET, port, 0 };
    int32_t status = socket_bind(listener.get(), &local);
    if (status == 0)
        status = socket_listen(listener.get(), 8);
    if (status) {
        console_print("httpd: bind 0.0.0.0:%u: %s\n", port, error_description(Error(-status)));
        return 1;
    }
    console_print("httpd: serving %s on 0.0.0.0:%u\n", root, port);
    Server server { context, root_path };
    int result = 0;
    tool_interrupt_clear();
    while ((count == 0 || server.served < count) && !tool_interrupted()) {
        keel_socket* accepted = nullptr;
        status = tool_accept(listener.get(), &accepted, uint64_t(seconds) * 1000);
        if (status == -int32_t(Error::EINTR)) {
            result = 130;
            break;
        }
        if (status) {
            if (status != -int32_t(Error::EAGAIN))
                console_print("httpd: accept: %s\n", error_description(Error(-status)));
            break;
        }
        SocketGuard connection(accepted);
        serve(server, connection.get());
    }
    if (tool_interrupted())
        result = 130;
    console_print("httpd: %llu request(s) served\n", (unsigned long long)server.served);
    return result;
}

} // namespace

KEEL_CONSOLE_COMMAND(httpd, "httpd", "[-p PORT] [-c COUNT] [-w SECONDS] DIR",
    "serve the files under DIR over HTTP/1.0 (one connection at a time)", httpd_command);

} // namespace keel::net
