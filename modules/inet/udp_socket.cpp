// AF_INET datagram sockets: inet's UDP endpoints (bound on every
// interface, as to INADDR_ANY) behind KABI_SOCKET_1.0's operations. An
// unbound socket binds an ephemeral port when it first sends; connect()
// only sets the default destination.
#include "lib/base/string.h"
#include "sockets.h"

namespace inet {

namespace {

Socket* of(void* state) { return static_cast<Socket*>(state); }

int32_t udp_create(keel_socket* handle, void** state)
{
    Locked locked;
    Socket* socket = socket_create(handle);
    if (!socket)
        return -KEEL_ENOMEM;
    *state = socket;
    return 0;
}

void udp_release(void* state)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.udp)
        udp_close_locked(socket.udp);
    socket_destroy(&socket);
}

int32_t bind_port(Socket& socket, uint16_t port)
{
    int32_t status = udp_open_locked(port, &socket.udp);
    if (status)
        return status;
    socket.local.port = udp_port(socket.udp);
    socket.bound = true;
    return 0;
}

int32_t udp_bind(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.bound)
        return -KEEL_EINVAL;
    if (!is_local_address(address->address))
        return -KEEL_EADDRNOTAVAIL;
    return bind_port(socket, address->port);
}

int32_t udp_connect(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (address->address == 0 || address->port == 0)
        return -KEEL_EINVAL;
    if (!route(address->address))
        return -KEEL_ENETUNREACH;
    socket.remote = *address;
    socket.connected = true;
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
    if (!socket.bound) {
        if (int32_t status = bind_port(socket, 0))
            return status;
    }
    int32_t status = udp_send_locked(
        socket.udp, destination.address, destination.port, static_cast<const uint8_t*>(bytes), length);
    return status ? status : int64_t(length);
}

int64_t udp_receive(void* state, void* buffer, size_t capacity, keel_sockaddr* from)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.udp)
        return -KEEL_EAGAIN; // nothing can arrive before a port is bound
    for (;;) {
        uint32_t source = 0;
        uint16_t source_port = 0;
        int64_t length
            = udp_try_receive_locked(socket.udp, static_cast<uint8_t*>(buffer), capacity, &source, &source_port);
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
    if (socket.udp && udp_queued(socket.udp))
        ready |= KEEL_POLL_IN;
    return ready;
}

int32_t udp_error(void*) { return 0; }

int32_t udp_shutdown(void*, uint32_t) { return -KEEL_ENOTCONN; }

int32_t udp_info(void* state, keel_socket_info* info)
{
    Locked locked;
    Socket& socket = *of(state);
    copy_state(*info, socket.connected ? "ESTAB" : "UNCONN");
    info->local = socket.local;
    if (socket.connected)
        info->remote = socket.remote;
    info->receive_queue = socket.udp ? uint32_t(udp_queued(socket.udp)) : 0;
    return 0;
}

} // namespace

const keel_socket_family_ops g_udp_ops = {
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

} // namespace inet
