// KABI_INET_1.0 (keel/inet.h): ping and UDP endpoints over the
// interfaces. An endpoint is bound to its port on every interface there
// is when it opens (as a socket bound to INADDR_ANY); it sends through
// the interface the route picks. The waits yield to the core's receive
// thread, which delivers the answer, and give up at their deadline.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"
#include "sockets.h"

using inet::errno_of;
using inet::Locked;
using keel::net::PacketPtr;

struct keel_inet_udp {
    keel::net::UdpSocket sockets[inet::kMaxInterfaces];
    keel::net::Ipv4Interface* bound[inet::kMaxInterfaces] = {}; // where sockets[i] is bound
    keel_inet_udp* next = nullptr;                              // in g_endpoints
};

namespace {

constexpr uint32_t kMaxPingData = 65507;

keel_inet_udp* g_endpoints = nullptr; // the open ones, under the lock

void unbind_all(keel_inet_udp* udp)
{
    for (size_t i = 0; i < inet::kMaxInterfaces; i++) {
        if (udp->bound[i])
            udp->bound[i]->udp_unbind(udp->sockets[i]);
        udp->bound[i] = nullptr;
    }
}

uint64_t deadline_after(uint32_t timeout_ms) { return keel_monotonic_ns() + uint64_t(timeout_ms) * 1000000; }

} // namespace

extern "C" KEEL_EXPORT int32_t keel_inet_ping(uint32_t destination, uint16_t identifier, uint16_t sequence,
    uint32_t size, uint32_t timeout_ms, uint32_t* from, uint32_t* length, uint32_t* ttl)
{
    if (size > kMaxPingData)
        return -KEEL_EINVAL;
    uint64_t seen;
    uint32_t index;
    {
        Locked locked;
        inet::Interface* interface = inet::route(destination);
        if (!interface)
            return -KEEL_ENETUNREACH;
        index = interface->index;
        seen = interface->host->stats().echo_replies_received;
        auto sent = interface->host->ping(destination, identifier, sequence, size, inet::now_ms());
        if (sent.is_error())
            return errno_of(sent.error());
    }
    uint64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        {
            Locked locked;
            inet::Interface* interface = inet::find_interface(index);
            if (!interface)
                return -KEEL_ENETDOWN; // its device went away
            const auto& stats = interface->host->stats();
            const auto& reply = interface->host->last_echo_reply();
            if (stats.echo_replies_received != seen && reply.identifier == identifier && reply.sequence == sequence) {
                if (from)
                    *from = reply.from;
                if (length)
                    *length = uint32_t(reply.length);
                if (ttl)
                    *ttl = reply.ttl;
                return 0;
            }
        }
        if (keel_monotonic_ns() >= deadline)
            return -KEEL_ETIMEDOUT;
        keel_thread_yield();
    }
}

extern "C" KEEL_EXPORT int32_t keel_inet_address(uint32_t ifindex, uint32_t* address, uint32_t* prefix_length)
{
    Locked locked;
    inet::Interface* interface = inet::find_interface(ifindex);
    if (!interface)
        return -KEEL_ENOENT;
    const auto& config = interface->host->config();
    if (address)
        *address = config.address;
    if (prefix_length)
        *prefix_length = config.prefix_length;
    return 0;
}

int32_t inet::udp_open_locked(uint16_t port, keel_inet_udp** out)
{
    auto* udp = keel::net::net_create<keel_inet_udp>();
    if (!udp)
        return -KEEL_ENOMEM;
    for (size_t i = 0; i < inet::kMaxInterfaces; i++) {
        inet::Interface& interface = g_state.interfaces[i];
        if (!interface.index)
            continue;
        // The first binding picks the port (0: an ephemeral one); the others take the same.
        if (auto bound = interface.host->udp_bind(udp->sockets[i], port); bound.is_error()) {
            unbind_all(udp);
            keel::net::net_destroy(udp);
            return errno_of(bound.error());
        }
        udp->bound[i] = interface.host;
        port = udp->sockets[i].port();
    }
    udp->next = g_endpoints;
    g_endpoints = udp;
    *out = udp;
    return 0;
}

