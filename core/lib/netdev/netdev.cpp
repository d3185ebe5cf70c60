#include "lib/netdev/netdev.h"

#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel::netdev {

bool valid_name(const char* name)
{
    size_t length = name ? strlen(name) : 0;
    if (length == 0 || length > kNameMax)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

Netdev* Registry::find(const char* name)
{
    for (Netdev& device : m_devices)
        if (strcmp(device.name, name) == 0)
            return &device;
    return nullptr;
}

Result<void> Registry::add(Netdev& device)
{
    if (!valid_name(device.name))
        return Err(Error::EINVAL);
    if (find(device.name))
        return Err(Error::EEXIST);
    device.index = m_next_index++;
    m_devices.push_back(device);
    m_count++;
    return {};
}

Result<void> Registry::remove(Netdev& device, const char** holder)
{
    if (device.holders.total()) {
        if (holder)
            *holder = device.holders.first_holder();
        return Err(Error::EBUSY);
    }
    m_devices.remove(device);
    m_count--;
    return {};
}

Result<void> Registry::pick_name(const char* prefix, char (&out)[kNameMax + 1])
{
    if (!valid_name(prefix) || strlen(prefix) > kNameMax - 3)
        return Err(Error::EINVAL);
    for (unsigned number = 0; number < 1000; number++) {
        format(out, sizeof(out), "%s%u", prefix, number);
        if (!find(out))
            return {};
    }
    return Err(Error::ENOSPC);
}

Result<void> queue_receive(Netdev& device, PacketPtr frame)
{
    if (!device.is_up() || device.leaving) {
        device.stats.rx_dropped++;
        return Err(Error::ENETDOWN);
    }
    PacketPtr refused = device.rx.push(move(frame));
    if (refused) {
        device.stats.rx_dropped++;
        return Err(Error::EAGAIN);
    }
    return {};
}

size_t poll_receive(Netdev& device, size_t budget, DeliverFn deliver, void* context)
{
    size_t done = 0;
    while (done < budget) {
        PacketPtr frame = device.rx.pop();
        if (!frame)
            break;
        device.stats.rx_packets++;
        device.stats.rx_bytes += frame->length();
        deliver(context, device, move(frame));
        done++;
    }
    return done;
}

size_t rx_room(Netdev& device)
{
    size_t room = device.rx.limit() - device.rx.size();
    if (room == 0)
        device.rx_waiting = true;
    return room;
}

bool take_rx_room(Netdev& device)
{
    if (!device.rx_waiting)
        return false;
    bool keeps = device.is_up() && !device.leaving;
    if (keeps && device.rx.size() > device.rx.limit() / 2)
        return false;
    device.rx_waiting = false;
    return true;
}

namespace {

// Hands one frame to the driver. True when the driver took it (or refused
// it for good: counted); false when its ring is full and the frame is
// back in `frame`.
bool hand_to_driver(Netdev& device, PacketPtr& frame)
{
    size_t length = frame->length();
    int32_t status = device.ops.transmit(device.ops.context, frame.get());
    if (status == -int32_t(Error::EBUSY)) {
        device.tx_stopped = true;
        return false;
    }
    // The driver owns the frame now, whatever it said.
    (void)frame.leak();
    if (status < 0) {
        device.stats.tx_errors++;
        return true;
    }
    device.stats.tx_packets++;
    device.stats.tx_bytes += length;
    return true;
}

} // namespace

Result<void> transmit(Netdev& device, PacketPtr frame)
{
    if (!device.is_up() || device.leaving || !device.ops.transmit || !device.has_carrier()) {
        device.stats.tx_dropped++;
        return Err(Error::ENETDOWN);
    }
    if (frame->length() > device.mtu + net::kEthernetHeaderSize) {
        device.stats.tx_dropped++;
        return Err(Error::EMSGSIZE);
    }
    if (!device.tx_stopped && device.tx.is_empty() && hand_to_driver(device, frame))
        return {};
    if (device.tx.push(move(frame))) {
        device.stats.tx_dropped++;
        device.tx_refused = true;
        return Err(Error::EAGAIN);
    }
    return {};
}

bool take_tx_room(Netdev& device)
{
    if (!device.tx_refused)
        return false;
    bool can_send = device.is_up() && !device.leaving && device.has_carrier();
    if (can_send && device.tx.size() > device.tx.limit() / 2)
        return false;
    device.tx_refused = false;
    return true;
}

size_t tx_wake(Netdev& device)
{
    device.tx_stopped = false;
    size_t taken = 0;
    while (!device.tx.is_empty()) {
        PacketPtr frame = device.tx.pop();
        if (!device.is_up() || device.leaving || !device.has_carrier()) {
            device.stats.tx_dropped++;
            continue;
        }
        if (!hand_to_driver(device, frame)) {
            // Back at the front: it was first, it stays first.
            device.tx.push_front(move(frame));
            break;
        }
        taken++;
    }
    return taken;
}

Result<void> frame_ethernet(Netdev& device, Packet& packet, const MacAddress& destination, uint16_t ether_type)
{
    uint8_t* header = packet.push(net::kEthernetHeaderSize);
    if (!header)
        return Err(Error::ENOMEM);
    net::write_ethernet(header, { destination, device.mac, ether_type });
    return {};
}

Result<net::EthernetHeader> unframe_ethernet(Packet& frame)
{
    auto header = net::parse_ethernet(frame.data(), frame.length(), nullptr);
    if (header.is_error())
        return Err(Error::EBADMSG);
    frame.pull(net::kEthernetHeaderSize);
    return header.value();
}

} // namespace keel::netdev
