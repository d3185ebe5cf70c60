// What the protocol modules send through (KABI_INET_1.0's keel_inet_send,
// KABI_INET_1.3's keel_inet_output, KABI_INET_1.4's keel_inet_transmit,
// which says when the device's transmit queue refused) and ask before they send: the route to
// a destination, and whether an address is still this host's.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/net/address.h"
#include "pkt_glue.h"

using inet::errno_of;
using inet::Locked;

uint32_t inet::source_for(const Interface& interface, uint32_t destination)
{
    if (!interface.link.held)
        return interface.host->config().address;
    // Through lo: from 127.0.0.1 to 127/8, else from the host's own
    // address it was sent to (Linux's local table).
    return keel::net::ipv4_is_loopback(destination) ? keel::net::ipv4(127, 0, 0, 1) : destination;
}

namespace {

// What the output functions share: the route, the source address, and
// `send(interface, source)` under inet's lock; -EAGAIN for a success the
// device's transmit queue refused (a frame of).
template<typename Send> int32_t route_and_send(uint32_t source, uint32_t destination, Send send)
{
    Locked locked;
    inet::Interface* interface = inet::route(destination);
    if (!interface)
        return -KEEL_ENETUNREACH;
    if (!source)
        source = inet::source_for(*interface, destination);
    interface->link.refused = false;
    keel::Result<void> sent = send(*interface, source);
    if (sent.is_error())
        return errno_of(sent.error());
    return interface->link.refused ? -KEEL_EAGAIN : 0;
}

// keel_inet_output and keel_inet_transmit: the payload copied into a packet.
int32_t output(uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length)
{
    if (!payload && length)
        return -KEEL_EINVAL;
    return route_and_send(source, destination, [&](inet::Interface& interface, uint32_t from) {
        return interface.host->send_datagram(protocol, from, destination, payload, length, inet::now_ms());
    });
}

} // namespace

extern "C" KEEL_EXPORT int32_t keel_inet_output(
    uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length)
{
    int32_t status = output(protocol, source, destination, payload, length);
    return status == -KEEL_EAGAIN ? 0 : status;
}

extern "C" KEEL_EXPORT int32_t keel_inet_transmit(
    uint8_t protocol, uint32_t source, uint32_t destination, const uint8_t* payload, size_t length)
{
    return output(protocol, source, destination, payload, length);
}

extern "C" KEEL_EXPORT int32_t keel_inet_transmit_pkt(
    uint8_t protocol, uint32_t source, uint32_t destination, keel_pkt* payload)
{
    if (!payload)
        return -KEEL_EINVAL;
    // The library pushes its IPv4 and Ethernet headers in front: the
    // headroom it gives its own packets, at least.
    if (keel_pkt_headroom(payload) < keel::net::Ipv4Interface::kHeadroom) {
        keel_pkt_free(payload);
        return -KEEL_EINVAL;
    }
    if (keel_pkt_length(payload) > 65535 - keel::net::kIpv4HeaderSize) {
        keel_pkt_free(payload);
        return -KEEL_EMSGSIZE;
    }
    int32_t status = route_and_send(source, destination, [&](inet::Interface& interface, uint32_t from) {
        keel::net::PacketPtr packet = inet_glue::wrap_pkt(payload);
        payload = nullptr; // the packet owns it now, or wrap_pkt freed it
        if (!packet)
            return keel::Result<void>(keel::Err(keel::Error::ENOMEM));
        return interface.host->output(move(packet), protocol, from, destination, inet::now_ms());
    });
    if (payload)
        keel_pkt_free(payload); // no route: never sent
    return status;
}

extern "C" KEEL_EXPORT int32_t keel_inet_send(
    uint8_t protocol, uint32_t destination, const uint8_t* payload, size_t length)
{
    return keel_inet_output(protocol, 0, destination, payload, length);
}

extern "C" KEEL_EXPORT int32_t keel_inet_route(uint32_t destination, keel_inet_route_info* route)
{
    if (!route || route->size < sizeof(keel_inet_route_info))
        return -KEEL_EINVAL;
    Locked locked;
    inet::Interface* interface = inet::route(destination);
    if (!interface)
        return -KEEL_ENETUNREACH;
    route->ifindex = interface->index;
    route->source = inet::source_for(*interface, destination);
    route->mtu = interface->host->config().mtu;
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_is_local(uint32_t address)
{
    if (address == 0 || keel::net::ipv4_is_loopback(address))
        return 1;
    Locked locked;
    for (const inet::Interface& interface : inet::g_state.interfaces) {
        if (interface.index && interface.host->config().address == address)
            return 1;
    }
    return 0;
}
