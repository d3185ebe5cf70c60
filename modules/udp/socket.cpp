// AF_INET datagram sockets: udp's endpoints (bound on every address, as
// to INADDR_ANY) behind KABI_SOCKET_1.0's operations. An unbound socket
// binds an ephemeral port when it first sends; connect() sets the default
// destination, takes datagrams from that peer only, and makes the hard
// ICMP errors about datagrams to it (port or protocol unreachable:
// ECONNREFUSED) the next receive's or send's result, once, as Linux's
// connected UDP sockets do. A send the device's full transmit queue
// refuses says EAGAIN, so the socket layer waits (with the caller's
// timeout) until inet says there is room again.
#include "internal.h"
#include "lib/base/string.h"

namespace udp {

namespace {

Socket* of(void* state) { return static_cast<Socket*>(state); }

int32_t udp_create(keel_socket* handle, void** state)
{
    Locked locked;
    auto* socket = keel::net::net_create<Socket>();
    if (!socket)
        return -KEEL_ENOMEM;
    socket->handle = handle;
    socket->local.family = KEEL_AF_INET;
    socket->remote.family = KEEL_AF_INET;
    socket->next = g_state.sockets;
    g_state.sockets = socket;
    *state = socket;
    return 0;
}

void udp_release(void* state)
{
    Locked locked;
    Socket* socket = of(state);
    if (socket->endpoint)
        close_locked(socket->endpoint);
    for (Socket** link = &g_state.sockets; *link; link = &(*link)->next) {
        if (*link == socket) {
            *link = socket->next;
            break;
        }
    }
    keel::net::net_destroy(socket);
}

int32_t bind_port(Socket& socket, uint16_t port)
{
    int32_t status = open_locked(port, &socket.endpoint);
    if (status)
        return status;
    socket.endpoint->handle = socket.handle;
    socket.local.port = socket.endpoint->socket.port();
    socket.bound = true;
    if (socket.connected)
        socket.endpoint->socket.connect(socket.remote.address, socket.remote.port);
    return 0;
}

// The pending ICMP error, taken; 0 when there is none.
int32_t take_error(Socket& socket)
{
    if (!socket.endpoint || !socket.endpoint->socket.has_error())
        return 0;
    return -int32_t(socket.endpoint->socket.take_error());
}

int32_t udp_bind(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.bound)
        return -KEEL_EINVAL;
    if (!keel_inet_is_local(address->address))
        return -KEEL_EADDRNOTAVAIL;
    return bind_port(socket, address->port);
}

int32_t udp_connect(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (address->address == 0 || address->port == 0)
        return -KEEL_EINVAL;
    keel_inet_route_info route {};
    route.size = sizeof(route);
    if (int32_t status = keel_inet_route(address->address, &route))
        return status;
    socket.remote = *address;
    socket.connected = true;
    if (socket.endpoint)
        socket.endpoint->socket.connect(address->address, address->port);
    return 0;
}

int32_t udp_listen(void*, uint32_t) { return -KEEL_ENOTSUP; }

int32_t udp_accept(void*, keel_socket*, void**) { return -KEEL_ENOTSUP; }

int64_t udp_send(void* state, const void* bytes, size_t length, const keel_sockaddr* to)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!to && !socket.connected)
        return -KEEL_EDESTADDRREQ;
    const keel_sockaddr& destination = to ? *to : socket.remote;
    if (int32_t error = take_error(socket))
        return error;
    if (!socket.bound) {
        if (int32_t status = bind_port(socket, 0))
            return status;
    }
    int32_t status = send_locked(
        socket.endpoint, destination.address, destination.port, static_cast<const uint8_t*>(bytes), length, true);
    return status ? status : int64_t(length);
}

int64_t udp_receive(void* state, void* buffer, size_t capacity, keel_sockaddr* from)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.endpoint)
        return -KEEL_EAGAIN; // nothing can arrive before a port is bound
    if (int32_t error = take_error(socket))
        return error;
    for (;;) {
        uint32_t source = 0;
        uint16_t source_port = 0;
        int64_t length
            = try_receive_locked(socket.endpoint, static_cast<uint8_t*>(buffer), capacity, &source, &source_port);
        if (length < 0)
            return length;
        // A connected socket takes datagrams from its peer only.
        if (socket.connected && (source != socket.remote.address || source_port != socket.remote.port))
            continue;
        if (from) {
            from->family = KEEL_AF_INET;
            from->address = source;
            from->port = source_port;
        }
        return length < int64_t(capacity) ? length : int64_t(capacity);
    }
}

uint32_t udp_poll(void* state)
{
    Locked locked;
    Socket& socket = *of(state);
    uint32_t ready = KEEL_POLL_OUT;
    if (socket.endpoint && socket.endpoint->socket.queued())
        ready |= KEEL_POLL_IN;
    if (socket.endpoint && socket.endpoint->socket.has_error())
        ready |= KEEL_POLL_ERR;
    return ready;
}

int32_t udp_error(void* state)
{
    Locked locked;
    return take_error(*of(state));
}

int32_t udp_shutdown(void*, uint32_t) { return -KEEL_ENOTCONN; }

int32_t udp_info(void* state, keel_socket_info* info)
{
    Locked locked;
    Socket& socket = *of(state);
    inet_glue::copy_state(*info, socket.connected ? "ESTAB" : "UNCONN");
    info->local = socket.local;
    if (socket.connected)
        info->remote = socket.remote;
    info->receive_queue = socket.endpoint ? uint32_t(socket.endpoint->socket.queued()) : 0;
    return 0;
}

} // namespace

const keel_socket_family_ops g_family = {
    .size = sizeof(keel_socket_family_ops),
    .version = KEEL_SOCKET_FAMILY_OPS_VERSION,
    .family = KEEL_AF_INET,
    .type = KEEL_SOCK_DGRAM,
    .name = "udp",
    .create = udp_create,
    .release = udp_release,
    .bind = udp_bind,
    .connect = udp_connect,
    .listen = udp_listen,
    .accept = udp_accept,
    .send = udp_send,
    .receive = udp_receive,
    .poll = udp_poll,
    .error = udp_error,
    .shutdown = udp_shutdown,
    .info = udp_info,
};

void Readable::readable(keel::net::UdpSocket& socket)
{
    auto* endpoint = static_cast<keel_udp*>(socket.owner);
    if (endpoint && endpoint->handle)
        keel_socket_wake(endpoint->handle);
}

void writable(void*)
{
    Locked locked;
    for (Socket* socket = g_state.sockets; socket; socket = socket->next) {
        if (socket->endpoint && socket->endpoint->send_waiting) {
            socket->endpoint->send_waiting = false;
            keel_socket_wake(socket->handle);
        }
    }
}

} // namespace udp
