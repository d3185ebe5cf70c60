// inet.kmod's private state: one IPv4 interface (the protocol library's
// Ipv4Interface) per device with an address, lo's first, serialised by
// one mutex; and the datagrams they delivered, waiting to be handed to
// the protocol modules outside that mutex (protocols.cpp), each in the
// frame it arrived in.
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
    bool refused = false; // the device's transmit queue said EAGAIN (keel_inet_transmit clears it first)
};

struct Interface {
    uint32_t index = 0; // the device's; 0: the slot is free
    char name[16] = {};
    DeviceLink link;
    keel::net::Ipv4Interface* host = nullptr;
};

// A datagram addressed to the host, waiting for dispatch(): either in the
// core's packet it arrived in (taken over from receive_frame, not copied)
// or, for one the library put together (reassembled, or sent by the host
// to itself through an interface's own queue), in a copy.
struct Pending {
    keel_pkt* frame = nullptr;         // owned: the frame holding `bytes`
    keel::net::Packet* copy = nullptr; // owned: the copy holding `bytes`
    const uint8_t* bytes = nullptr;    // the datagram: IP header, then payload
    uint32_t length = 0;
    uint32_t ifindex = 0;
    bool broadcast = false;
};

// The datagrams waiting for dispatch(), oldest first: a ring of at most
// kMaxPending, allocated at load; a full ring refuses (the caller counts
// the drop) instead of growing.
class PendingRing {
public:
    static constexpr size_t kMaxPending = 512;
    bool allocate();
    // Frees whatever still waits, then the ring.
    void destroy();
    bool push(const Pending& pending);
    bool pop(Pending& out);
    size_t size() const { return m_count; }

private:
    Pending* m_slots = nullptr;
    size_t m_head = 0;
    size_t m_count = 0;
};

// Frees what a Pending owns.
void release(Pending& pending);

// What every interface hands up: each datagram addressed to the host,
// queued for dispatch(). A datagram inside the frame being received
// (`frame`, its Ethernet header at `frame_bytes`) takes that frame over
// (`frame_taken`); any other is copied.
class Collector : public keel::net::ProtocolHandler {
public:
    void input(const keel::net::Datagram& datagram, keel::net::Millis now) override;
    uint32_t index = 0; // the interface being handled
    keel_pkt* frame = nullptr;
    const uint8_t* frame_bytes = nullptr;
    size_t frame_length = 0;
    bool frame_taken = false;
};

struct State {
    keel_mutex* lock = nullptr;
    keel_mutex* dispatching = nullptr; // one dispatch() at a time, so datagrams keep their order
    keel_netdev* lo = nullptr;
    uint32_t lo_index = 0;
    Interface interfaces[kMaxInterfaces]; // [0] is lo
    Collector collector;
    PendingRing pending;
    uint64_t dropped_pending = 0; // no memory for a copy, or the ring full: logged at unload
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
// A frame from device `index`, which has an interface: a DHCP server's
// reply for the run keeping its lease is taken (true) before the interface
// sees it; the lock held.
bool dhcp_take(uint32_t index, const uint8_t* frame, size_t length);
// Ticks the runs that keep leases, ends those whose address went; the lock
// held (the timer thread).
void dhcp_tick();
// Ends every run that keeps a lease (inet's unload); the lock held.
void dhcp_stop_all();

// protocols.cpp: what a module that goes left in the protocol table or
// as the ICMP hook is taken out (keel_module_watch_add).
int32_t watch_modules();
void unwatch_modules();
// protocols.cpp: hands the pending datagrams to their protocols (or
// answers protocol unreachable), without the lock.
void dispatch();
// The netdev core's transmit-room notifier (KABI_NET_1.2): calls every
// protocol's writable, without the lock.
void tell_writable(void*);
// protocols.cpp: where the interfaces' own ICMP errors wait (time exceeded
// for a reassembly that timed out, asked for under the lock), and sending
// them, without the lock, through icmp's hook.
keel::net::IcmpErrorSink& deferred_icmp_errors();
void send_deferred_icmp_errors();
// output.cpp; the lock held: the source address of a datagram to
// `destination` leaving through `interface`.
uint32_t source_for(const Interface& interface, uint32_t destination);

} // namespace inet
