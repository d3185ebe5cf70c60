// udp.kmod: UDP for inet (the protocol library's UdpProtocol): one port
// table for every address, checksums both ways, a port-unreachable error
// through inet's ICMP hook when icmp is loaded (and the errors icmp
// reports about our datagrams, for connected sockets), the endpoints of
// KABI_UDP_1.0 (keel/udp.h) and the datagram sockets of AF_INET
// (KABI_SOCKET_1.0).
#include <keel/inet.h>
#include <keel/keel.h>
#include <keel/module.h>

#include "internal.h"

KEEL_MODULE_NAME("udp");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("UDP for IPv4: ports, checksums, endpoints (KABI_UDP_1.0) and datagram sockets");
KEEL_MODULE_VERSION("1.0");

namespace udp {

State g_state;

namespace {

void input(void*, const keel_inet_datagram* datagram)
{
    inet_glue::as_library(*datagram, [&](const keel::net::Datagram& library) {
        Locked locked;
        g_state.udp->input(library, inet_glue::now_ms());
    });
}

// An ICMP error about a datagram we sent: a hard one is left pending on
// the connected socket that sent it (UdpSocket::connect), which it wakes.
void icmp_report(void*, const keel_inet_icmp_report* report)
{
    Locked locked;
    g_state.udp->icmp_report(inet_glue::as_library(*report), inet_glue::now_ms());
}

const keel_inet_protocol_ops g_protocol = {
    .size = sizeof(keel_inet_protocol_ops),
    .version = KEEL_INET_PROTOCOL_OPS_VERSION,
    .protocol = keel::net::kIpProtocolUdp,
    .name = "udp",
    .input = input,
};

int udp_init()
{
    int32_t status = keel_mutex_create(&g_state.lock);
    if (status)
        return status;
    g_state.udp = keel::net::net_create<keel::net::UdpProtocol>(g_state.output);
    if (!g_state.udp) {
        status = -KEEL_ENOMEM;
        goto fail_lock;
    }
    g_state.udp->set_icmp_errors(&g_state.errors);
    g_state.udp->set_readable(&g_state.readable);
    status = keel_inet_protocol_add(&g_protocol, nullptr);
    if (status)
        goto fail_udp;
    // Sends that found the transmit queue full wait for this call.
    status = keel_inet_protocol_writable(&g_protocol, writable);
    if (status)
        goto fail_protocol;
    // ICMP errors about our datagrams (through icmp, when it is loaded).
    status = keel_inet_protocol_icmp_reports(&g_protocol, icmp_report);
    if (status)
        goto fail_protocol;
    status = keel_socket_family_register(&g_family);
    if (status)
        goto fail_protocol;
    return 0;

fail_protocol:
    keel_inet_protocol_remove(&g_protocol);
fail_udp:
    keel::net::net_destroy(g_state.udp);
fail_lock:
    keel_mutex_destroy(g_state.lock);
    return status;
}

void udp_exit()
{
    // Every socket and endpoint pinned the module (sockets through the
    // core, endpoints through keel_symbol_get): none is open now.
    keel_socket_family_unregister(&g_family);
    keel_inet_protocol_remove(&g_protocol);
    keel::net::net_destroy(g_state.udp);
    keel_mutex_destroy(g_state.lock);
}

} // namespace

} // namespace udp

KEEL_MODULE_INIT(udp::udp_init);
KEEL_MODULE_EXIT(udp::udp_exit);
