// udp.kmod's private state: one UDP protocol (the protocol library's
// UdpProtocol, one port table for every address of the host), its
// endpoints (keel_udp, KABI_UDP_1.0) and the sockets of its family, all
// under one mutex.
#pragma once

#include <keel/keel.h>
#include <keel/udp.h>

#include "../inet/glue.h"
#include "lib/net/udp_protocol.h"

struct keel_udp {
    keel::net::UdpSocket socket;
};

namespace udp {

struct Socket {
    keel_socket* handle = nullptr;
    Socket* next = nullptr; // in the list of open sockets
    keel_sockaddr local {};
    keel_sockaddr remote {};
    bool bound = false;
    bool connected = false;
    keel_udp* endpoint = nullptr; // once bound
};

struct State {
    keel_mutex* lock = nullptr;
    inet_glue::Output output;
    inet_glue::IcmpErrors errors;
    keel::net::UdpProtocol* udp = nullptr;
    Socket* sockets = nullptr;
};

extern State g_state;

class Locked : inet_glue::ScopedLock {
public:
    Locked()
        : ScopedLock(g_state.lock)
    {
    }
};

// endpoints.cpp; the lock held.
int32_t open_locked(uint16_t port, keel_udp** out);
void close_locked(keel_udp* udp);
int32_t send_locked(keel_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length);
// -EAGAIN when nothing is queued.
int64_t try_receive_locked(keel_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* port);

// socket.cpp: the family (KEEL_AF_INET, KEEL_SOCK_DGRAM); every socket
// woken after each datagram, when readiness may have changed (the lock
// held).
extern const keel_socket_family_ops g_family;
void sockets_wake();

} // namespace udp
