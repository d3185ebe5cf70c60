// The IP protocol table (KABI_INET_1.0's simple handlers, 1.3's ops
// tables) and the ICMP error hook. Every interface hands the datagrams
// addressed to the host to the collector, under inet's lock, which keeps
// each in the frame it arrived in (copying only what the library put
// together: reassembled datagrams, the host's own); dispatch()
// then gives each to its protocol without the lock, so that protocols can
// send from their input. An entry counts the calls running in it, and
// taking it out waits until none is: after remove() returns, its module
// may go.
#include <keel/inet.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"
#include "lib/net/icmp.h"

using inet::Locked;

namespace {

struct Entry {
    const keel_inet_protocol_ops* ops = nullptr; // null for a simple handler
    keel_inet_writable writable = nullptr;       // keel_inet_protocol_writable's
    keel_inet_icmp_reporter reporter = nullptr;  // keel_inet_protocol_icmp_reports's
    keel_inet_protocol_handler handler = nullptr;
    void* arg = nullptr;
    uint32_t running = 0; // calls in progress (atomic)
};

struct IcmpHook {
    const keel_inet_icmp_ops* ops = nullptr;
    void* arg = nullptr;
    uint32_t running = 0;
};

Entry* g_protocols[256];    // under the lock
IcmpHook* g_icmp = nullptr; // under the lock

template<typename T> T* take(T* entry)
{
    if (entry)
        __atomic_add_fetch(&entry->running, 1, __ATOMIC_ACQUIRE);
    return entry;
}

template<typename T> void put(T* entry) { __atomic_sub_fetch(&entry->running, 1, __ATOMIC_RELEASE); }

// Called without the lock, once the entry is out of the table.
template<typename T> void wait_idle(T* entry)
{
    while (__atomic_load_n(&entry->running, __ATOMIC_ACQUIRE))
        keel_sleep_ns(100 * 1000);
}

keel_inet_datagram describe(const inet::Pending& pending)
{
    const uint8_t* bytes = pending.bytes;
    keel_inet_datagram datagram {};
    datagram.size = sizeof(datagram);
    datagram.ifindex = pending.ifindex;
    datagram.bytes = bytes;
    datagram.header_length = uint32_t(bytes[0] & 0xf) * 4;
    datagram.total_length = pending.length;
    datagram.ttl = bytes[8];
    datagram.protocol = bytes[9];
    datagram.source = keel::net::load32(bytes + 12);
    datagram.destination = keel::net::load32(bytes + 16);
    datagram.broadcast = pending.broadcast ? 1 : 0;
    return datagram;
}

int32_t icmp_error(uint8_t type, uint8_t code, const keel_inet_datagram* about)
{
    IcmpHook* hook;
    {
        Locked locked;
        hook = take(g_icmp);
    }
    if (!hook)
        return -KEEL_ENOTSUP;
    hook->ops->error(hook->arg, type, code, about);
    put(hook);
    return 0;
}

bool valid_name(const char* name)
{
    if (!name)
        return false;
    size_t length = strnlen(name, 16);
    return length >= 1 && length <= 15;
}

int32_t add(uint8_t protocol, Entry* entry)
{
    Locked locked;
    if (g_protocols[protocol])
        return -KEEL_EEXIST;
    g_protocols[protocol] = entry;
    return 0;
}

// Takes out the entry that `matches`; waits until it is idle and frees it.
template<typename Match> int32_t remove(uint8_t protocol, Match matches)
{
    Entry* entry;
    {
        Locked locked;
        entry = g_protocols[protocol];
        if (!entry || !matches(*entry))
            return -KEEL_ENOENT;
        g_protocols[protocol] = nullptr;
    }
    wait_idle(entry);
    keel::net::net_destroy(entry);
    return 0;
}

// The errors the interfaces ask for under inet's lock (time exceeded for
// a reassembly that timed out), kept until the timer thread sends them
// without it: icmp's hook takes icmp's lock and sends through inet.
struct DeferredError {
    uint8_t type = 0;
    uint8_t code = 0;
    bool broadcast = false;
    uint32_t length = 0;
    uint8_t bytes[keel::net::kIpv4HeaderSize + 8] = {};
};

class DeferredErrors : public keel::net::IcmpErrorSink {
public:
    // The lock held.
    void icmp_error(uint8_t type, uint8_t code, const keel::net::Datagram& datagram, keel::net::Millis) override
    {
        if (count == kMax)
            return; // 16 in 10 ms: beyond what icmp's burst would let through

        DeferredError& error = errors[count++];
        error.type = type;
        error.code = code;
        error.broadcast = datagram.to_broadcast;
        error.length = uint32_t(keel::min(size_t(datagram.header->total_length), sizeof(error.bytes)));
        memcpy(error.bytes, datagram.bytes, error.length);
    }

