// inet's socket families (KABI_SOCKET_1.0): TCP streams and UDP datagrams
// of AF_INET over the interfaces. The core keeps the sockets and does the
// waiting; these operations never block, and inet wakes every socket
// after each frame it received and each timer tick, when readiness may
// have changed.
#pragma once

#include <keel/keel.h>

#include "internal.h"

struct keel_inet_udp;

namespace inet {

struct Socket {
    keel_socket* handle = nullptr;
    Socket* next = nullptr; // in the list of open sockets, under the lock
    keel_sockaddr local {};
    keel_sockaddr remote {};
    int32_t error = 0; // a negative errno to report (ENETDOWN: the interface went)
    bool bound = false;

    // TCP: the connection and the interface whose stack holds it; or the
    // listeners, one per interface there was at listen().
    keel::net::Ipv4Interface* host = nullptr;
    keel::net::tcp::Connection* connection = nullptr;
    keel::net::tcp::Listener* listeners[kMaxInterfaces] = {};
    keel::net::Ipv4Interface* listener_hosts[kMaxInterfaces] = {};
    bool listening = false;

    // UDP: the endpoint (bound on every interface), once bound.
    keel_inet_udp* udp = nullptr;
    bool connected = false;
};

// sockets.cpp; the lock held unless said otherwise.
Socket* socket_create(keel_socket* handle);
void socket_destroy(Socket* socket);
void sockets_wake();
// The interface is going: its connections and listeners go with it, and
// their sockets report ENETDOWN.
void sockets_forget(keel::net::Ipv4Interface* host);
bool is_local_address(uint32_t address);
// keel_socket_info.state = `text` (at most 15 characters).
void copy_state(keel_socket_info& info, const char* text);
// Without the lock: at load and unload.
int32_t sockets_register();
void sockets_unregister();

extern const keel_socket_family_ops g_tcp_ops;
extern const keel_socket_family_ops g_udp_ops;

// exports.cpp: the UDP endpoints under the socket layer; the lock held.
int32_t udp_open_locked(uint16_t port, keel_inet_udp** out);
void udp_close_locked(keel_inet_udp* udp);
uint16_t udp_port(const keel_inet_udp* udp);
int32_t udp_send_locked(keel_inet_udp* udp, uint32_t destination, uint16_t port, const uint8_t* bytes, size_t length);
// -EAGAIN when nothing is queued.
int64_t udp_try_receive_locked(keel_inet_udp* udp, uint8_t* buffer, size_t capacity, uint32_t* from, uint16_t* port);
size_t udp_queued(const keel_inet_udp* udp);

} // namespace inet
