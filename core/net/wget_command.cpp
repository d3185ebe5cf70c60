// wget [-q] [-O FILE] URL: an HTTP/1.0 GET of http://A.B.C.D[:PORT]/PATH
// into FILE (the URL's last path segment by default; "-" prints it). The
// response head is checked by core/lib/http; a status other than 200, a
// connection that ends before Content-Length or an error while writing
// leaves no file behind and says why.
#include "console/console.h"
#include "console/shell/console_context.h"
#include "lib/base/errno.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/http/http.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "net/socket.h"
#include "net/socket_tools.h"
#include "time/clock.h"
#include "vfs/vfs.h"

namespace keel::net {

namespace {

constexpr uint32_t kConnectTimeoutMs = 10000;
constexpr uint64_t kIdleTimeoutMs = 30000;
constexpr size_t kBufferSize = 64 * 1024;

uint8_t g_buffer[kBufferSize]; // the console runs one command at a time

int wget_usage()
{
    console_print("usage: wget [-q] [-O FILE] URL (URL: http://A.B.C.D[:PORT]/PATH; FILE - prints the body)\n");
    return 2;
}

// Where the body goes: a file, or the console for -O -.
class Sink {
public:
    Sink(VfsContext* context, const char* path)
        : m_context(context)
        , m_path(path)
    {
    }
    ~Sink()
    {
        if (m_file)
            vfs_close(m_file);
    }
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    bool to_console() const { return strcmp(m_path, "-") == 0; }

    bool open()
    {
        if (to_console())
            return true;
        if (!m_context)
            return false;
        auto file = vfs_open(*m_context, m_path, kOpenWriteOnly | kOpenCreate | kOpenTruncate, 0644);
        if (file.is_error()) {
            console_vfs_failure("wget", "cannot open", m_path, file.error());
            return false;
        }
        m_file = file.value();
        return true;
    }

    bool write(const uint8_t* bytes, size_t length)
    {
        if (to_console()) {
            console_print("%.*s", int(length), reinterpret_cast<const char*>(bytes));
            return true;
        }
        if (!m_file)
            return false;
        while (length) {
            auto done = vfs_write(*m_file, bytes, length);
            if (done.is_error()) {
                console_vfs_failure("wget", "cannot write", m_path, done.error());
                return false;
            }
            bytes += done.value();
            length -= done.value();
        }
        return true;
    }

