#include "net/socket_tools.h"

#include "console/console.h"
#include "lib/base/errno.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "net/socket.h"
#include "time/clock.h"

namespace keel::net {

keel_socket* tool_socket(const char* tool, uint32_t type)
{
    keel_socket* socket = nullptr;
    int32_t status = socket_create(KEEL_AF_INET, type, &socket);
    if (status == -int32_t(Error::EAFNOSUPPORT)) {
        const char* protocol = type == KEEL_SOCK_STREAM ? "tcp" : "udp";
        console_print("%s: %s is not loaded (insmod %s)\n", tool, protocol, protocol);
        return nullptr;
    }
    if (status) {
        console_print("%s: socket: %s\n", tool, error_description(Error(-status)));
        return nullptr;
    }
    return socket;
}

void SocketGuard::socket_close_if_open()
{
    socket_close(m_socket);
    m_socket = nullptr;
}

bool parse_port(const char* text, uint16_t* port)
{
    Result<uint64_t> value = parse_uint(text, strlen(text));
    if (value.is_error() || value.value() == 0 || value.value() > 65535)
        return false;
    *port = uint16_t(value.value());
    return true;
}

bool parse_host(const char* text, uint32_t* address)
{
    auto parsed = parse_ipv4_address(text);
    if (parsed.is_error())
        return false;
    *address = parsed.value();
    return true;
}

bool parse_timeout(const char* text, uint32_t* seconds)
{
    Result<uint64_t> value = parse_uint(text, strlen(text));
    if (value.is_error() || value.value() == 0 || value.value() > 3600)
        return false;
    *seconds = uint32_t(value.value());
    return true;
}

void format_endpoint(const keel_sockaddr& address, char* out, size_t size)
{
    char host[16];
    format_ipv4_address(address.address, host);
    format(out, size, "%s:%u", host, address.port);
}

namespace {

bool g_interrupted = false; // one command runs at a time on the console

// Runs `attempt` with slices of the time left until it gives something
// other than -EAGAIN, the time runs out, or Ctrl-C comes.
template<typename Attempt> int64_t in_slices(uint64_t timeout_ms, Attempt attempt)
{
    uint64_t deadline = time::monotonic_ns() + timeout_ms * 1000000;
    for (;;) {
        uint64_t now = time::monotonic_ns();
        uint64_t left_ms = now >= deadline ? 0 : (deadline - now + 999999) / 1000000;
        uint32_t slice = left_ms < kToolSliceMs ? uint32_t(left_ms) : kToolSliceMs;
        int64_t status = attempt(slice);
        if (status != -int64_t(Error::EAGAIN))
            return status;
        if (console_interrupted()) {
            g_interrupted = true;
            return -int64_t(Error::EINTR);
        }
        if (time::monotonic_ns() >= deadline)
            return status;
    }
}

} // namespace

bool tool_interrupted() { return g_interrupted; }

void tool_interrupt_clear() { g_interrupted = false; }

int32_t tool_accept(keel_socket* socket, keel_socket** out, uint64_t timeout_ms)
{
    return int32_t(in_slices(timeout_ms, [&](uint32_t slice) { return int64_t(socket_accept(socket, out, slice)); }));
}

int64_t tool_receive(keel_socket* socket, void* buffer, size_t capacity, keel_sockaddr* from, uint64_t timeout_ms)
{
    return in_slices(timeout_ms, [&](uint32_t slice) { return socket_receive(socket, buffer, capacity, from, slice); });
}

int64_t tool_send(keel_socket* socket, const void* bytes, size_t length, const keel_sockaddr* to, uint64_t timeout_ms)
{
    const auto* from = static_cast<const uint8_t*>(bytes);
    size_t sent = 0;
    while (sent < length) {
        int64_t status = in_slices(
            timeout_ms, [&](uint32_t slice) { return socket_send(socket, from + sent, length - sent, to, slice); });
        if (status < 0)
            return sent ? int64_t(sent) : status;
        sent += size_t(status);
    }
    return int64_t(sent);
}

} // namespace keel::net
