// tcp.kmod's private state: one TCP stack for every address of the host
// (the protocol library's TcpProtocol), the sockets of its family, and a
// timer thread, all under one mutex.
#pragma once

#include <keel/keel.h>

#include "../inet/glue.h"
#include "lib/net/tcp_protocol.h"

namespace tcp {

struct Socket {
    keel_socket* handle = nullptr;
    Socket* next = nullptr; // in the list of open sockets
    keel_sockaddr local {};
    keel_sockaddr remote {};
    bool bound = false;
    keel::net::tcp::Connection* connection = nullptr;
    keel::net::tcp::Listener* listener = nullptr; // while listening
};

struct State {
    keel_mutex* lock = nullptr;
    inet_glue::Output output;
    keel::net::tcp::Stack::Config config;
    keel::net::TcpProtocol* tcp = nullptr;
    Socket* sockets = nullptr;
    keel_thread* ticker = nullptr;
    volatile bool stopping = false;
};

extern State g_state;

class Locked : inet_glue::ScopedLock {
public:
    Locked()
        : ScopedLock(g_state.lock)
    {
    }
};

// socket.cpp: the family (KEEL_AF_INET, KEEL_SOCK_STREAM); the lock held.
extern const keel_socket_family_ops g_family;
// Wakes every socket: readiness may have changed.
void sockets_wake();
// Fails the connections whose local address is no longer the host's (its
// interface went): they report ENETDOWN.
void sockets_check_addresses();

} // namespace tcp
