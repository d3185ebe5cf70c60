// AF_INET stream sockets: the protocol library's TCP connections and
// listeners behind KABI_SOCKET_1.0's operations. One stack serves every
// address, so a listener bound to 0 hears every address the host has,
// including those added after listen(); a connection leaves from the
// address the route to its peer gives.
#include "internal.h"
#include "lib/base/string.h"

namespace tcp {

namespace {

using inet_glue::errno_of;
using inet_glue::now_ms;
using keel::net::tcp::Connection;
using keel::net::tcp::State;

Socket* of(void* state) { return static_cast<Socket*>(state); }

// The state as ss prints it.
const char* ss_state(const Connection& connection)
{
    switch (connection.state()) {
    case State::Closed: return "CLOSE";
    case State::Listen: return "LISTEN";
    case State::SynSent: return "SYN-SENT";
    case State::SynReceived: return "SYN-RECV";
    case State::Established: return "ESTAB";
    case State::FinWait1: return "FIN-WAIT-1";
    case State::FinWait2: return "FIN-WAIT-2";
    case State::CloseWait: return "CLOSE-WAIT";
    case State::Closing: return "CLOSING";
    case State::LastAck: return "LAST-ACK";
    case State::TimeWait: return "TIME-WAIT";
    }
    return "UNKNOWN";
}

const char* ss_state(const Socket& socket)
{
    if (socket.listener)
        return "LISTEN";
    if (!socket.connection)
        return "UNCONN";
    return ss_state(*socket.connection);
}

void take_tuple(Socket& socket)
{
    const auto& tuple = socket.connection->tuple();
    socket.local.address = tuple.local_address;
    socket.local.port = tuple.local_port;
    socket.remote.address = tuple.remote_address;
    socket.remote.port = tuple.remote_port;
}

Socket* socket_create(keel_socket* handle)
{
    auto* socket = keel::net::net_create<Socket>();
    if (!socket)
        return nullptr;
    socket->handle = handle;
    socket->local.family = KEEL_AF_INET;
    socket->remote.family = KEEL_AF_INET;
    socket->next = g_state.sockets;
    g_state.sockets = socket;
    return socket;
}

int32_t tcp_create(keel_socket* handle, void** state)
{
    Locked locked;
    Socket* socket = socket_create(handle);
    if (!socket)
        return -KEEL_ENOMEM;
    *state = socket;
    return 0;
}

void tcp_release(void* state)
{
    Locked locked;
    Socket* socket = of(state);
    if (socket->listener)
        socket->listener->close(now_ms());
    if (socket->connection)
        socket->connection->release(now_ms()); // closes it gracefully first when it is open
    for (Socket** link = &g_state.sockets; *link; link = &(*link)->next) {
        if (*link == socket) {
            *link = socket->next;
            break;
        }
    }
    keel::net::net_destroy(socket);
}

int32_t tcp_bind(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.bound || socket.connection || socket.listener)
        return -KEEL_EINVAL;
    if (!keel_inet_is_local(address->address))
        return -KEEL_EADDRNOTAVAIL;
    socket.local.address = address->address;
    socket.local.port = address->port;
    socket.bound = true;
    return 0;
}

int32_t tcp_connect(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.connection)
        return -KEEL_EISCONN;
    if (socket.listener || address->port == 0 || address->address == 0)
        return -KEEL_EINVAL;
    keel_inet_route_info route {};
    route.size = sizeof(route);
    if (int32_t status = keel_inet_route(address->address, &route))
        return status;
    if (socket.bound && socket.local.address && socket.local.address != route.source)
        return -KEEL_EADDRNOTAVAIL;
    keel::net::tcp::Options options = g_state.config.defaults;
    options.mtu = uint16_t(route.mtu > 65535 ? 65535 : route.mtu);
    auto connection = g_state.tcp->stack().connect(
        route.source, socket.bound ? socket.local.port : 0, address->address, address->port, now_ms(), &options);
    if (connection.is_error())
        return errno_of(connection.error());
    socket.connection = connection.value();
    take_tuple(socket);
    return -KEEL_EINPROGRESS;
}

int32_t tcp_listen(void* state, uint32_t backlog)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.connection)
        return -KEEL_EISCONN;
    if (socket.listener)
        return 0;
    if (!socket.bound || socket.local.port == 0)
        return -KEEL_EINVAL; // bind a port first
    auto listener = g_state.tcp->stack().listen(socket.local.address, socket.local.port, backlog);
    if (listener.is_error())
        return errno_of(listener.error());
    socket.listener = listener.value();
    return 0;
}

int32_t tcp_accept(void* state, keel_socket* child, void** child_state)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.listener)
        return -KEEL_EINVAL;
    Connection* connection = socket.listener->accept();
    if (!connection)
        return -KEEL_EAGAIN;
    Socket* accepted = socket_create(child);
    if (!accepted) {
        connection->abort(now_ms());
        connection->release(now_ms());
        return -KEEL_ENOMEM;
    }
    accepted->connection = connection;
    accepted->bound = true;
    take_tuple(*accepted);
    *child_state = accepted;
    return 0;
}

