// The list of inet's open sockets, their wake-ups, and the registration
// of the TCP and UDP families with the core.
#include "sockets.h"

#include "lib/base/string.h"

namespace inet {

namespace {

Socket* g_sockets = nullptr;

} // namespace

Socket* socket_create(keel_socket* handle)
{
    auto* socket = keel::net::net_create<Socket>();
    if (!socket)
        return nullptr;
    socket->handle = handle;
    socket->local.family = KEEL_AF_INET;
    socket->remote.family = KEEL_AF_INET;
    socket->next = g_sockets;
    g_sockets = socket;
    return socket;
}

void socket_destroy(Socket* socket)
{
    for (Socket** link = &g_sockets; *link; link = &(*link)->next) {
        if (*link == socket) {
            *link = socket->next;
            break;
        }
    }
    keel::net::net_destroy(socket);
}

void sockets_wake()
{
    for (Socket* socket = g_sockets; socket; socket = socket->next)
        keel_socket_wake(socket->handle);
}

void sockets_forget(keel::net::Ipv4Interface* host)
{
    for (Socket* socket = g_sockets; socket; socket = socket->next) {
        if (socket->host == host && socket->connection) {
            socket->connection = nullptr; // the stack frees it with the interface
            socket->host = nullptr;
            socket->error = -KEEL_ENETDOWN;
        }
        for (size_t i = 0; i < kMaxInterfaces; i++) {
            if (socket->listener_hosts[i] == host) {
                socket->listeners[i] = nullptr;
                socket->listener_hosts[i] = nullptr;
            }
        }
        keel_socket_wake(socket->handle);
    }
}

bool is_local_address(uint32_t address)
{
    if (address == 0 || keel::net::ipv4_is_loopback(address))
        return true;
    for (Interface& interface : g_state.interfaces) {
        if (interface.index && interface.host->config().address == address)
            return true;
    }
    return false;
}

void copy_state(keel_socket_info& info, const char* text)
{
    size_t length = strlen(text);
    if (length >= sizeof(info.state))
        length = sizeof(info.state) - 1;
    memcpy(info.state, text, length);
    info.state[length] = 0;
}

int32_t sockets_register()
{
    int32_t status = keel_socket_family_register(&g_tcp_ops);
    if (status)
        return status;
    status = keel_socket_family_register(&g_udp_ops);
    if (status)
        keel_socket_family_unregister(&g_tcp_ops);
    return status;
}

void sockets_unregister()
{
    keel_socket_family_unregister(&g_udp_ops);
    keel_socket_family_unregister(&g_tcp_ops);
}

} // namespace inet
