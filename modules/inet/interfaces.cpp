// inet's table of interfaces: lo's at 127.0.0.1/8 from load, one for each
// device given an address (ip addr add), routing between them, and the
// interfaces of devices that went away (a driver unbound) removed.
#include <keel/keel.h>

#include "internal.h"
#include "lib/base/string.h"
#include "lib/net/address.h"
#include "pkt_glue.h"

namespace inet {

using keel::net::Ipv4Interface;
using keel::net::PacketPtr;

void DeviceLink::transmit(PacketPtr frame)
{
    // The library builds whole Ethernet frames; the core frames again, so
    // the header is read back. A frame built in a core packet
    // (keel_inet_transmit_pkt) goes down as it is, the header pulled off
    // for the core to push again in the same bytes; any other frame's
    // payload is copied into a core packet.
    if (frame->length() < keel::net::kEthernetHeaderSize)
        return;
    keel_netdev* device = held ? held : keel_netdev_get_by_index(index, kHolder);
    if (!device)
        return; // unregistering: forget_gone_devices takes the interface away
    uint8_t header[keel::net::kEthernetHeaderSize];
    memcpy(header, frame->data(), sizeof(header));
    uint16_t ether_type = uint16_t(header[12] << 8 | header[13]);
    size_t length = frame->length() - keel::net::kEthernetHeaderSize;
    keel_pkt* packet = inet_glue::unwrap_pkt(frame);
    if (packet) {
        keel_pkt_pull(packet, keel::net::kEthernetHeaderSize);
    } else if ((packet = keel_pkt_alloc(KEEL_NET_HEADROOM, length))) {
        memcpy(keel_pkt_put(packet, length), frame->data() + keel::net::kEthernetHeaderSize, length);
    }
    if (packet && keel_netdev_transmit(device, packet, header, ether_type) == -KEEL_EAGAIN)
        refused = true;
    if (!held)
        keel_netdev_put(device, kHolder);
}

Interface* find_interface(uint32_t index)
{
    for (Interface& interface : g_state.interfaces) {
        if (interface.index && interface.index == index)
            return &interface;
    }
    return nullptr;
}

namespace {

// For each interface's martian check: an address of any interface of this
// host. Called from receive, under inet's lock (receive_frame holds it).
bool is_host_address_locked(uint32_t address)
{
    for (const Interface& interface : g_state.interfaces) {
        if (interface.index && interface.host && interface.host->config().address == address)
            return true;
    }
    return false;
}

bool in_network(const keel::net::InterfaceConfig& config, uint32_t address)
{
    uint32_t mask = config.prefix_length ? ~uint32_t(0) << (32 - config.prefix_length) : 0;
    return (address & mask) == (config.address & mask);
}

} // namespace

Interface* route(uint32_t destination)
{
    if (keel::net::ipv4_is_loopback(destination))
        return &g_state.interfaces[0];
    Interface* gateway = nullptr;
    for (Interface& interface : g_state.interfaces) {
        if (!interface.index || interface.link.held)
            continue;
        const auto& config = interface.host->config();
        if (destination == config.address)
            return &g_state.interfaces[0]; // to itself: through lo, as Linux's local table does
        if (in_network(config, destination) || destination == 0xffffffff)
            return &interface;
        if (config.gateway && !gateway)
            gateway = &interface;
    }
    return gateway;
}

int32_t add_interface(uint32_t index, uint32_t address, uint8_t prefix_length)
{
    if (prefix_length > 32 || keel::net::ipv4_is_loopback(address) || address == 0 || (address >> 28) >= 14)
        return -KEEL_EINVAL;
    keel_netdev* device = keel_netdev_get_by_index(index, kHolder);
    if (!device)
        return -KEEL_ENODEV;
    keel_netdev_info info {};
    info.size = sizeof(info);
    info.version = KEEL_NETDEV_INFO_VERSION;
    int32_t status = keel_netdev_info_get(device, &info);
    keel_netdev_put(device, kHolder);
    if (status)
        return status;
    if (info.flags & KEEL_NETDEV_LOOPBACK)
        return -KEEL_EINVAL; // lo keeps 127.0.0.1/8 only
    if (find_interface(index))
        return -KEEL_EEXIST; // one address per device
    Interface* slot = nullptr;
    for (Interface& interface : g_state.interfaces) {
        if (!interface.index && !slot)
            slot = &interface;
    }
    if (!slot)
        return -KEEL_ENOSPC;
    keel::net::InterfaceConfig config;
    memcpy(config.mac.bytes, info.mac, sizeof(config.mac.bytes));
    config.address = address;
    config.prefix_length = prefix_length;
    config.mtu = uint16_t(info.mtu > 65535 ? 65535 : info.mtu);
    config.is_host_address = is_host_address_locked;
    slot->link.held = nullptr;
    slot->link.index = index;
    slot->host = keel::net::net_create<Ipv4Interface>(slot->link, config);
    if (!slot->host)
        return -KEEL_ENOMEM;
    slot->host->set_fallback(&g_state.collector);
    slot->host->set_icmp_errors(&inet::deferred_icmp_errors());
    slot->index = index;
    memcpy(slot->name, info.name, sizeof(slot->name));
    slot->name[sizeof(slot->name) - 1] = 0;
    return 0;
}

void remove_interface(Interface& interface)
{
    // tcp notices that the address went (keel_inet_is_local) and fails
    // the connections that used it; udp's endpoints are bound to every
    // address and keep theirs.
    keel::net::net_destroy(interface.host);
    interface.host = nullptr;
    interface.index = 0;
    interface.link.index = 0;
}

void forget_gone_devices()
{
    for (Interface& interface : g_state.interfaces) {
        if (!interface.index || interface.link.held)
            continue;
        keel_netdev* device = keel_netdev_get_by_index(interface.index, kHolder);
        if (device) {
            keel_netdev_put(device, kHolder);
            continue;
        }
        char address[16];
        keel::net::format_ipv4_address(interface.host->config().address, address);
        keel_logf(KEEL_LOG_INFO, "inet: %s is gone: %s/%u removed", interface.name, address,
            interface.host->config().prefix_length);
        remove_interface(interface);
    }
}

} // namespace inet