    static constexpr size_t kMax = 16;
    DeferredError errors[kMax];
    size_t count = 0;
};

DeferredErrors g_deferred; // under the lock

keel_module_watch* g_watch = nullptr;

bool within(const keel_module_going_info& going, const void* pointer)
{
    auto address = uint64_t(reinterpret_cast<uintptr_t>(pointer));
    return address >= going.start && address < going.end;
}

// The entry is the going module's: its handler, or its ops table or the
// input in it (a table may be built at run time, outside the module).
bool belongs_to(const keel_module_going_info& going, const Entry& entry)
{
    return within(going, reinterpret_cast<const void*>(entry.handler))
        || (entry.ops && (within(going, entry.ops) || within(going, reinterpret_cast<const void*>(entry.ops->input))));
}

bool belongs_to(const keel_module_going_info& going, const IcmpHook& hook)
{
    return within(going, hook.ops) || within(going, reinterpret_cast<const void*>(hook.ops->error));
}

// A module that went left its protocols or its ICMP hook here (its exit
// did not take them out): they go as their own remove would have taken
// them, waiting for a call still running, before the module's memory
// does. A writable or reporter call it set on another module's entry is
// cleared, the entry kept. Entries are matched by their code and ops
// tables; `arg` is the registrant's to choose and is not looked at.
void forget_module(void*, const keel_module_going_info* going)
{
    // Bit p of each: protocol p's entry is the module's / had a call of
    // the module's cleared (keel_inet_protocol_writable and
    // ..._icmp_reports take any caller's, for another module's entry).
    uint64_t left[4] = {};
    uint64_t cleared[4] = {};
    {
        Locked locked;
        for (size_t protocol = 0; protocol < 256; protocol++) {
            Entry* entry = g_protocols[protocol];
            uint64_t bit = 1ull << (protocol % 64);
            if (!entry)
                continue;
            if (belongs_to(*going, *entry)) {
                left[protocol / 64] |= bit;
                continue;
            }
            if (within(*going, reinterpret_cast<const void*>(entry->writable))) {
                entry->writable = nullptr;
                cleared[protocol / 64] |= bit;
            }
            if (within(*going, reinterpret_cast<const void*>(entry->reporter))) {
                entry->reporter = nullptr;
                cleared[protocol / 64] |= bit;
            }
        }
    }
    for (size_t protocol = 0; protocol < 256; protocol++) {
        uint64_t bit = 1ull << (protocol % 64);
        if (cleared[protocol / 64] & bit) {
            // A call already running in a cleared field holds the entry:
            // it is done once only this sweep's own hold is left.
            Entry* entry;
            {
                Locked locked;
                entry = take(g_protocols[protocol]);
            }
            if (entry) {
                while (__atomic_load_n(&entry->running, __ATOMIC_ACQUIRE) > 1)
                    keel_sleep_ns(100 * 1000);
                put(entry);
            }
            keel_logf(
                KEEL_LOG_WARNING, "inet: clearing the calls %s left set on IP protocol %zu", going->name, protocol);
        }
        if ((left[protocol / 64] & bit)
            && remove(uint8_t(protocol), [going](const Entry& entry) { return belongs_to(*going, entry); }) == 0)
            keel_logf(
                KEEL_LOG_WARNING, "inet: removing IP protocol %zu that %s left registered", protocol, going->name);
    }
    IcmpHook* gone = nullptr;
    {
        Locked locked;
        if (g_icmp && belongs_to(*going, *g_icmp)) {
            gone = g_icmp;
            g_icmp = nullptr;
        }
    }
    if (gone) {
        wait_idle(gone);
        keel::net::net_destroy(gone);
        keel_logf(KEEL_LOG_WARNING, "inet: removing the ICMP hook that %s left registered", going->name);
    }
}

} // namespace