void inet::udp_close_locked(keel_inet_udp* udp)
{
    unbind_all(udp);
    for (keel_inet_udp** link = &g_endpoints; *link; link = &(*link)->next) {
        if (*link == udp) {
            *link = udp->next;
            break;
        }
    }
    keel::net::net_destroy(udp);
}

uint16_t inet::udp_port(const keel_inet_udp* udp)
{
    return udp->sockets[0].port(); // lo's binding, there as long as inet is
}

int32_t inet::udp_send_locked(
    keel_inet_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length)
{
    inet::Interface* interface = inet::route(destination);
    size_t slot = interface ? size_t(interface - g_state.interfaces) : 0;
    if (!interface || udp->bound[slot] != interface->host)
        return -KEEL_ENETUNREACH; // no route, or the interface came after the endpoint
    auto sent = interface->host->udp_send(udp->sockets[slot], destination, port, bytes, length, inet::now_ms());
    return sent.is_error() ? errno_of(sent.error()) : 0;
}

int64_t inet::udp_try_receive_locked(
    keel_inet_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port)
{
    keel::net::Ipv4Address source = 0;
    uint16_t source_port = 0;
    PacketPtr datagram;
    for (size_t i = 0; i < inet::kMaxInterfaces && !datagram; i++) {
        if (udp->bound[i])
            datagram = udp->bound[i]->udp_receive(udp->sockets[i], &source, &source_port);
    }
    if (!datagram)
        return -KEEL_EAGAIN;
    size_t length = datagram->length();
    memcpy(buffer, datagram->data(), length < capacity ? length : capacity);
    if (from)
        *from = source;
    if (from_port)
        *from_port = source_port;
    return int64_t(length);
}

size_t inet::udp_queued(const keel_inet_udp* udp)
{
    size_t queued = 0;
    for (size_t i = 0; i < inet::kMaxInterfaces; i++)
        queued += udp->bound[i] ? udp->sockets[i].queued() : 0;
    return queued;
}

extern "C" KEEL_EXPORT int32_t keel_inet_udp_open(uint16_t port, keel_inet_udp** out)
{
    if (!out)
        return -KEEL_EINVAL;
    Locked locked;
    return inet::udp_open_locked(port, out);
}

extern "C" KEEL_EXPORT uint16_t keel_inet_udp_port(const keel_inet_udp* udp) { return udp ? inet::udp_port(udp) : 0; }

extern "C" KEEL_EXPORT int32_t keel_inet_udp_send(
    keel_inet_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length)
{
    if (!udp || (!bytes && length))
        return -KEEL_EINVAL;
    Locked locked;
    return inet::udp_send_locked(udp, destination, port, bytes, length);
}

extern "C" KEEL_EXPORT int64_t keel_inet_udp_receive(
    keel_inet_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* from_port, uint32_t timeout_ms)
{
    if (!udp || (!buffer && capacity))
        return -KEEL_EINVAL;
    uint64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        {
            Locked locked;
            int64_t length = inet::udp_try_receive_locked(udp, buffer, capacity, from, from_port);
            if (length != -KEEL_EAGAIN)
                return length;
        }
        if (keel_monotonic_ns() >= deadline)
            return -KEEL_ETIMEDOUT;
        keel_thread_yield();
    }
}

extern "C" KEEL_EXPORT void keel_inet_udp_close(keel_inet_udp* udp)
{
    if (!udp)
        return;
    Locked locked;
    inet::udp_close_locked(udp);
}

void inet::udp_forget(keel::net::Ipv4Interface* host)
{
    for (keel_inet_udp* udp = g_endpoints; udp; udp = udp->next) {
        for (size_t i = 0; i < kMaxInterfaces; i++) {
            if (udp->bound[i] == host) {
                host->udp_unbind(udp->sockets[i]);
                udp->bound[i] = nullptr;
            }
        }
    }
}
