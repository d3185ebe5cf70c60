// tcp.kmod: TCP for inet (the protocol library's TcpProtocol: RFC 9293's
// state machine with RFC 6298 timers, NewReno, RFC 5961's checks) behind
// the stream sockets of AF_INET (KABI_SOCKET_1.0). One stack serves every
// address; a timer thread runs its timers every 10 ms and, once a second,
// fails the connections whose address went away with its interface.
#include <keel/inet.h>
#include <keel/keel.h>
#include <keel/module.h>

#include "internal.h"

KEEL_MODULE_NAME("tcp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("TCP for IPv4: RFC 9293 connections behind stream sockets");
KEEL_MODULE_VERSION("1.0");
// RFC 9293's Maximum Segment Lifetime: TIME-WAIT lasts twice this, 60 s
// by default; shorter for a test or a link that needs no 60 s.
KEEL_MODULE_PARAM(uint, msl_ms, 30000, "Maximum Segment Lifetime in ms (TIME-WAIT is 2 MSL), 1 to 120000");

namespace tcp {

State g_state;

namespace {

constexpr uint64_t kTickNs = 10 * 1000 * 1000;
constexpr uint32_t kTicksPerAddressCheck = 100; // once a second
constexpr uint64_t kMslMaxMs = 120000;

void input(void*, const keel_inet_datagram* datagram)
{
    inet_glue::as_library(*datagram, [&](const keel::net::Datagram& library) {
        Locked locked;
        g_state.tcp->input(library, inet_glue::now_ms());
        sockets_wake();
    });
}

// An ICMP error about a segment we sent (RFC 1122 4.2.3.9): a connection
// in SYN-SENT refused, a soft error remembered, a smaller path MTU.
void icmp_report(void*, const keel_inet_icmp_report* report)
{
    Locked locked;
    g_state.tcp->icmp_report(inet_glue::as_library(*report), inet_glue::now_ms());
    sockets_wake();
}

int32_t run_timers(void*)
{
    for (uint32_t ticks = 1; !g_state.stopping; ticks++) {
        keel_sleep_ns(kTickNs);
        Locked locked;
        if (ticks % kTicksPerAddressCheck == 0)
            sockets_check_addresses();
        g_state.tcp->tick(inet_glue::now_ms());
        sockets_wake();
    }
    return 0;
}

const keel_inet_protocol_ops g_protocol = {
    .size = sizeof(keel_inet_protocol_ops),
    .version = KEEL_INET_PROTOCOL_OPS_VERSION,
    .protocol = keel::net::kIpProtocolTcp,
    .name = "tcp",
    .input = input,
};

int tcp_init()
{
    if (keel_param_msl_ms == 0 || keel_param_msl_ms > kMslMaxMs) {
        keel_logf(KEEL_LOG_ERR, "tcp: msl_ms=%llu is out of range (1 to %llu ms)",
            static_cast<unsigned long long>(keel_param_msl_ms), static_cast<unsigned long long>(kMslMaxMs));
        return -KEEL_EINVAL;
    }
    g_state.config.defaults.time_wait = 2 * keel_param_msl_ms;
    int32_t status = keel_mutex_create(&g_state.lock);
    if (status)
        return status;
    // RFC 6528: the initial sequence numbers' secret, from the entropy pool.
    keel_get_random_bytes(g_state.config.secret, sizeof(g_state.config.secret));
    g_state.tcp = keel::net::net_create<keel::net::TcpProtocol>(g_state.output, g_state.config);
    if (!g_state.tcp) {
        status = -KEEL_ENOMEM;
        goto fail_lock;
    }
    g_state.stopping = false;
    status = keel_thread_create("tcp-timers", run_timers, nullptr, &g_state.ticker);
    if (status)
        goto fail_tcp;
    status = keel_inet_protocol_add(&g_protocol, nullptr);
    if (status)
        goto fail_ticker;
    // ICMP errors about our segments (through icmp, when it is loaded).
    status = keel_inet_protocol_icmp_reports(&g_protocol, icmp_report);
    if (status)
        goto fail_protocol;
    status = keel_socket_family_register(&g_family);
    if (status)
        goto fail_protocol;
    return 0;

fail_protocol:
    keel_inet_protocol_remove(&g_protocol);
fail_ticker:
    g_state.stopping = true;
    keel_thread_join(g_state.ticker, nullptr);
fail_tcp:
    keel::net::net_destroy(g_state.tcp);
fail_lock:
    keel_mutex_destroy(g_state.lock);
    return status;
}

void tcp_exit()
{
    // Every socket pinned the module: none is open now. Connections
    // released and still closing (TIME-WAIT) go with the stack.
    keel_socket_family_unregister(&g_family);
    keel_inet_protocol_remove(&g_protocol);
    g_state.stopping = true;
    keel_thread_join(g_state.ticker, nullptr);
    keel::net::net_destroy(g_state.tcp);
    keel_mutex_destroy(g_state.lock);
}

} // namespace

} // namespace tcp

KEEL_MODULE_INIT(tcp::tcp_init);
KEEL_MODULE_EXIT(tcp::tcp_exit);
