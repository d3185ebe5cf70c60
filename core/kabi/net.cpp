// KABI_NET_1.0: network devices, packet buffers and the ethertype table
// (core/net). KABI_NET_1.1: the carrier after registration. A keel_netdev* is the core's netdev::Netdev*, a keel_pkt*
// its net::Packet*.
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "log/log.h"
#include "net/netdev.h"

using namespace keel;
using net::Packet;
using netdev::Netdev;

namespace {

Packet* packet_of(keel_pkt* packet) { return reinterpret_cast<Packet*>(packet); }
const Packet* packet_of(const keel_pkt* packet) { return reinterpret_cast<const Packet*>(packet); }
Netdev* device_of(keel_netdev* device) { return reinterpret_cast<Netdev*>(device); }
keel_netdev* handle_of(Netdev* device) { return reinterpret_cast<keel_netdev*>(device); }

} // namespace

extern "C" keel_pkt* keel_pkt_alloc(size_t headroom, size_t capacity)
{
    if (headroom > Packet::kMaxCapacity || capacity > Packet::kMaxCapacity - headroom)
        return nullptr;
    return reinterpret_cast<keel_pkt*>(Packet::create(headroom, capacity));
}

// A NULL packet is an empty one: nothing to read, no room to grow.
extern "C" void keel_pkt_free(keel_pkt* packet) { Packet::destroy(packet_of(packet)); }
extern "C" uint8_t* keel_pkt_data(keel_pkt* packet) { return packet ? packet_of(packet)->data() : nullptr; }
extern "C" size_t keel_pkt_length(const keel_pkt* packet) { return packet ? packet_of(packet)->length() : 0; }
extern "C" size_t keel_pkt_headroom(const keel_pkt* packet) { return packet ? packet_of(packet)->headroom() : 0; }
extern "C" size_t keel_pkt_tailroom(const keel_pkt* packet) { return packet ? packet_of(packet)->tailroom() : 0; }

extern "C" uint8_t* keel_pkt_push(keel_pkt* packet, size_t length)
{
    return packet ? packet_of(packet)->push(length) : nullptr;
}

extern "C" uint8_t* keel_pkt_pull(keel_pkt* packet, size_t length)
{
    return packet ? packet_of(packet)->pull(length) : nullptr;
}

extern "C" uint8_t* keel_pkt_put(keel_pkt* packet, size_t length)
{
    return packet ? packet_of(packet)->put(length) : nullptr;
}

extern "C" int32_t keel_pkt_trim(keel_pkt* packet, size_t length)
{
    return packet && packet_of(packet)->trim(length) ? 0 : kabi_error(Error::EINVAL);
}

extern "C" const uint8_t* keel_pkt_link_header(const keel_pkt* packet)
{
    const Packet* p = packet_of(packet);
    return p && p->headroom() >= net::kEthernetHeaderSize ? p->data() - net::kEthernetHeaderSize : nullptr;
}

extern "C" int32_t keel_netdev_register(const keel_netdev_config* config, keel_netdev** device_out)
{
    if (!device_out)
        return kabi_error(Error::EINVAL);
    Diagnostic problem;
    auto device = net::netdev_register(config, problem);
    if (device.is_error()) {
        log_err("net: device refused: %s", problem.message);
        return kabi_error(device.error());
    }
    *device_out = handle_of(device.value());
    return 0;
}

extern "C" void keel_netdev_unregister(keel_netdev* device)
{
    if (device)
        net::netdev_unregister(*device_of(device));
}

extern "C" int32_t keel_netdev_receive(keel_netdev* device, keel_pkt* frame)
{
    netdev::PacketPtr owned(packet_of(frame));
    if (!device || !frame)
        return kabi_error(Error::EINVAL);
    auto received = net::netdev_receive(*device_of(device), move(owned));
    return received.is_error() ? kabi_error(received.error()) : 0;
}

namespace {
// A driver's function for `device` (KABI_NET_1.3's rx_room, 1.4's poll).
template<typename Fn>
int32_t set_driver_fn(keel_netdev* device, void (*set)(netdev::Netdev&, Fn, void*), Fn fn, void* context)
{
    if (!device)
        return kabi_error(Error::EINVAL);
    set(*device_of(device), fn, context);
    return 0;
}
} // namespace

extern "C" int32_t keel_netdev_rx_room_set(keel_netdev* device, keel_netdev_rx_room_fn fn, void* context)
{
    return set_driver_fn(device, net::netdev_set_rx_room, fn, context);
}

extern "C" uint32_t keel_netdev_rx_room(keel_netdev* device)
{
    return device ? uint32_t(net::netdev_rx_room(*device_of(device))) : 0;
}

