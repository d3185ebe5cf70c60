// inet.kmod's private state: one IPv4 host (the protocol library's
// Ipv4Interface) per device with an address, lo's first, serialised by
// one mutex.
#pragma once

#include <keel/keel.h>

#include "lib/net/interface.h"

namespace inet {

constexpr size_t kMaxInterfaces = 8;
constexpr const char* kHolder = "inet";

// What the library sends on one device. lo's reference is held as long
// as inet is loaded; any other device is referenced only for the length
// of each transmit, so that it can unregister at any time (the interface
// then notices it is gone and goes too).
class DeviceLink : public keel::net::Ipv4Interface::Link {
public:
    void transmit(keel::net::PacketPtr frame) override;
    keel_netdev* held = nullptr; // lo
    uint32_t index = 0;
};

struct Interface {
    uint32_t index = 0; // the device's; 0: the slot is free
    char name[16] = {};
    DeviceLink link;
    keel::net::Ipv4Interface* host = nullptr;
};

struct State {
    keel_mutex* lock = nullptr;
    keel_netdev* lo = nullptr;
    uint32_t lo_index = 0;
    keel::net::Ipv4Interface* interface = nullptr; // lo's: the IP protocol table's
    Interface interfaces[kMaxInterfaces];          // [0] is lo
    keel::net::tcp::Stack::Config tcp_config;
    keel_thread* ticker = nullptr;
    volatile bool stopping = false;
};

extern State g_state;

keel::net::Millis now_ms();

// Holds the interface's mutex for a scope: the library's objects are not
// thread-safe, and the receive thread, the timer thread and the callers
// of the exported functions all reach them.
class Locked {
public:
    Locked() { keel_mutex_lock(g_state.lock); }
    ~Locked() { keel_mutex_unlock(g_state.lock); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
};

inline int32_t errno_of(keel::Error error) { return -int32_t(error); }

// interfaces.cpp; the lock held.
Interface* find_interface(uint32_t index);
// Where a datagram to `destination` leaves: lo for 127/8 and the host's
// own addresses, the device whose network holds it, else the device with
// the default route; nullptr when none.
Interface* route(uint32_t destination);
int32_t add_interface(uint32_t index, uint32_t address, uint8_t prefix_length);
// Takes the interface away (its UDP endpoints lose their binding on it).
void remove_interface(Interface& interface);
// Removes the interfaces whose device has gone.
void forget_gone_devices();

// dhcp.cpp: a frame from device `index`, which has no interface, for a
// DHCP client running on it (if any); the lock held.
void dhcp_input(uint32_t index, const uint8_t* frame, size_t length);

// exports.cpp: UDP endpoints lose their binding on a leaving interface.
void udp_forget(keel::net::Ipv4Interface* host);

} // namespace inet