namespace inet {

int32_t watch_modules() { return keel_module_watch_add(forget_module, nullptr, &g_watch); }

void unwatch_modules()
{
    keel_module_watch_remove(g_watch);
    g_watch = nullptr;
}

bool PendingRing::allocate()
{
    m_slots = static_cast<Pending*>(keel::net::net_alloc(sizeof(Pending) * kMaxPending));
    m_head = 0;
    m_count = 0;
    return m_slots != nullptr;
}

void PendingRing::destroy()
{
    Pending pending;
    while (pop(pending))
        release(pending);
    keel::net::net_free(m_slots);
    m_slots = nullptr;
}

bool PendingRing::push(const Pending& pending)
{
    if (m_count == kMaxPending)
        return false;
    m_slots[(m_head + m_count) % kMaxPending] = pending;
    m_count++;
    return true;
}

bool PendingRing::pop(Pending& out)
{
    if (m_count == 0)
        return false;
    out = m_slots[m_head];
    m_head = (m_head + 1) % kMaxPending;
    m_count--;
    return true;
}

void release(Pending& pending)
{
    if (pending.frame)
        keel_pkt_free(pending.frame);
    if (pending.copy)
        keel::net::Packet::destroy(pending.copy);
    pending = Pending {};
}

keel::net::IcmpErrorSink& deferred_icmp_errors() { return g_deferred; }

void send_deferred_icmp_errors()
{
    DeferredError errors[DeferredErrors::kMax];
    size_t count;
    {
        Locked locked;
        count = g_deferred.count;
        for (size_t i = 0; i < count; i++)
            errors[i] = g_deferred.errors[i];
        g_deferred.count = 0;
    }
    for (size_t i = 0; i < count; i++) {
        const DeferredError& error = errors[i];
        keel_inet_datagram about {};
        about.size = sizeof(about);
        about.bytes = error.bytes;
        about.header_length = uint32_t(error.bytes[0] & 0xf) * 4;
        about.total_length = error.length;
        about.ttl = error.bytes[8];
        about.protocol = error.bytes[9];
        about.source = keel::net::load32(error.bytes + 12);
        about.destination = keel::net::load32(error.bytes + 16);
        about.broadcast = error.broadcast ? 1 : 0;
        (void)icmp_error(error.type, error.code, &about); // -ENOTSUP without icmp: nothing is sent
    }
}

void Collector::input(const keel::net::Datagram& datagram, keel::net::Millis)
{
    Pending pending;
    pending.bytes = datagram.bytes;
    pending.length = datagram.header->total_length;
    pending.ifindex = index;
    pending.broadcast = datagram.to_broadcast;
    if (g_state.pending.size() == PendingRing::kMaxPending) {
        g_state.dropped_pending++;
        return;
    }
    // A datagram the frame being received holds (not one the library put
    // together elsewhere) waits in that frame.
    bool in_frame = frame && !frame_taken && datagram.bytes >= frame_bytes
        && datagram.bytes + pending.length <= frame_bytes + frame_length;
    if (in_frame) {
        pending.frame = frame;
        frame_taken = true;
    } else {
        pending.copy = keel::net::Packet::copy_of(datagram.bytes, pending.length, 0);
        if (!pending.copy) {
            g_state.dropped_pending++;
            return;
        }
        pending.bytes = pending.copy->data();
    }
    (void)g_state.pending.push(pending); // room checked above
}

void tell_writable(void*)
{
    Entry* entries[8];
    keel_inet_writable calls[8];
    size_t count = 0;
    {
        Locked locked;
        for (Entry* entry : g_protocols) {
            if (entry && entry->writable && count < sizeof(entries) / sizeof(entries[0])) {
                calls[count] = entry->writable;
                entries[count++] = take(entry);
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        calls[i](entries[i]->arg);
        put(entries[i]);
    }
}

void dispatch()
{
    keel_mutex_lock(g_state.dispatching);
    for (;;) {
        Pending pending;
        Entry* entry = nullptr;
        {
            Locked locked;
            if (!g_state.pending.pop(pending))
                break;
            entry = take(g_protocols[pending.bytes[9]]);
        }
        keel_inet_datagram datagram = describe(pending);
        if (!entry) {
            if (!datagram.broadcast)
                (void)icmp_error(
                    keel::net::kIcmpDestinationUnreachable, keel::net::kIcmpUnreachableProtocol, &datagram);
        } else {
            if (entry->ops) {
                entry->ops->input(entry->arg, &datagram);
            } else if (!datagram.broadcast) {
                entry->handler(entry->arg, datagram.source, datagram.destination,
                    datagram.bytes + datagram.header_length, datagram.total_length - datagram.header_length);
            }
            put(entry);
        }
        release(pending);
    }
    keel_mutex_unlock(g_state.dispatching);
}

} // namespace inet

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_register(
    uint8_t protocol, keel_inet_protocol_handler handler, void* arg)
{
    if (!handler)
        return -KEEL_EINVAL;
    auto* entry = keel::net::net_create<Entry>();
    if (!entry)
        return -KEEL_ENOMEM;
    entry->handler = handler;
    entry->arg = arg;
    int32_t status = add(protocol, entry);
    if (status)
        keel::net::net_destroy(entry);
    return status;
}

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_unregister(uint8_t protocol)
{
    return remove(protocol, [](const Entry& entry) { return entry.ops == nullptr; });
}

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_add(const keel_inet_protocol_ops* ops, void* arg)
{
    const char* problem = nullptr;
    if (!ops)
        return -KEEL_EINVAL;
    if (ops->version != KEEL_INET_PROTOCOL_OPS_VERSION || ops->size < sizeof(keel_inet_protocol_ops))
        problem = "an unknown size or version";
    else if (!valid_name(ops->name))
        problem = "no name of 1 to 15 characters";
    else if (!ops->input)
        problem = "no input";
    if (problem) {
        keel_logf(KEEL_LOG_ERR, "inet: protocol %u refused: %s", ops->protocol, problem);
        return -KEEL_EINVAL;
    }
    auto* entry = keel::net::net_create<Entry>();
    if (!entry)
        return -KEEL_ENOMEM;
    entry->ops = ops;
    entry->arg = arg;
    int32_t status = add(ops->protocol, entry);
    if (status)
        keel::net::net_destroy(entry);
    return status;
}

// Sets one of an added protocol's optional calls (KABI_INET_1.4).
template<typename Call> int32_t set_call(const keel_inet_protocol_ops* ops, Call Entry::*field, Call call)
{
    if (!ops)
        return -KEEL_EINVAL;
    Locked locked;
    Entry* entry = g_protocols[ops->protocol];
    if (!entry || entry->ops != ops)
        return -KEEL_ENOENT;
    entry->*field = call;
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_writable(
    const keel_inet_protocol_ops* ops, keel_inet_writable writable)
{
    return set_call(ops, &Entry::writable, writable);
}

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_icmp_reports(
    const keel_inet_protocol_ops* ops, keel_inet_icmp_reporter reporter)
{
    return set_call(ops, &Entry::reporter, reporter);
}

extern "C" KEEL_EXPORT int32_t keel_inet_protocol_remove(const keel_inet_protocol_ops* ops)
{
    if (!ops)
        return -KEEL_EINVAL;
    return remove(ops->protocol, [ops](const Entry& entry) { return entry.ops == ops; });
}

extern "C" KEEL_EXPORT int32_t keel_inet_icmp_register(const keel_inet_icmp_ops* ops, void* arg)
{
    if (!ops || ops->size < sizeof(keel_inet_icmp_ops) || ops->version != KEEL_INET_ICMP_OPS_VERSION || !ops->error) {
        keel_log(KEEL_LOG_ERR, "inet: ICMP hook refused: an unknown size or version, or no error function");
        return -KEEL_EINVAL;
    }
    auto* hook = keel::net::net_create<IcmpHook>();
    if (!hook)
        return -KEEL_ENOMEM;
    hook->ops = ops;
    hook->arg = arg;
    Locked locked;
    if (g_icmp) {
        keel::net::net_destroy(hook);
        return -KEEL_EEXIST;
    }
    g_icmp = hook;
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_icmp_unregister(const keel_inet_icmp_ops* ops)
{
    IcmpHook* hook;
    {
        Locked locked;
        hook = g_icmp;
        if (!hook || hook->ops != ops)
            return -KEEL_ENOENT;
        g_icmp = nullptr;
    }
    wait_idle(hook);
    keel::net::net_destroy(hook);
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_icmp_deliver(const keel_inet_icmp_report* report)
{
    if (!report || report->size < sizeof(keel_inet_icmp_report) || !report->transport || report->transport_length < 8)
        return -KEEL_EINVAL;
    Entry* entry;
    keel_inet_icmp_reporter reporter = nullptr;
    {
        Locked locked;
        entry = g_protocols[report->protocol];
        if (!entry || !entry->reporter)
            return -KEEL_ENOENT;
        reporter = entry->reporter;
        take(entry);
    }
    reporter(entry->arg, report);
    put(entry);
    return 0;
}

extern "C" KEEL_EXPORT int32_t keel_inet_icmp_error(uint8_t type, uint8_t code, const keel_inet_datagram* about)
{
    if (!about || !about->bytes || about->size < sizeof(keel_inet_datagram))
        return -KEEL_EINVAL;
    return icmp_error(type, code, about);
}
