// What the console's socket tools (nc, wget, httpd) share: opening a
// socket with the message a user needs when inet is not loaded, reading
// HOST and PORT, formatting an address, and waits that Ctrl-C ends.
#pragma once

#include <keel/keel.h>

namespace keel::net {

// A socket of `type` (KEEL_SOCK_STREAM, KEEL_SOCK_DGRAM), or nullptr after
// "TOOL: ..." was printed.
keel_socket* tool_socket(const char* tool, uint32_t type);
// A closing guard for a socket.
class SocketGuard {
public:
    explicit SocketGuard(keel_socket* socket = nullptr)
        : m_socket(socket)
    {
    }
    ~SocketGuard() { socket_close_if_open(); }
    SocketGuard(const SocketGuard&) = delete;
    SocketGuard& operator=(const SocketGuard&) = delete;
    keel_socket* get() const { return m_socket; }
    void reset(keel_socket* socket)
    {
        socket_close_if_open();
        m_socket = socket;
    }

private:
    void socket_close_if_open();
    keel_socket* m_socket;
};

bool parse_port(const char* text, uint16_t* port);
bool parse_host(const char* text, uint32_t* address);
// Seconds, 1 to 3600.
bool parse_timeout(const char* text, uint32_t* seconds);
// "a.b.c.d:port" into `out` (at least 22 bytes).
void format_endpoint(const keel_sockaddr& address, char* out, size_t size);

// How long a tool's waits last before it checks for Ctrl-C again.
constexpr uint32_t kToolSliceMs = 200;

// keel_socket_accept / receive in slices until `timeout_ms` passed or
// Ctrl-C was typed: the result, -EAGAIN when the time ran out, -EINTR for
// Ctrl-C.
int32_t tool_accept(keel_socket* socket, keel_socket** out, uint64_t timeout_ms);
// Whether Ctrl-C ended one of these calls since tool_interrupt_clear():
// the console hands each Ctrl-C out once, and a command that serves one
// connection after another stops on it, not only the call that saw it.
bool tool_interrupted();
void tool_interrupt_clear();
int64_t tool_receive(keel_socket* socket, void* buffer, size_t capacity, keel_sockaddr* from, uint64_t timeout_ms);
// Sends everything (Ctrl-C or a stall of `timeout_ms` ends it): the
// bytes sent, or the error.
int64_t tool_send(keel_socket* socket, const void* bytes, size_t length, const keel_sockaddr* to, uint64_t timeout_ms);

} // namespace keel::net
