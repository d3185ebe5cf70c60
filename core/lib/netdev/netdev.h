// A network device as the netdev core keeps it: name, MAC, MTU, flags,
// statistics, the holders of references to it, its receive queue (filled
// by the driver, emptied by the budgeted poll) and its transmit queue
// (where frames wait while the driver's ring is full). Plain data and
// logic, no locks: the kernel (core/net/) wraps every call in the
// device's locks, host tests drive it directly.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"
#include "lib/net/ethernet.h"
#include "lib/net/packet.h"
#include "lib/netdev/holders.h"

namespace keel::netdev {

using net::MacAddress;
using net::Packet;
using net::PacketPtr;

constexpr uint32_t kFlagUp = 1;       // administratively up (ip link set up)
constexpr uint32_t kFlagLoopback = 2; // the loopback device
constexpr uint32_t kFlagBroadcast = 4;
constexpr uint32_t kFlagLowerUp = 8; // the link has a carrier

constexpr size_t kNameMax = 15; // as Linux's IFNAMSIZ - 1
constexpr size_t kRxQueueLimit = 1024;
constexpr size_t kTxQueueLimit = 256;

struct NetdevStats {
    uint64_t rx_packets = 0;
    uint64_t rx_bytes = 0;
    uint64_t rx_dropped = 0; // queue full, unknown EtherType, device down
    uint64_t rx_errors = 0;  // malformed frames
    uint64_t tx_packets = 0;
    uint64_t tx_bytes = 0;
    uint64_t tx_dropped = 0; // queue full, device down, too long
    uint64_t tx_errors = 0;  // the driver refused the frame
};

// What the driver does for the core. transmit takes the frame (returns 0)
// or says its ring is full (EBUSY: the core keeps the frame queued until
// the driver calls tx_wake); any other error drops the frame.
struct DriverOps {
    int32_t (*transmit)(void* context, Packet* frame) = nullptr;
    void* context = nullptr;
};

class Netdev {
public:
    char name[kNameMax + 1] = {};
    MacAddress mac;
    uint32_t mtu = net::kEthernetMtu;
    uint32_t flags = 0;
    uint32_t index = 0; // 1 for the first device registered (lo), as ifindex
    NetdevStats stats;
    HolderTable holders;
    DriverOps ops;
    net::PacketQueue rx { kRxQueueLimit };
    net::PacketQueue tx { kTxQueueLimit };
    bool tx_stopped = false; // the driver said EBUSY and has not woken us
    bool tx_refused = false; // transmit said EAGAIN since the queue last had room (take_tx_room)
    bool leaving = false;    // being unregistered: no new references or frames
    // The driver found the receive queue full (rx_room said 0) and stopped
    // taking frames from its ring until take_rx_room tells it to go on.
    bool rx_waiting = false;
    // Carrier gained or lost after registration (set_carrier), as Linux's
    // carrier_changes (`ip -s -s link`: transns).
    uint64_t carrier_changes = 0;
    IntrusiveListNode node;

    bool is_up() const { return flags & kFlagUp; }
    // The loopback device always has one.
    bool has_carrier() const { return flags & (kFlagLowerUp | kFlagLoopback); }
};

// Name rules: 1 to 15 of [a-z0-9_.-], as Linux's dev_valid_name minus
// what a console cannot type.
bool valid_name(const char* name);

class Registry {
public:
    // EINVAL for a bad name, EEXIST when it is taken.
    Result<void> add(Netdev& device);
    // EBUSY while references are held; `holder` then names the first.
    Result<void> remove(Netdev& device, const char** holder);
    Netdev* find(const char* name);
    // "eth0", "eth1", ...: the first PREFIX%u not taken; EINVAL for a bad
    // prefix, ENOSPC after 1000.
    Result<void> pick_name(const char* prefix, char (&out)[kNameMax + 1]);
    IntrusiveList<Netdev, &Netdev::node>& devices() { return m_devices; }
    size_t count() const { return m_count; }

private:
    IntrusiveList<Netdev, &Netdev::node> m_devices;
    size_t m_count = 0;
    uint32_t m_next_index = 1;
};

// Receive: the driver queues a frame (dropped and counted when the device
// is down or the queue full); the poll hands at most `budget` frames to
// `deliver`, so one busy device cannot starve the rest of the system.
Result<void> queue_receive(Netdev& device, PacketPtr frame);
using DeliverFn = void (*)(void* context, Netdev& device, PacketPtr frame);
size_t poll_receive(Netdev& device, size_t budget, DeliverFn deliver, void* context);
// Receive back-pressure: how many frames the receive queue takes now. A
// driver that asks before it takes frames from its ring, and stops at 0,
// leaves them with the device (whose sender then waits) instead of having
// them dropped here. 0 marks the device as waiting for room.
size_t rx_room(Netdev& device);
// Whether a driver that rx_room stopped should go on: true once after it
// was stopped, when the receive queue has drained to half its limit, or
// the device no longer keeps frames (down, leaving: they are dropped, so
// the driver's ring must not stay full).
bool take_rx_room(Netdev& device);

// Transmit with back-pressure: straight to the driver while its ring has
// room, else onto the transmit queue; EAGAIN (frame dropped and counted)
// when that is full too, ENETDOWN when the device is down or has no
// carrier, EMSGSIZE when the frame exceeds MTU plus the Ethernet header.
Result<void> transmit(Netdev& device, PacketPtr frame);
// The driver has room again: hand it queued frames until it is full.
// Returns how many it took.
size_t tx_wake(Netdev& device);
// Whether senders that transmit refused (EAGAIN) should try again: true
// once after a refusal, when the transmit queue has drained to half its
// limit, or the device can no longer send at all (down, no carrier,
// leaving: their next try fails with ENETDOWN instead of waiting).
bool take_tx_room(Netdev& device);

// Carrier (carrier.cpp): the driver says whether the link has one. True
// when that changed it (counted); losing it drops the frames waiting to be
// sent (tx_dropped), and transmit refuses frames (ENETDOWN) until it
// returns, as Linux's qdisc does while a device has no carrier.
bool set_carrier(Netdev& device, bool carrier);

// Ethernet framing: pushes the header (source: the device's MAC) in the
// frame's headroom; ENOMEM when there is none.
Result<void> frame_ethernet(Netdev& device, Packet& packet, const MacAddress& destination, uint16_t ether_type);
// Checks and pulls a received frame's header; EBADMSG when malformed.
Result<net::EthernetHeader> unframe_ethernet(Packet& frame);

} // namespace keel::netdev