extern "C" int32_t keel_netdev_rx_poll_set(keel_netdev* device, keel_netdev_rx_poll_fn fn, void* context)
{
    return set_driver_fn(device, net::netdev_set_rx_poll, fn, context);
}

extern "C" void keel_netdev_rx_schedule(keel_netdev* device)
{
    if (device)
        net::netdev_rx_schedule(*device_of(device));
}

extern "C" void keel_netdev_tx_wake(keel_netdev* device)
{
    if (device)
        net::netdev_tx_wake(*device_of(device));
}

extern "C" keel_netdev* keel_netdev_get(const char* name, const char* holder)
{
    return handle_of(net::netdev_get(name, holder));
}

extern "C" keel_netdev* keel_netdev_get_by_index(uint32_t index, const char* holder)
{
    return handle_of(net::netdev_get_by_index(index, holder));
}

extern "C" void keel_netdev_put(keel_netdev* device, const char* holder)
{
    if (device)
        net::netdev_put(*device_of(device), holder);
}

extern "C" int32_t keel_netdev_info_get(keel_netdev* device, keel_netdev_info* info)
{
    if (!device || !info || info->version == 0 || info->size < offsetof(keel_netdev_info, rx_packets))
        return kabi_error(Error::EINVAL);
    net::NetdevSnapshot snapshot;
    net::netdev_snapshot(*device_of(device), snapshot);
    keel_netdev_info full {};
    full.size = info->size;
    full.version = info->version;
    memcpy(full.name, snapshot.name, sizeof(full.name));
    memcpy(full.mac, snapshot.mac.bytes, sizeof(full.mac));
    full.index = snapshot.index;
    full.mtu = snapshot.mtu;
    full.flags = snapshot.flags;
    full.rx_packets = snapshot.stats.rx_packets;
    full.rx_bytes = snapshot.stats.rx_bytes;
    full.rx_dropped = snapshot.stats.rx_dropped;
    full.rx_errors = snapshot.stats.rx_errors;
    full.tx_packets = snapshot.stats.tx_packets;
    full.tx_bytes = snapshot.stats.tx_bytes;
    full.tx_dropped = snapshot.stats.tx_dropped;
    full.tx_errors = snapshot.stats.tx_errors;
    // What both sides know: an older, smaller table gets its prefix.
    memcpy(info, &full, info->size < sizeof(full) ? info->size : sizeof(full));
    return 0;
}

extern "C" int32_t keel_netdev_set_up(keel_netdev* device, uint32_t up)
{
    if (!device)
        return kabi_error(Error::EINVAL);
    auto done = net::netdev_set_up(*device_of(device), up != 0);
    return done.is_error() ? kabi_error(done.error()) : 0;
}

extern "C" int32_t keel_netdev_set_carrier(keel_netdev* device, uint32_t carrier)
{
    if (!device)
        return kabi_error(Error::EINVAL);
    return net::netdev_set_carrier(*device_of(device), carrier != 0) ? 1 : 0;
}

extern "C" int32_t keel_netdev_transmit(
    keel_netdev* device, keel_pkt* packet, const uint8_t* destination, uint16_t ether_type)
{
    netdev::PacketPtr owned(packet_of(packet));
    if (!device || !packet || !destination)
        return kabi_error(Error::EINVAL);
    netdev::MacAddress to;
    memcpy(to.bytes, destination, sizeof(to.bytes));
    auto sent = net::netdev_transmit(*device_of(device), move(owned), to, ether_type);
    return sent.is_error() ? kabi_error(sent.error()) : 0;
}

extern "C" int32_t keel_ethertype_register(uint16_t ether_type, keel_ethertype_fn handler, void* arg)
{
    auto registered = net::ethertype_register(ether_type, handler, arg);
    return registered.is_error() ? kabi_error(registered.error()) : 0;
}

extern "C" int32_t keel_ethertype_unregister(uint16_t ether_type)
{
    auto removed = net::ethertype_unregister(ether_type);
    return removed.is_error() ? kabi_error(removed.error()) : 0;
}

extern "C" int32_t keel_netdev_tx_room_register(keel_netdev_tx_room_fn fn, void* context)
{
    auto registered = net::tx_room_register(fn, context);
    return registered.is_error() ? kabi_error(registered.error()) : 0;
}

extern "C" int32_t keel_netdev_tx_room_unregister(keel_netdev_tx_room_fn fn, void* context)
{
    auto removed = net::tx_room_unregister(fn, context);
    return removed.is_error() ? kabi_error(removed.error()) : 0;
}
