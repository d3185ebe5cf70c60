// AF_INET stream sockets: the protocol library's TCP connections and
// listeners behind KABI_SOCKET_1.0's operations. Each interface has its
// own TCP stack, so a listener is one library listener on every interface
// there is when listen() is called (as a socket bound to INADDR_ANY), and
// a connection lives in the stack of the interface its route picks.
#include "lib/base/string.h"
#include "sockets.h"

namespace inet {

namespace {

using keel::net::tcp::Connection;
using keel::net::tcp::State;

Socket* of(void* state) { return static_cast<Socket*>(state); }

const char* ss_state(const Socket& socket)
{
    if (socket.listening)
        return "LISTEN";
    if (!socket.connection)
        return "UNCONN";
    switch (socket.connection->state()) {
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

void take_tuple(Socket& socket)
{
    const auto& tuple = socket.connection->tuple();
    socket.local.address = tuple.local_address;
    socket.local.port = tuple.local_port;
    socket.remote.address = tuple.remote_address;
    socket.remote.port = tuple.remote_port;
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

void close_listeners(Socket& socket)
{
    for (size_t i = 0; i < kMaxInterfaces; i++) {
        if (socket.listeners[i])
            socket.listeners[i]->close(now_ms());
        socket.listeners[i] = nullptr;
        socket.listener_hosts[i] = nullptr;
    }
    socket.listening = false;
}

void tcp_release(void* state)
{
    Locked locked;
    Socket& socket = *of(state);
    close_listeners(socket);
    if (socket.connection)
        socket.connection->release(now_ms()); // closes it gracefully first when it is open
    socket_destroy(&socket);
}

int32_t tcp_bind(void* state, const keel_sockaddr* address)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.bound || socket.connection || socket.listening)
        return -KEEL_EINVAL;
    if (!is_local_address(address->address))
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
    if (socket.listening || address->port == 0 || address->address == 0)
        return -KEEL_EINVAL;
    Interface* interface = route(address->address);
    if (!interface)
        return -KEEL_ENETUNREACH;
    const auto& config = interface->host->config();
    // Through lo, a connection to one of the host's own addresses comes from that address.
    uint32_t local = config.address;
    if (interface->link.held && !keel::net::ipv4_is_loopback(address->address))
        local = address->address;
    else if (interface->link.held)
        local = keel::net::ipv4(127, 0, 0, 1);
    if (socket.bound && socket.local.address && socket.local.address != local)
        return -KEEL_EADDRNOTAVAIL;
    keel::net::tcp::Options options = g_state.tcp_config.defaults;
    options.mtu = config.mtu;
    auto connection = interface->host->tcp().connect(
        local, socket.bound ? socket.local.port : 0, address->address, address->port, now_ms(), &options);
    if (connection.is_error())
        return errno_of(connection.error());
    socket.connection = connection.value();
    socket.host = interface->host;
    socket.error = 0;
    take_tuple(socket);
    return -KEEL_EINPROGRESS;
}

int32_t tcp_listen(void* state, uint32_t backlog)
{
    Locked locked;
    Socket& socket = *of(state);
    if (socket.connection)
        return -KEEL_EISCONN;
    if (socket.listening)
        return 0;
    if (!socket.bound || socket.local.port == 0)
        return -KEEL_EINVAL; // bind a port first
    for (size_t i = 0; i < kMaxInterfaces; i++) {
        Interface& interface = g_state.interfaces[i];
        if (!interface.index)
            continue;
        auto listener = interface.host->tcp().listen(socket.local.address, socket.local.port, backlog);
        if (listener.is_error()) {
            close_listeners(socket);
            return errno_of(listener.error());
        }
        socket.listeners[i] = listener.value();
        socket.listener_hosts[i] = interface.host;
    }
    socket.listening = true;
    return 0;
}

int32_t tcp_accept(void* state, keel_socket* child, void** child_state)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.listening)
        return -KEEL_EINVAL;
    for (size_t i = 0; i < kMaxInterfaces; i++) {
        if (!socket.listeners[i])
            continue;
        Connection* connection = socket.listeners[i]->accept();
        if (!connection)
            continue;
        Socket* accepted = socket_create(child);
        if (!accepted) {
            connection->abort(now_ms());
            connection->release(now_ms());
            return -KEEL_ENOMEM;
        }
        accepted->connection = connection;
        accepted->host = socket.listener_hosts[i];
        accepted->bound = true;
        take_tuple(*accepted);
        *child_state = accepted;
        return 0;
    }
    return -KEEL_EAGAIN;
}

int64_t tcp_send(void* state, const void* bytes, size_t length, const keel_sockaddr*)
{
    Locked locked;
    Socket& socket = *of(state);
    if (!socket.connection)
        return socket.error ? socket.error : -KEEL_ENOTCONN;
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
        return socket.error ? socket.error : -KEEL_ENOTCONN;
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
    if (socket.listening) {
        for (auto* listener : socket.listeners) {
            if (listener && listener->ready())
                return KEEL_POLL_IN;
        }
        return 0;
    }
    if (!socket.connection)
        return socket.error ? KEEL_POLL_ERR | KEEL_POLL_HUP : KEEL_POLL_HUP;
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
    if (socket.error)
        return socket.error;
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
    copy_state(*info, ss_state(socket));
    info->local = socket.local;
    info->remote = socket.remote;
    if (socket.listening) {
        uint32_t ready = 0;
        for (auto* listener : socket.listeners)
            ready += listener ? uint32_t(listener->ready()) : 0;
        info->receive_queue = ready;
        info->send_queue = socket.listeners[0] ? uint32_t(socket.listeners[0]->backlog()) : 0;
    } else if (socket.connection) {
        info->receive_queue = uint32_t(socket.connection->readable());
        info->send_queue = uint32_t(socket.connection->unacknowledged());
    }
    return 0;
}

} // namespace

const keel_socket_family_ops g_tcp_ops = {
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
};

} // namespace inet
