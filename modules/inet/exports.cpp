// KABI_INET_1.0 (keel/inet.h): ping and UDP endpoints over the interface.
// The waits yield to the core's receive thread, which delivers the
// answer, and give up at their deadline.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"

using inet::errno_of;
using inet::g_state;
using inet::Locked;
using keel::net::PacketPtr;

struct keel_inet_udp {
    keel::net::UdpSocket socket;
};

namespace {

constexpr uint32_t kMaxPingData = 65507;

uint64_t deadline_after(uint32_t timeout_ms) { return keel_monotonic_ns() + uint64_t(timeout_ms) * 1000000; }

} // namespace

extern "C" KEEL_EXPORT int32_t keel_inet_ping(uint32_t destination, uint16_t identifier, uint16_t sequence,
    uint32_t size, uint32_t timeout_ms, uint32_t* from, uint32_t* length, uint32_t* ttl)
{
    if (size > kMaxPingData)
        return -KEEL_EINVAL;
    uint64_t seen;
    {
        Locked locked;
        seen = g_state.interface->stats().echo_replies_received;
        auto sent = g_state.interface->ping(destination, identifier, sequence, size, inet::now_ms());
        if (sent.is_error())
            return errno_of(sent.error());
    }
    uint64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        {
            Locked locked;
            const auto& stats = g_state.interface->stats();
            const auto& reply = g_state.interface->last_echo_reply();
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
    if (ifindex != g_state.lo_index)
        return -KEEL_ENOENT;
    Locked locked;
    const auto& config = g_state.interface->config();
    if (address)
        *address = config.address;
    if (prefix_length)
        *prefix_length = config.prefix_length;
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_udp_open(uint16_t port, keel_inet_udp** out)
{
    if (!out)
        return -KEEL_EINVAL;
    auto* udp = keel::net::net_create<keel_inet_udp>();
    if (!udp)
        return -KEEL_ENOMEM;
    Locked locked;
    if (auto bound = g_state.interface->udp_bind(udp->socket, port); bound.is_error()) {
        keel::net::net_destroy(udp);
        return errno_of(bound.error());
    }
    *out = udp;
    return 0;
}

extern "C" KEEL_EXPORT uint16_t keel_inet_udp_port(const keel_inet_udp* udp) { return udp ? udp->socket.port() : 0; }

extern "C" KEEL_EXPORT int32_t keel_inet_udp_send(
    keel_inet_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length)
{
    if (!udp || (!bytes && length))
        return -KEEL_EINVAL;
    Locked locked;
    auto sent = g_state.interface->udp_send(udp->socket, destination, port, bytes, length, inet::now_ms());
    return sent.is_error() ? errno_of(sent.error()) : 0;
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
            keel::net::Ipv4Address source = 0;
            uint16_t source_port = 0;
            PacketPtr datagram = g_state.interface->udp_receive(udp->socket, &source, &source_port);
            if (datagram) {
                size_t length = datagram->length();
                memcpy(buffer, datagram->data(), length < capacity ? length : capacity);
                if (from)
                    *from = source;
                if (from_port)
                    *from_port = source_port;
                return int64_t(length);
            }
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
    {
        Locked locked;
        g_state.interface->udp_unbind(udp->socket);
    }
    keel::net::net_destroy(udp);
}
