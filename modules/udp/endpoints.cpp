// KABI_UDP_1.0 (keel/udp.h): UDP endpoints for in-kernel users. An
// endpoint is bound to its port on every address of the host; it sends
// from the address the route to each destination leaves from (a datagram
// the device's full transmit queue refuses is lost, as it always was for
// endpoints; sockets wait for room instead). A receive waits for inet's
// dispatch to deliver, yielding and then sleeping between looks, and gives
// up at its deadline.
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"

using udp::Locked;

namespace {

// How keel_udp_receive waits (as keel_icmp_ping does): yielding for the
// first 200 us (an answer through lo comes within that), then sleeping
// between looks, so that a long wait leaves the CPU to the rest of the
// system instead of spinning through the scheduler.
constexpr uint64_t kSpinNs = 200 * 1000;
constexpr uint64_t kPollNs = 50 * 1000;

} // namespace

int32_t udp::open_locked(uint16_t port, keel_udp** out)
{
    auto* endpoint = keel::net::net_create<keel_udp>();
    if (!endpoint)
        return -KEEL_ENOMEM;
    if (auto bound = g_state.udp->bind(endpoint->socket, port); bound.is_error()) {
        keel::net::net_destroy(endpoint);
        return inet_glue::errno_of(bound.error());
    }
    endpoint->socket.owner = endpoint;
    *out = endpoint;
    return 0;
}

void udp::close_locked(keel_udp* endpoint)
{
    g_state.udp->unbind(endpoint->socket);
    keel::net::net_destroy(endpoint);
}

int32_t udp::send_locked(
    keel_udp* endpoint, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length, bool wait_for_room)
{
    keel_inet_route_info route {};
    route.size = sizeof(route);
    if (int32_t status = keel_inet_route(destination, &route))
        return status;
    auto sent
        = g_state.udp->send(endpoint->socket, route.source, destination, port, bytes, length, inet_glue::now_ms());
    if (sent.is_error() && sent.error() == keel::Error::EAGAIN) {
        if (!wait_for_room)
            return 0;
        endpoint->send_waiting = true;
        return -KEEL_EAGAIN;
    }
    return sent.is_error() ? inet_glue::errno_of(sent.error()) : 0;
}

int64_t udp::try_receive_locked(keel_udp* endpoint, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* port)
{
    keel::net::Ipv4Address source = 0;
    uint16_t source_port = 0;
    keel::net::PacketPtr datagram = g_state.udp->receive(endpoint->socket, &source, &source_port);
    if (!datagram)
        return -KEEL_EAGAIN;
    size_t length = datagram->length();
    memcpy(buffer, datagram->data(), length < capacity ? length : capacity);
    if (from)
        *from = source;
    if (port)
        *port = source_port;
    return int64_t(length);
}

extern "C" KEEL_EXPORT int32_t keel_udp_open(uint16_t port, keel_udp** out)
{
    if (!out)
        return -KEEL_EINVAL;
    Locked locked;
    return udp::open_locked(port, out);
}

extern "C" KEEL_EXPORT uint16_t keel_udp_port(const keel_udp* endpoint)
{
    return endpoint ? endpoint->socket.port() : 0;
}

extern "C" KEEL_EXPORT int32_t keel_udp_send(
    keel_udp* endpoint, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length)
{
    if (!endpoint || (!bytes && length))
        return -KEEL_EINVAL;
    Locked locked;
    return udp::send_locked(endpoint, destination, port, bytes, length, false);
}

extern "C" KEEL_EXPORT int64_t keel_udp_receive(
    keel_udp* endpoint, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port, uint32_t timeout_ms)
{
    if (!endpoint || (!buffer && capacity))
        return -KEEL_EINVAL;
    uint64_t started = keel_monotonic_ns();
    uint64_t deadline = started + uint64_t(timeout_ms) * 1000000;
    for (;;) {
        {
            Locked locked;
            int64_t length = udp::try_receive_locked(endpoint, buffer, capacity, from, from_port);
            if (length != -KEEL_EAGAIN)
                return length;
        }
        uint64_t now = keel_monotonic_ns();
        if (now >= deadline)
            return -KEEL_ETIMEDOUT;
        if (now - started < kSpinNs)
            keel_thread_yield();
        else
            keel_sleep_ns(kPollNs < deadline - now ? kPollNs : deadline - now);
    }
}

extern "C" KEEL_EXPORT void keel_udp_close(keel_udp* endpoint)
{
    if (!endpoint)
        return;
    Locked locked;
    udp::close_locked(endpoint);
}
