// KABI_SOCKET_1.0: kernel sockets (core/net/socket.cpp). A family's table
// lives in the registering module's image, which finds its owner; every
// socket of the family pins that module.
#include "net/socket.h"
#include "kabi/errno.h"
#include "kabi/owner.h"
#include "kabi_impl.h"
#include "loader/loader.h"

namespace keel::net {

bool kabi_socket_pin_owner(void* owner) { return module_try_pin(static_cast<Module*>(owner)); }

void kabi_socket_pin_owner_again(void* owner) { module_pin_again(static_cast<Module*>(owner)); }

void kabi_socket_unpin_owner(void* owner) { module_unpin(static_cast<Module*>(owner)); }

} // namespace keel::net

using namespace keel;

extern "C" int32_t keel_socket_family_register(const keel_socket_family_ops* ops)
{
    auto owned
        = module_owning_table(ops, KABI_TABLE_FUNCTION(ops, create), __builtin_return_address(0), "socket family");
    if (owned.is_error())
        return kabi_error(owned.error());
    return net::socket_family_register(ops, owned.value());
}

extern "C" int32_t keel_socket_family_unregister(const keel_socket_family_ops* ops)
{
    return net::socket_family_unregister(ops);
}

extern "C" void keel_socket_wake(keel_socket* socket) { net::socket_wake(socket); }

extern "C" int32_t keel_socket_create(uint32_t family, uint32_t type, keel_socket** out)
{
    return net::socket_create(family, type, out);
}

extern "C" int32_t keel_socket_bind(keel_socket* socket, const keel_sockaddr* address)
{
    return net::socket_bind(socket, address);
}

extern "C" int32_t keel_socket_connect(keel_socket* socket, const keel_sockaddr* address, uint32_t timeout_ms)
{
    return net::socket_connect(socket, address, timeout_ms);
}

extern "C" int32_t keel_socket_listen(keel_socket* socket, uint32_t backlog)
{
    return net::socket_listen(socket, backlog);
}

extern "C" int32_t keel_socket_accept(keel_socket* socket, keel_socket** out, uint32_t timeout_ms)
{
    return net::socket_accept(socket, out, timeout_ms);
}

extern "C" int64_t keel_socket_send(
    keel_socket* socket, const void* bytes, size_t length, const keel_sockaddr* to, uint32_t timeout_ms)
{
    return net::socket_send(socket, bytes, length, to, timeout_ms);
}

extern "C" int64_t keel_socket_receive(
    keel_socket* socket, void* buffer, size_t capacity, keel_sockaddr* from, uint32_t timeout_ms)
{
    return net::socket_receive(socket, buffer, capacity, from, timeout_ms);
}

extern "C" uint32_t keel_socket_poll(keel_socket* socket, uint32_t events, uint32_t timeout_ms)
{
    return net::socket_poll(socket, events, timeout_ms);
}

extern "C" int32_t keel_socket_shutdown(keel_socket* socket, uint32_t how) { return net::socket_shutdown(socket, how); }

extern "C" void keel_socket_close(keel_socket* socket) { net::socket_close(socket); }

extern "C" int32_t keel_socket_info_get(keel_socket* socket, keel_socket_info* info)
{
    return net::socket_info(socket, info);
}
