// KABI_INET_1.0 and 1.1 (keel/inet.h): what `ip addr [add|del]`, `ip
// route [add|del]` and `ip neigh` change and show: an address per device,
// the default route, the neighbour cache.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"
#include "lib/net/address.h"

using inet::g_state;
using inet::Locked;

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

extern "C" KEEL_EXPORT int32_t keel_inet_address_add(uint32_t ifindex, uint32_t address, uint32_t prefix_length)
{
    Locked locked;
    int32_t status = inet::add_interface(ifindex, address, uint8_t(prefix_length > 32 ? 33 : prefix_length));
    if (status == 0) {
        inet::Interface* interface = inet::find_interface(ifindex);
        char text[16];
        keel::net::format_ipv4_address(address, text);
        keel_logf(KEEL_LOG_INFO, "inet: %s/%u on %s", text, prefix_length, interface->name);
    }
    return status;
}

extern "C" KEEL_EXPORT int32_t keel_inet_address_del(uint32_t ifindex, uint32_t address, uint32_t prefix_length)
{
    Locked locked;
    inet::Interface* interface = inet::find_interface(ifindex);
    if (!interface || interface->link.held)
        return -KEEL_EADDRNOTAVAIL; // none, or lo's, which stays
    const auto& config = interface->host->config();
    if (config.address != address || config.prefix_length != prefix_length)
        return -KEEL_EADDRNOTAVAIL;
    inet::remove_interface(*interface);
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_gateway(uint32_t ifindex, uint32_t* gateway)
{
    Locked locked;
    inet::Interface* interface = inet::find_interface(ifindex);
    if (!interface || !interface->host->config().gateway)
        return -KEEL_ENOENT;
    if (gateway)
        *gateway = interface->host->config().gateway;
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_route_add_default(uint32_t gateway, uint32_t ifindex)
{
    Locked locked;
    for (const inet::Interface& interface : g_state.interfaces) {
        if (interface.index && interface.host->config().gateway)
            return -KEEL_EEXIST;
    }
    inet::Interface* interface = ifindex ? inet::find_interface(ifindex) : inet::route(gateway);
    if (ifindex && !interface)
        return -KEEL_ENODEV;
    if (!interface || interface->link.held)
        return -KEEL_ENETUNREACH;
    const auto& config = interface->host->config();
    uint32_t mask = config.prefix_length ? ~uint32_t(0) << (32 - config.prefix_length) : 0;
    if ((gateway & mask) != (config.address & mask) || gateway == config.address)
        return -KEEL_ENETUNREACH; // the gateway must be a neighbour
    interface->host->set_gateway(gateway);
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_route_del_default(void)
{
    Locked locked;
    for (inet::Interface& interface : g_state.interfaces) {
        if (interface.index && interface.host->config().gateway) {
            interface.host->set_gateway(0);
            return 0;
        }
    }
    return -KEEL_ESRCH;
}

extern "C" KEEL_EXPORT int32_t keel_inet_neighbour(
    uint32_t ifindex, uint32_t position, uint32_t* address, uint8_t* mac, uint32_t* state)
{
    Locked locked;
    inet::Interface* interface = inet::find_interface(ifindex);
    if (!interface)
        return -KEEL_ENOENT;
    uint32_t seen = 0;
    for (size_t i = 0; i < keel::net::NeighbourCache::kEntries; i++) {
        const auto& entry = interface->host->neighbours().entry(i);
        if (entry.state == keel::net::NeighbourCache::State::Free || seen++ != position)
            continue;
        if (address)
            *address = entry.address;
        if (mac)
            memcpy(mac, entry.mac.bytes, 6);
        if (state)
            *state = entry.state == keel::net::NeighbourCache::State::Reachable ? KEEL_INET_NEIGHBOUR_REACHABLE
                                                                                : KEEL_INET_NEIGHBOUR_INCOMPLETE;
        return 0;
    }
    return -KEEL_ENOENT;
}
