// Kernel sockets: the family table (lib/netdev/socket_families.h) and the
// open sockets under one mutex, and the waits. A wait reads the socket's
// wake count, tries the family's operation, and sleeps only if nothing
// woke the socket since the count was read, so no wake-up is lost between
// the try and the sleep (keel_socket_wake may come from any thread).
//
// A call holds a reference on its socket for its length (SocketCall), and
// the owner holds one until keel_socket_close: a close while another
// thread waits in the socket wakes it (its call returns -EBADF), and the
// family's state and the socket go with the last reference.
#include "net/socket.h"

#include "lib/base/diagnostic.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/new.h"
#include "lib/base/string.h"
#include "lib/netdev/socket_families.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sync/interrupts.h"
#include "sync/mutex.h"
#include "sync/wait_queue.h"
#include "time/clock.h"

struct keel_socket {
    const keel_socket_family_ops* ops = nullptr;
    void* state = nullptr;
    keel::netdev::SocketFamilies::Entry* entry = nullptr;
    keel::WaitQueue waiters;
    volatile uint32_t wakes = 0;
    uint32_t refs = 1;    // the owner's, and one per call in progress (atomic)
    bool closing = false; // keel_socket_close was called (atomic)
    keel::IntrusiveListNode node;
};

namespace keel::net {

namespace {

constexpr LockClass kSocketsLockClass { "sockets", LockRank::Sockets, true };
constexpr size_t kMinimumOpsSize = offsetof(keel_socket_family_ops, info) + sizeof(void*);
constexpr size_t kMaxNameLength = 7;

// KABI functions return errors as negative errnos.
constexpr int32_t kabi_error(Error error) { return -static_cast<int32_t>(error); }

Mutex g_lock { kSocketsLockClass };
netdev::SocketFamilies g_families GUARDED_BY(g_lock);
IntrusiveList<keel_socket, &keel_socket::node> g_sockets GUARDED_BY(g_lock);
size_t g_count GUARDED_BY(g_lock) = 0;

Result<void> validate_ops(const keel_socket_family_ops* ops, Diagnostic& diagnostic)
{
    if (!ops)
        return diagnostic.fail(Error::EINVAL, "no table");
    if (ops->version == 0 || ops->version > KEEL_SOCKET_FAMILY_OPS_VERSION)
        return diagnostic.fail(
            Error::EINVAL, "version %u is not supported (1..%u)", ops->version, KEEL_SOCKET_FAMILY_OPS_VERSION);
    if (ops->size < kMinimumOpsSize || ops->size % sizeof(void*) != 0)
        return diagnostic.fail(Error::EINVAL, "size %u is not a multiple of %zu of at least %zu", ops->size,
            sizeof(void*), kMinimumOpsSize);
    if (ops->family != KEEL_AF_INET)
        return diagnostic.fail(Error::EINVAL, "family %u is not KEEL_AF_INET", ops->family);
    if (ops->type != KEEL_SOCK_STREAM && ops->type != KEEL_SOCK_DGRAM)
        return diagnostic.fail(Error::EINVAL, "type %u is not KEEL_SOCK_STREAM or KEEL_SOCK_DGRAM", ops->type);
    size_t name_length = ops->name ? strnlen(ops->name, kMaxNameLength + 1) : 0;
    if (name_length == 0 || name_length > kMaxNameLength)
        return diagnostic.fail(Error::EINVAL, "the name must be 1 to %zu characters", kMaxNameLength);
    struct Required {
        const char* name;
        bool present;
    } required[] = {
        { "create", ops->create != nullptr },
        { "release", ops->release != nullptr },
        { "bind", ops->bind != nullptr },
        { "connect", ops->connect != nullptr },
        { "listen", ops->listen != nullptr },
        { "accept", ops->accept != nullptr },
        { "send", ops->send != nullptr },
        { "receive", ops->receive != nullptr },
        { "poll", ops->poll != nullptr },
        { "error", ops->error != nullptr },
        { "shutdown", ops->shutdown != nullptr },
        { "info", ops->info != nullptr },
    };
    for (const Required& operation : required) {
        if (!operation.present)
            return diagnostic.fail(Error::EINVAL, "%s is missing", operation.name);
    }
    return {};
}

uint64_t deadline_of(uint32_t timeout_ms)
{
    if (timeout_ms == KEEL_SOCKET_FOREVER)
        return UINT64_MAX;
    return time::monotonic_ns() + uint64_t(timeout_ms) * 1000000;
}

bool closing(const keel_socket* socket) { return __atomic_load_n(&socket->closing, __ATOMIC_ACQUIRE); }

// Runs `attempt` until it says it is done, the deadline passes or the
// socket is being closed; sleeps on the socket between attempts. Returns
// whether it is done.
template<typename Attempt> bool wait_until(keel_socket* socket, uint64_t deadline, Attempt attempt)
{
    for (;;) {
        uint32_t seen = socket->wakes;
        if (closing(socket))
            return false;
        if (attempt())
            return true;
        uint64_t now = time::monotonic_ns();
        if (now >= deadline)
            return false;
        InterruptDisabler no_interrupts;
        if (socket->wakes != seen)
            continue;
        if (deadline == UINT64_MAX)
            socket->waiters.sleep_locked();
        else
            socket->waiters.sleep_locked_for(deadline - now);
    }
}

// A socket object for `entry`, counted and pinning its owner; not yet
// known to the family. Fails with ENOMEM, or EAFNOSUPPORT when the
// family's module is being unloaded (its code must not run any more).
// `parent`: the listening socket accepting it, whose pin keeps the owner.
Result<keel_socket*> new_socket(netdev::SocketFamilies::Entry* entry, const keel_socket* parent = nullptr)
    REQUIRES(g_lock)
{
    if (parent)
        kabi_socket_pin_owner_again(entry->owner);
    else if (!kabi_socket_pin_owner(entry->owner))
        return Err(Error::EAFNOSUPPORT);
    void* memory = kmalloc(sizeof(keel_socket));
    if (!memory) {
        kabi_socket_unpin_owner(entry->owner);
        return Err(Error::ENOMEM);
    }
    auto* socket = new (memory) keel_socket;
    socket->ops = static_cast<const keel_socket_family_ops*>(entry->ops);
    socket->entry = entry;
    entry->sockets++;
    return socket;
}

// Off the list ss walks (socket_for_each calls the family's info on each).
void unpublish(keel_socket* socket)
{
    MutexGuard guard(g_lock);
    if (socket->node.is_linked()) {
        g_sockets.remove(*socket);
        g_count--;
    }
}

void free_socket(keel_socket* socket)
{
    void* owner;
    unpublish(socket);
    {
        MutexGuard guard(g_lock);
        socket->entry->sockets--;
        owner = socket->entry->owner;
    }
    socket->~keel_socket();
    kfree(socket);
    kabi_socket_unpin_owner(owner);
}

// The last reference: the family releases its state, then the socket goes.
void put_socket(keel_socket* socket)
{
    if (__atomic_sub_fetch(&socket->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    socket->ops->release(socket->state);
    free_socket(socket);
}

// A call's reference on its socket; none (ok() false) once the socket is
// being closed, for a call that starts after the close.
class SocketCall {
public:
    explicit SocketCall(keel_socket* socket)
        : m_socket(socket && !closing(socket) ? socket : nullptr)
    {
        if (m_socket)
            __atomic_add_fetch(&m_socket->refs, 1, __ATOMIC_ACQ_REL);
    }
    ~SocketCall()
    {
        if (m_socket)
            put_socket(m_socket);
    }
    SocketCall(const SocketCall&) = delete;
    SocketCall& operator=(const SocketCall&) = delete;
    bool ok() const { return m_socket != nullptr; }

private:
    keel_socket* m_socket;
};

void publish(keel_socket* socket)
{
    MutexGuard guard(g_lock);
    g_sockets.push_back(*socket);
    g_count++;
}

bool bad_address(const keel_sockaddr* address) { return !address || address->family != KEEL_AF_INET; }

} // namespace

int32_t socket_family_register(const keel_socket_family_ops* ops, void* owner)
{
    Diagnostic problem;
    if (auto valid = validate_ops(ops, problem); valid.is_error()) {
        log_err("socket: family refused: %s", problem.message);
        return kabi_error(valid.error());
    }
    MutexGuard guard(g_lock);
    auto added = g_families.add(ops->family, ops->type, ops, owner);
    if (added.is_error()) {
        if (added.error() == Error::EEXIST)
            log_err("socket: family %u type %u (%s) is already registered", ops->family, ops->type, ops->name);
        return kabi_error(added.error());
    }
    return 0;
}

size_t socket_families_forget_owner(void* owner, const char* owner_name)
{
    MutexGuard guard(g_lock);
    return g_families.remove_owner(owner, [&](const netdev::SocketFamilies::Entry& entry) {
        log_warn("%s: removing socket family %s it left registered", owner_name,
            static_cast<const keel_socket_family_ops*>(entry.ops)->name);
    });
}

int32_t socket_family_unregister(const keel_socket_family_ops* ops)
{
    MutexGuard guard(g_lock);
    auto removed = g_families.remove(ops);
    return removed.is_error() ? kabi_error(removed.error()) : 0;
}

void socket_wake(keel_socket* socket)
{
    if (!socket)
        return;
    InterruptDisabler no_interrupts;
    socket->wakes = socket->wakes + 1;
    socket->waiters.wake_all();
}

int32_t socket_create(uint32_t family, uint32_t type, keel_socket** out)
{
    if (!out)
        return kabi_error(Error::EINVAL);
    keel_socket* socket;
    {
        MutexGuard guard(g_lock);
        netdev::SocketFamilies::Entry* entry = g_families.find(family, type);
        if (!entry)
            return kabi_error(Error::EAFNOSUPPORT);
        auto made = new_socket(entry);
        if (made.is_error())
            return kabi_error(made.error());
        socket = made.value();
    }
    if (int32_t status = socket->ops->create(socket, &socket->state)) {
        free_socket(socket);
        return status;
    }
    publish(socket);
    *out = socket;
    return 0;
}

int32_t socket_bind(keel_socket* socket, const keel_sockaddr* address)
{
    if (!socket || bad_address(address))
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    return socket->ops->bind(socket->state, address);
}

int32_t socket_connect(keel_socket* socket, const keel_sockaddr* address, uint32_t timeout_ms)
{
    if (!socket || bad_address(address))
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    int32_t status = socket->ops->connect(socket->state, address);
    if (status != kabi_error(Error::EINPROGRESS))
        return status;
    const keel_socket_family_ops* ops = socket->ops;
    void* state = socket->state;
    bool done = wait_until(socket, deadline_of(timeout_ms),
        [&] { return (ops->poll(state) & (KEEL_POLL_OUT | KEEL_POLL_ERR | KEEL_POLL_HUP)) != 0; });
    if (!done)
        return kabi_error(closing(socket) ? Error::EBADF : Error::ETIMEDOUT);
    int32_t error = ops->error(state);
    if (error)
        return error;
    return (ops->poll(state) & KEEL_POLL_OUT) ? 0 : kabi_error(Error::ECONNREFUSED);
}

int32_t socket_listen(keel_socket* socket, uint32_t backlog)
{
    if (!socket || backlog == 0)
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    return socket->ops->listen(socket->state, backlog);
}

int32_t socket_accept(keel_socket* socket, keel_socket** out, uint32_t timeout_ms)
{
    if (!socket || !out)
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    keel_socket* child;
    {
        MutexGuard guard(g_lock);
        auto made = new_socket(socket->entry, socket);
        if (made.is_error())
            return kabi_error(made.error());
        child = made.value();
    }
    int32_t status = 0;
    bool done = wait_until(socket, deadline_of(timeout_ms), [&] {
        status = socket->ops->accept(socket->state, child, &child->state);
        return status != kabi_error(Error::EAGAIN);
    });
    if (!done && closing(socket))
        status = kabi_error(Error::EBADF);
    if (status) {
        free_socket(child);
        return status;
    }
    publish(child);
    *out = child;
    return 0;
}

int64_t socket_send(keel_socket* socket, const void* bytes, size_t length, const keel_sockaddr* to, uint32_t timeout_ms)
{
    if (!socket || (!bytes && length) || (to && bad_address(to)))
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    const auto* from = static_cast<const uint8_t*>(bytes);
    size_t sent = 0;
    int64_t status = 0;
    wait_until(socket, deadline_of(timeout_ms), [&] {
        status = socket->ops->send(socket->state, from + sent, length - sent, to);
        if (status > 0)
            sent += size_t(status);
        return status < 0 ? status != kabi_error(Error::EAGAIN) : sent == length;
    });
    if (sent)
        return int64_t(sent);
    if (closing(socket))
        return kabi_error(Error::EBADF);
    return length == 0 && status >= 0 ? 0 : status;
}

int64_t socket_receive(keel_socket* socket, void* buffer, size_t capacity, keel_sockaddr* from, uint32_t timeout_ms)
{
    if (!socket || (!buffer && capacity))
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    int64_t status = 0;
    bool done = wait_until(socket, deadline_of(timeout_ms), [&] {
        status = socket->ops->receive(socket->state, buffer, capacity, from);
        return status != kabi_error(Error::EAGAIN);
    });
    return !done && closing(socket) ? kabi_error(Error::EBADF) : status;
}

uint32_t socket_poll(keel_socket* socket, uint32_t events, uint32_t timeout_ms)
{
    SocketCall call(socket);
    if (!call.ok())
        return KEEL_POLL_ERR;
    uint32_t ready = 0;
    events |= KEEL_POLL_ERR | KEEL_POLL_HUP;
    wait_until(socket, deadline_of(timeout_ms), [&] {
        ready = socket->ops->poll(socket->state) & events;
        return ready != 0;
    });
    return closing(socket) ? ready | KEEL_POLL_ERR : ready;
}

int32_t socket_shutdown(keel_socket* socket, uint32_t how)
{
    if (!socket || how != KEEL_SHUT_WR)
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    return socket->ops->shutdown(socket->state, how);
}

void socket_close(keel_socket* socket)
{
    if (!socket)
        return;
    unpublish(socket); // first: ss must not ask a family about state it freed
    __atomic_store_n(&socket->closing, true, __ATOMIC_RELEASE);
    socket_wake(socket); // a call waiting in it sees the close and returns
    put_socket(socket);
}

int32_t socket_info(keel_socket* socket, keel_socket_info* info)
{
    if (!socket || !info || info->version != KEEL_SOCKET_INFO_VERSION || info->size < sizeof(keel_socket_info))
        return kabi_error(Error::EINVAL);
    SocketCall call(socket);
    if (!call.ok())
        return kabi_error(Error::EBADF);
    return socket->ops->info(socket->state, info);
}

void socket_for_each(SocketVisitor visit, void* context)
{
    MutexGuard guard(g_lock);
    for (keel_socket& socket : g_sockets) {
        keel_socket_info info {};
        info.size = sizeof(info);
        info.version = KEEL_SOCKET_INFO_VERSION;
        if (socket.ops->info(socket.state, &info) == 0)
            visit(context, socket.ops->name, info);
    }
}

void socket_for_each_connection(SocketVisitor visit, void* context)
{
    struct Forward {
        SocketVisitor visit;
        void* context;
        const char* netid;
    };
    MutexGuard guard(g_lock);
    const uint32_t types[] = { KEEL_SOCK_STREAM, KEEL_SOCK_DGRAM };
    for (uint32_t type : types) {
        netdev::SocketFamilies::Entry* entry = g_families.find(KEEL_AF_INET, type);
        if (!entry)
            continue;
        const auto* ops = static_cast<const keel_socket_family_ops*>(entry->ops);
        // Version 1 tables end before `connections`.
        if (ops->version < 2 || ops->size < offsetof(keel_socket_family_ops, connections) + sizeof(void*)
            || !ops->connections)
            continue;
        Forward forward { visit, context, ops->name };
        ops->connections(
            [](void* opaque, const keel_socket_info* info) {
                const auto& to = *static_cast<const Forward*>(opaque);
                to.visit(to.context, to.netid, *info);
            },
            &forward);
    }
}

size_t socket_count()
{
    MutexGuard guard(g_lock);
    return g_count;
}

} // namespace keel::net