int64_t tcp_send(void* state, const void* bytes, size_t length, const keel_sockaddr*)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.connection)
        return -KEEL_ENOTCONN;
    auto sent = socket.connection->send(static_cast<const uint8_t*>(bytes), length, now_ms());
    if (sent.is_error())
        return errno_of(sent.error());
    return int64_t(sent.value());
}

int64_t tcp_receive(void* state, void* buffer, size_t capacity, keel_sockaddr* from)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.connection)
        return -KEEL_ENOTCONN;
    auto received = socket.connection->receive(static_cast<uint8_t*>(buffer), capacity, now_ms());
    if (received.is_error())
        return errno_of(received.error());
    if (from)
        *from = socket.remote;
    return int64_t(received.value());
}

uint32_t tcp_poll(void* state)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.listener)
        return socket.listener->ready() ? KEEL_POLL_IN : 0;
    if (!socket.connection)
        return KEEL_POLL_HUP;
    const Connection& connection = *socket.connection;
    uint32_t ready = 0;
    if (connection.error() != keel::Error(0))
        ready |= KEEL_POLL_ERR;
    if (connection.readable() || connection.at_end_of_stream() || connection.state() == State::Closed)
        ready |= KEEL_POLL_IN;
    bool can_send = connection.state() == State::Established || connection.state() == State::CloseWait;
    if (can_send && connection.send_space())
        ready |= KEEL_POLL_OUT;
    if (connection.state() == State::Closed)
        ready |= KEEL_POLL_HUP;
    return ready;
}

int32_t tcp_error(void* state)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.connection && socket.connection->error() != keel::Error(0))
        return errno_of(socket.connection->error());
    return 0;
}

int32_t tcp_shutdown(void* state, uint32_t)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.connection)
        return -KEEL_ENOTCONN;
    socket.connection->close(now_ms());
    return 0;
}

int32_t tcp_info(void* state, keel_socket_info* info)
{
    Locked locked;
    Socket& socket = *of(state);
    inet_glue::copy_state(*info, ss_state(socket));
    info->local = socket.local;
    info->remote = socket.remote;
    if (socket.listener) {
        info->receive_queue = uint32_t(socket.listener->ready());
        info->send_queue = uint32_t(socket.listener->backlog());
    } else if (socket.connection) {
        info->receive_queue = uint32_t(socket.connection->readable());
        info->send_queue = uint32_t(socket.connection->unacknowledged());
    }
    return 0;
}

// The connections whose socket was closed and that are still closing
// (TIME-WAIT, FIN-WAIT-2, LAST-ACK, ...), for ss: the socket table's lock
// is held, then ours (the order socket info takes too).
void tcp_connections(keel_socket_info_visit_fn visit, void* context)
{
    Locked locked;
    g_state.tcp->stack().for_each_released([&](const Connection& connection) {
        keel_socket_info info {};
        info.size = sizeof(info);
        info.version = KEEL_SOCKET_INFO_VERSION;
        inet_glue::copy_state(info, ss_state(connection));
        const auto& tuple = connection.tuple();
        info.local.family = KEEL_AF_INET;
        info.local.port = tuple.local_port;
        info.local.address = tuple.local_address;
        info.remote.family = KEEL_AF_INET;
        info.remote.port = tuple.remote_port;
        info.remote.address = tuple.remote_address;
        info.receive_queue = uint32_t(connection.readable());
        info.send_queue = uint32_t(connection.unacknowledged());
        visit(context, &info);
    });
}

} // namespace

const keel_socket_family_ops g_family = {
    .size = sizeof(keel_socket_family_ops),
    .version = KEEL_SOCKET_FAMILY_OPS_VERSION,
    .family = KEEL_AF_INET,
    .type = KEEL_SOCK_STREAM,
    .name = "tcp",
    .create = tcp_create,
    .release = tcp_release,
    .bind = tcp_bind,
    .connect = tcp_connect,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .send = tcp_send,
    .receive = tcp_receive,
    .poll = tcp_poll,
    .error = tcp_error,
    .shutdown = tcp_shutdown,
    .info = tcp_info,
    .connections = tcp_connections,
};

void sockets_wake()
{
    for (Socket* socket = g_state.sockets; socket; socket = socket->next)
        keel_socket_wake(socket->handle);
}

void sockets_check_addresses()
{
    for (Socket* socket = g_state.sockets; socket; socket = socket->next) {
        Connection* connection = socket->connection;
        if (connection && connection->state() != keel::net::tcp::State::Closed
            && !keel_inet_is_local(connection->tuple().local_address))
            connection->drop(keel::Error::ENETDOWN);
    }
}

} // namespace tcp
