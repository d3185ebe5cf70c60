// icmp.kmod: ICMP for inet (the protocol library's IcmpProtocol): echo
// replies, the ICMP error hook that inet and the other protocols ask for
// errors through (rate-limited, RFC 1122 3.2.2's rules), the errors it
// receives handed to the protocol they concern (keel_inet_icmp_deliver),
// and ping
// (KABI_ICMP_1.0, keel/icmp.h). Without it loaded the host answers no
// echo request and sends no ICMP error, as Linux with ICMP off would not.
#include <keel/icmp.h>
#include <keel/inet.h>
#include <keel/keel.h>
#include <keel/module.h>

#include "../inet/glue.h"
#include "lib/net/icmp_protocol.h"

KEEL_MODULE_NAME("icmp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("ICMP for IPv4: echo, errors with a rate limit, ping (KABI_ICMP_1.0)");
KEEL_MODULE_VERSION("1.0");

namespace {

using inet_glue::now_ms;

constexpr uint32_t kMaxPingData = 65507;

// A keel_icmp_ping waiting for its reply: queued (under icmp's lock)
// before its request leaves, and woken by input() when the reply comes.
// It blocks on a completion rather than polling: a poller that slept saw
// the reply only at the next timer tick (up to 1 ms late), and one that
// yielded held the CPU, which under QEMU delayed the user network's
// gateway's reply by up to 3 ms.
struct PingWaiter {
    uint16_t identifier = 0;
    uint16_t sequence = 0;
    keel_completion* replied = nullptr;
    bool answered = false;
    keel::net::IcmpProtocol::EchoReply reply;
    PingWaiter* next = nullptr;
};

struct State {
    keel_mutex* lock = nullptr;
    inet_glue::Output output;
    keel::net::IcmpProtocol* icmp = nullptr;
    PingWaiter* waiters = nullptr;
};

State g_state;

class Locked : inet_glue::ScopedLock {
public:
    Locked()
        : ScopedLock(g_state.lock)
    {
    }
};

// Under icmp's lock: the waiters for this reply have it.
void answer_waiters(const keel::net::IcmpProtocol::EchoReply& reply)
{
    for (PingWaiter* waiter = g_state.waiters; waiter; waiter = waiter->next) {
        if (waiter->answered || waiter->identifier != reply.identifier || waiter->sequence != reply.sequence)
            continue;
        waiter->reply = reply;
        waiter->answered = true;
        keel_completion_complete(waiter->replied);
    }
}

// Under icmp's lock.
void remove_waiter(PingWaiter* waiter)
{
    for (PingWaiter** link = &g_state.waiters; *link; link = &(*link)->next) {
        if (*link == waiter) {
            *link = waiter->next;
            return;
        }
    }
}

void input(void*, const keel_inet_datagram* datagram)
{
    // An error received for a datagram of ours goes to its protocol (tcp
    // acts on it) after icmp's lock is released: a protocol may ask icmp
    // for an error of its own from there.
    inet_glue::IcmpReports reports;
    inet_glue::as_library(*datagram, [&](const keel::net::Datagram& library) {
        Locked locked;
        uint64_t replies = g_state.icmp->stats().echo_replies_received;
        g_state.icmp->set_reports(&reports);
        g_state.icmp->input(library, now_ms());
        g_state.icmp->set_reports(nullptr);
        if (g_state.icmp->stats().echo_replies_received != replies)
            answer_waiters(g_state.icmp->last_echo_reply());
    });
    if (reports.copy.taken)
        (void)keel_inet_icmp_deliver(&reports.copy.report);
}

void error(void*, uint8_t type, uint8_t code, const keel_inet_datagram* about)
{
    inet_glue::as_library_quote(*about, [&](const keel::net::Datagram& library) {
        Locked locked;
        g_state.icmp->icmp_error(type, code, library, now_ms());
    });
}

const keel_inet_protocol_ops g_protocol = {
    .size = sizeof(keel_inet_protocol_ops),
    .version = KEEL_INET_PROTOCOL_OPS_VERSION,
    .protocol = keel::net::kIpProtocolIcmp,
    .name = "icmp",
    .input = input,
};

const keel_inet_icmp_ops g_errors = {
    .size = sizeof(keel_inet_icmp_ops),
    .version = KEEL_INET_ICMP_OPS_VERSION,
    .error = error,
};

int icmp_init()
{
    int32_t status = keel_mutex_create(&g_state.lock);
    if (status)
        return status;
    g_state.icmp = keel::net::net_create<keel::net::IcmpProtocol>(g_state.output);
    if (!g_state.icmp) {
        status = -KEEL_ENOMEM;
        goto fail_lock;
    }
    status = keel_inet_protocol_add(&g_protocol, nullptr);
    if (status)
        goto fail_icmp;
    status = keel_inet_icmp_register(&g_errors, nullptr);
    if (status)
        goto fail_protocol;
    return 0;

fail_protocol:
    keel_inet_protocol_remove(&g_protocol);
fail_icmp:
    keel::net::net_destroy(g_state.icmp);
fail_lock:
    keel_mutex_destroy(g_state.lock);
    return status;
}

void icmp_exit()
{
    // Neither runs after these return.
    keel_inet_icmp_unregister(&g_errors);
    keel_inet_protocol_remove(&g_protocol);
    keel::net::net_destroy(g_state.icmp);
    keel_mutex_destroy(g_state.lock);
}

} // namespace

extern "C" KEEL_EXPORT int32_t keel_icmp_ping(uint32_t destination, uint16_t identifier, uint16_t sequence,
    uint32_t size, uint32_t timeout_ms, uint32_t* from, uint32_t* length, uint32_t* ttl)
{
    if (size > kMaxPingData)
        return -KEEL_EINVAL;
    PingWaiter waiter;
    waiter.identifier = identifier;
    waiter.sequence = sequence;
    int32_t status = keel_completion_create(&waiter.replied);
    if (status)
        return status;
    {
        Locked locked;
        auto sent = g_state.icmp->ping(destination, identifier, sequence, size, now_ms());
        if (sent.is_error()) {
            keel_completion_destroy(waiter.replied);
            return inet_glue::errno_of(sent.error());
        }
        // Queued after the request is handed on: input() runs on the
        // receive thread and takes this lock, so no reply is seen before.
        waiter.next = g_state.waiters;
        g_state.waiters = &waiter;
    }
    (void)keel_completion_wait_timeout(waiter.replied, uint64_t(timeout_ms) * 1000000);
    {
        // A reply that comes after the time ran out, but before this,
        // still counts.
        Locked locked;
        remove_waiter(&waiter);
    }
    keel_completion_destroy(waiter.replied);
    if (!waiter.answered)
        return -KEEL_ETIMEDOUT;
    if (from)
        *from = waiter.reply.from;
    if (length)
        *length = uint32_t(waiter.reply.length);
    if (ttl)
        *ttl = waiter.reply.ttl;
    return 0;
}

KEEL_MODULE_INIT(icmp_init);
KEEL_MODULE_EXIT(icmp_exit);
