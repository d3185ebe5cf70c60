// Kernel sockets (KABI_SOCKET_1.0): the families protocol modules
// register, the open sockets, and the waits. A family's operations never
// block; this layer waits for them, with the caller's timeout, on the
// socket's wait queue, which the family wakes (keel_socket_wake) whenever
// the socket's readiness may have changed. docs/networking.md.
#pragma once

#include <keel/keel.h>

namespace keel::net {

// KABI_SOCKET_1.0's functions, with the same contracts (abi/keel.toml).
// `owner` is the registering module (kabi/socket.cpp finds it), pinned by
// every socket of the family.
int32_t socket_family_register(const keel_socket_family_ops* ops, void* owner);
// Removes the families `owner` left registered (a module whose init failed
// after registering, or whose exit forgot to): their tables are in its
// image, which is about to go. Logs each, naming `owner_name`.
size_t socket_families_forget_owner(void* owner, const char* owner_name);
int32_t socket_family_unregister(const keel_socket_family_ops* ops);
void socket_wake(keel_socket* socket);
int32_t socket_create(uint32_t family, uint32_t type, keel_socket** out);
int32_t socket_bind(keel_socket* socket, const keel_sockaddr* address);
int32_t socket_connect(keel_socket* socket, const keel_sockaddr* address, uint32_t timeout_ms);
int32_t socket_listen(keel_socket* socket, uint32_t backlog);
int32_t socket_accept(keel_socket* socket, keel_socket** out, uint32_t timeout_ms);
int64_t socket_send(
    keel_socket* socket, const void* bytes, size_t length, const keel_sockaddr* to, uint32_t timeout_ms);
int64_t socket_receive(keel_socket* socket, void* buffer, size_t capacity, keel_sockaddr* from, uint32_t timeout_ms);
uint32_t socket_poll(keel_socket* socket, uint32_t events, uint32_t timeout_ms);
int32_t socket_shutdown(keel_socket* socket, uint32_t how);
void socket_close(keel_socket* socket);
int32_t socket_info(keel_socket* socket, keel_socket_info* info);

// Every open socket, for ss: its family's name ("tcp") and what the family
// says of it. Holds the socket table's lock while it runs.
using SocketVisitor = void (*)(void* context, const char* netid, const keel_socket_info& info);
void socket_for_each(SocketVisitor visit, void* context);
// The connections the families still have that no socket holds (a closed
// stream's FIN-WAIT-2, LAST-ACK, TIME-WAIT), for ss; same lock.
void socket_for_each_connection(SocketVisitor visit, void* context);
size_t socket_count();

// Pins and unpins a family's owner (kabi/socket.cpp: module_try_pin);
// false: the owner is being unloaded, and nothing was pinned.
[[nodiscard]] bool kabi_socket_pin_owner(void* owner);
// By a holder of a pin (a listening socket, for its child): cannot fail.
void kabi_socket_pin_owner_again(void* owner);
void kabi_socket_unpin_owner(void* owner);

} // namespace keel::net
