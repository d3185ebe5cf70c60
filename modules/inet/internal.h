// inet.kmod's private state: one IPv4 host (the protocol library's
// Ipv4Interface) on the netdev core's lo, serialised by one mutex.
#pragma once

#include <keel/keel.h>

#include "lib/net/interface.h"

namespace inet {

struct State {
    keel_mutex* lock = nullptr;
    keel_netdev* lo = nullptr;
    uint32_t lo_index = 0;
    keel::net::Ipv4Interface* interface = nullptr;
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

} // namespace inet
