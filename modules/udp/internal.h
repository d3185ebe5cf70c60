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
    keel_socket* handle = nullptr; // the socket it is bound for (woken when a datagram waits), if any
    bool send_waiting = false;     // a send was refused for room: woken by writable()
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

// Wakes the socket of an endpoint whose receive queue stopped being empty.
class Readable : public keel::net::UdpReadable {
public:
    void readable(keel::net::UdpSocket& socket) override;
};

struct State {
    keel_mutex* lock = nullptr;
    inet_glue::Output output { keel_inet_transmit }; // EAGAIN when the device's transmit queue refuses
    Readable readable;
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
// -EAGAIN when the device's transmit queue refused the datagram and
// `wait_for_room` (the endpoint is then woken by writable()); without it,
// such a datagram counts as sent (it is lost, as KABI_UDP_1.0 always had it).
int32_t send_locked(
    keel_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length, bool wait_for_room);
// -EAGAIN when nothing is queued.
int64_t try_receive_locked(keel_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* port);

// socket.cpp: the family (KEEL_AF_INET, KEEL_SOCK_DGRAM). A socket is
// woken when its receive queue stops being empty (Readable) and, after a
// send that waits for room, when a transmit queue has room again
// (writable, without the lock).
extern const keel_socket_family_ops g_family;
void writable(void*);

} // namespace udp