    // Takes away what was written: a failed download leaves nothing.
    void discard()
    {
        if (to_console() || !m_file)
            return;
        vfs_close(m_file);
        m_file = nullptr;
        (void)vfs_unlink(*m_context, m_path);
    }

private:
    VfsContext* m_context;
    const char* m_path;
    File* m_file = nullptr;
};

struct Download {
    const http::Url* url;
    const char* output;
    bool quiet;
};

// Reads the response head into g_buffer; returns it, with how many bytes
// of the body came with it, or prints why not and returns an error.
Result<http::Response> read_head(keel_socket* socket, size_t* have)
{
    *have = 0;
    for (;;) {
        Diagnostic problem;
        auto response = http::parse_response(g_buffer, *have, problem);
        if (response.is_error()) {
            console_print("wget: bad response: %s\n", problem.message);
            return Err(response.error());
        }
        if (response.value().head_length)
            return response;
        int64_t length = tool_receive(socket, g_buffer + *have, http::kMaxHead - *have, nullptr, kIdleTimeoutMs);
        if (length <= 0) {
            console_print("wget: %s\n",
                length == 0 ? "the server closed the connection without an answer" : error_description(Error(-length)));
            return Err(length == 0 ? Error::EBADMSG : Error(-length));
        }
        *have += size_t(length);
    }
}

int download(const Download& job, VfsContext* context)
{
    const http::Url& url = *job.url;
    char host[16];
    format_ipv4_address(url.address, host);
    if (!job.quiet)
        console_print("Connecting to %s:%u (%s:%u)\n", host, url.port, host, url.port);
    SocketGuard socket(tool_socket("wget", KEEL_SOCK_STREAM));
    if (!socket.get())
        return 1;
    keel_sockaddr peer { KEEL_AF_INET, url.port, url.address };
    if (int32_t status = socket_connect(socket.get(), &peer, kConnectTimeoutMs)) {
        console_print("wget: can't connect to remote host (%s): %s\n", host, error_description(Error(-status)));
        return 1;
    }
    char request[http::kMaxPath + 128];
    size_t request_length = format(request, sizeof(request),
        "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: keel-wget\r\nConnection: close\r\n\r\n", url.path, host,
        url.port);
    if (int64_t sent = tool_send(socket.get(), request, request_length, nullptr, kIdleTimeoutMs); sent < 0) {
        console_print("wget: %s\n", error_description(Error(-sent)));
        return 1;
    }
    size_t have = 0;
    auto head = read_head(socket.get(), &have);
    if (head.is_error())
        return 1;
    const http::Response& response = head.value();
    if (response.status != 200) {
        console_print(
            "wget: server returned error: HTTP/1.%u %u %s\n", response.minor, response.status, response.reason);
        return 1;
    }
    Sink sink(context, job.output);
    if (!job.quiet && !sink.to_console())
        console_print("saving to '%s'\n", job.output);
    if (!sink.open())
        return 1;
    uint64_t started = time::monotonic_ns();
    uint64_t received = 0;
    // Bytes past Content-Length are not the file's: they are dropped.
    auto take = [&](const uint8_t* bytes, uint64_t length) {
        if (response.has_length)
            length = min(length, response.content_length - received);
        received += length;
        return sink.write(bytes, size_t(length));
    };
    bool written = take(g_buffer + response.head_length, have - response.head_length);
    while (written && !(response.has_length && received >= response.content_length)) {
        int64_t length = tool_receive(socket.get(), g_buffer, kBufferSize, nullptr, kIdleTimeoutMs);
        if (length == 0)
            break;
        if (length < 0) {
            console_print("wget: %s after %llu bytes\n",
                length == -int64_t(Error::EAGAIN) ? "the server stopped sending" : error_description(Error(-length)),
                (unsigned long long)received);
            sink.discard();
            return length == -int64_t(Error::EINTR) ? 130 : 1;
        }
        written = take(g_buffer, uint64_t(length));
    }
    if (!written) {
        sink.discard();
        return 1;
    }
    if (response.has_length && received != response.content_length) {
        console_print("wget: the connection closed after %llu of %llu bytes\n", (unsigned long long)received,
            (unsigned long long)response.content_length);
        sink.discard();
        return 1;
    }
    uint64_t elapsed_us = (time::monotonic_ns() - started) / 1000 + 1;
    if (!job.quiet && !sink.to_console())
        console_print("'%s' saved (%llu bytes in %llu ms, %llu KiB/s)\n", job.output, (unsigned long long)received,
            (unsigned long long)(elapsed_us / 1000), (unsigned long long)(received * 1000000 / elapsed_us / 1024));
    return 0;
}

int wget_command(int argc, char** argv)
{
    const char* output = nullptr;
    const char* url_text = nullptr;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-O") == 0 && i + 1 < argc)
            output = argv[++i];
        else if (strcmp(argv[i], "-q") == 0)
            quiet = true;
        else if (argv[i][0] == '-' || url_text)
            return wget_usage();
        else
            url_text = argv[i];
    }
    if (!url_text)
        return wget_usage();
    Diagnostic problem;
    auto url = http::parse_url(url_text, problem);
    if (url.is_error()) {
        console_print("wget: %s: %s\n", url_text, problem.message);
        return 1;
    }
    if (!output)
        output = http::url_file_name(url.value());
    VfsContext* context = nullptr;
    if (strcmp(output, "-") != 0) {
        context = console_vfs_context_or_complain("wget");
        if (!context)
            return 1;
    }
    return download(Download { &url.value(), output, quiet }, context);
}

} // namespace

KEEL_CONSOLE_COMMAND(
    wget, "wget", "[-q] [-O FILE] URL", "fetch http://A.B.C.D[:PORT]/PATH into FILE (HTTP/1.0)", wget_command);

} // namespace keel::net
