// The netdev core in the kernel (KABI_NET_1.0, docs/networking.md): the
// registry of network devices, the ethertype table, the receive thread
// with its per-device budget and the transmit path. The logic lives in
// lib/netdev (host-tested); this wraps it in one spinlock and a thread.
#pragma once

#include <keel/keel.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/netdev/netdev.h"

namespace keel::net {

// Frames the receive thread hands out per device before it moves to the
// next device and yields: a flooded device cannot starve the system.
constexpr size_t kRxBudget = 64;

void netdev_init(); // the receive thread and lo

Result<netdev::Netdev*> netdev_register(const keel_netdev_config* config, Diagnostic& diagnostic);
void netdev_unregister(netdev::Netdev& device);
Result<void> netdev_receive(netdev::Netdev& device, netdev::PacketPtr frame);
void netdev_tx_wake(netdev::Netdev& device);
// KABI_NET_1.3's receive back-pressure: the frames the receive queue takes
// now (0: `fn` of netdev_set_rx_room is called, from the receive thread,
// once it has drained to half or the device stops keeping frames).
size_t netdev_rx_room(netdev::Netdev& device);
void netdev_set_rx_room(netdev::Netdev& device, keel_netdev_rx_room_fn fn, void* context);
// KABI_NET_1.4's receive polling: the receive thread calls the driver's
// `fn` (at most the budget and the queue's room) after netdev_rx_schedule,
// which any context may call (the driver's interrupt).
void netdev_set_rx_poll(netdev::Netdev& device, keel_netdev_rx_poll_fn fn, void* context);
void netdev_rx_schedule(netdev::Netdev& device);
Result<void> netdev_transmit(
    netdev::Netdev& device, netdev::PacketPtr packet, const netdev::MacAddress& destination, uint16_t ether_type);
Result<void> netdev_set_up(netdev::Netdev& device, bool up);
// The driver's carrier report: true when it changed (logged "net: eth0:
// link down" / "link up"). Any context.
bool netdev_set_carrier(netdev::Netdev& device, bool carrier);

netdev::Netdev* netdev_get(const char* name, const char* holder);
netdev::Netdev* netdev_get_by_index(uint32_t index, const char* holder);
void netdev_put(netdev::Netdev& device, const char* holder);

// A snapshot of one device (the lock is not held while the caller reads).
struct NetdevSnapshot {
    char name[netdev::kNameMax + 1];
    netdev::MacAddress mac;
    uint32_t index, mtu, flags;
    netdev::NetdevStats stats;
    uint64_t carrier_changes;
    uint32_t holders;
    char first_holder[netdev::HolderTable::kNameMax + 1];
};
void netdev_snapshot(const netdev::Netdev& device, NetdevSnapshot& out);
// Calls `fn` with a snapshot of every device, in index order.
void netdev_for_each(void (*fn)(const NetdevSnapshot& device, void* context), void* context);

Result<void> ethertype_register(uint16_t type, keel_ethertype_fn handler, void* context);
Result<void> ethertype_unregister(uint16_t type);
// KABI_NET_1.2's transmit-room notifiers (8): EINVAL, EEXIST, ENOSPC;
// unregister (ENOENT) waits until the notifier is not running.
Result<void> tx_room_register(keel_netdev_tx_room_fn fn, void* context);
Result<void> tx_room_unregister(keel_netdev_tx_room_fn fn, void* context);
// A module goes: its ethertype handlers and transmit-room notifiers (code
// in [start, end)) that its exit left registered are unregistered, each
// waiting for a call still inside it, with a warning naming `owner_name`.
// Returns how many.
size_t netdev_forget_code(uintptr_t start, uintptr_t end, const char* owner_name);
// Handlers registered, for the console (`ip -s link` prints none of it;
// `netstat`-style tools may).
size_t ethertype_count();

} // namespace keel::net
