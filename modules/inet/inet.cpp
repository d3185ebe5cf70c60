// inet.kmod: IPv4 (ARP, header checks, reassembly, routes: the protocol
// library's Ipv4Interface, core/lib/net) on the netdev core's lo at
// 127.0.0.1/8 and on the devices given an address (interfaces.cpp), with
// the IP protocol table the protocol modules (icmp, udp, tcp) register in
// (protocols.cpp). Frames arrive through the ethertype table (IPv4 and
// ARP) in the core's receive thread and leave through
// keel_netdev_transmit; a timer thread runs the neighbour and reassembly
// timers. The datagrams for the protocols are handed over after the
// interface's lock is released, so a protocol may send from its input.
#include <keel/keel.h>
#include <keel/module.h>

#include "internal.h"
#include "lib/base/string.h"
#include "lib/net/address.h"

KEEL_MODULE_NAME("inet");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION(
    "IPv4: interfaces, routes, ARP, reassembly, the IP protocol table, a DHCP client (KABI_INET_1.0 to 1.4)");
KEEL_MODULE_VERSION("1.0");

namespace inet {

using keel::net::Ipv4Interface;

State g_state;

namespace {

constexpr uint64_t kTickNs = 10 * 1000 * 1000;
constexpr uint32_t kTicksPerDeviceCheck = 100; // once a second

void receive_frame(void*, keel_netdev* device, keel_pkt* packet)
{
    const uint8_t* frame = keel_pkt_link_header(packet);
    keel_netdev_info info {};
    info.size = sizeof(info);
    info.version = KEEL_NETDEV_INFO_VERSION;
    if (frame && keel_netdev_info_get(device, &info) == 0) {
        Locked locked;
        size_t length = keel_pkt_length(packet) + keel::net::kEthernetHeaderSize;
        if (Interface* interface = find_interface(info.index)) {
            Collector& collector = g_state.collector;
            collector.index = info.index;
            collector.frame = packet;
            collector.frame_bytes = frame;
            collector.frame_length = length;
            collector.frame_taken = false;
            if (!dhcp_take(info.index, frame, length)) // the server's answer to a renewal
                interface->host->receive(frame, length, now_ms());
            if (collector.frame_taken)
                packet = nullptr; // it waits for dispatch()
            collector.frame = nullptr;
        } else {
            dhcp_input(info.index, frame, length); // a device without an address: DHCP may be asking
        }
    }
    if (packet)
        keel_pkt_free(packet);
    dispatch();
}

int32_t run_timers(void*)
{
    for (uint32_t ticks = 1; !g_state.stopping; ticks++) {
        keel_sleep_ns(kTickNs);
        {
            Locked locked;
            if (ticks % kTicksPerDeviceCheck == 0)
                forget_gone_devices();
            for (Interface& interface : g_state.interfaces) {
                g_state.collector.index = interface.index;
                if (interface.index)
                    interface.host->tick(now_ms());
            }
            dhcp_tick();
        }
        send_deferred_icmp_errors();
        dispatch();
    }
    return 0;
}

int32_t create_interface()
{
    keel::net::InterfaceConfig config;
    config.address = keel::net::ipv4(127, 0, 0, 1);
    config.prefix_length = 8;
    config.mtu = 65535;
    config.loopback_device = true;
    if (!g_state.pending.allocate())
        return -KEEL_ENOMEM;
    Interface& lo = g_state.interfaces[0];
    lo.link.held = g_state.lo;
    lo.link.index = g_state.lo_index;
    lo.host = keel::net::net_create<Ipv4Interface>(lo.link, config);
    if (!lo.host) {
        g_state.pending.destroy();
        return -KEEL_ENOMEM;
    }
    lo.host->set_fallback(&g_state.collector);
    lo.host->set_icmp_errors(&deferred_icmp_errors());
    lo.index = g_state.lo_index;
    memcpy(lo.name, "lo", 3);
    return 0;
}

void destroy_interface()
{
    for (Interface& interface : g_state.interfaces) {
        if (interface.index)
            remove_interface(interface);
    }
    g_state.pending.destroy();
}

int inet_init()
{
    int32_t status = keel_mutex_create(&g_state.lock);
    if (status)
        return status;
    status = keel_mutex_create(&g_state.dispatching);
    if (status) {
        keel_mutex_destroy(g_state.lock);
        return status;
    }
    g_state.lo = keel_netdev_get("lo", kHolder);
    if (!g_state.lo) {
        status = -KEEL_ENODEV;
        goto fail_locks;
    }
    {
        keel_netdev_info info {};
        info.size = sizeof(info);
        info.version = KEEL_NETDEV_INFO_VERSION;
        status = keel_netdev_info_get(g_state.lo, &info);
        if (status)
            goto fail_device;
        g_state.lo_index = info.index;
    }
    status = create_interface();
    if (status)
        goto fail_device;
    status = keel_ethertype_register(keel::net::kEtherTypeIpv4, receive_frame, nullptr);
    if (status)
        goto fail_interface;
    status = keel_ethertype_register(keel::net::kEtherTypeArp, receive_frame, nullptr);
    if (status)
        goto fail_ipv4;
    g_state.stopping = false;
    status = keel_netdev_tx_room_register(tell_writable, nullptr);
    if (status)
        goto fail_arp;
    status = watch_modules();
    if (status)
        goto fail_tx_room;
    status = keel_thread_create("inet-timers", run_timers, nullptr, &g_state.ticker);
    if (status)
        goto fail_watch;
    keel_log(KEEL_LOG_INFO, "inet: 127.0.0.1/8 on lo");
    return 0;

fail_watch:
    unwatch_modules();
fail_tx_room:
    keel_netdev_tx_room_unregister(tell_writable, nullptr);
fail_arp:
    keel_ethertype_unregister(keel::net::kEtherTypeArp);
fail_ipv4:
    keel_ethertype_unregister(keel::net::kEtherTypeIpv4);
fail_interface:
    destroy_interface();
fail_device:
    keel_netdev_put(g_state.lo, kHolder);
fail_locks:
    keel_mutex_destroy(g_state.dispatching);
    keel_mutex_destroy(g_state.lock);
    return status;
}

void inet_exit()
{
    // The protocol modules need inet (DT_NEEDED): none is loaded now, so
    // the protocol table and the ICMP hook are empty (what one left there
    // went with it: forget_module).
    unwatch_modules();
    // No frame reaches the interface after these return.
    keel_ethertype_unregister(keel::net::kEtherTypeArp);
    keel_ethertype_unregister(keel::net::kEtherTypeIpv4);
    keel_netdev_tx_room_unregister(tell_writable, nullptr);
    g_state.stopping = true;
    keel_thread_join(g_state.ticker, nullptr);
    {
        Locked locked;
        dhcp_stop_all();
    }
    destroy_interface();
    keel_netdev_put(g_state.lo, kHolder);
    keel_mutex_destroy(g_state.dispatching);
    keel_mutex_destroy(g_state.lock);
    if (g_state.dropped_pending)
        keel_logf(KEEL_LOG_WARNING, "inet: %llu datagram(s) were dropped before dispatch (no memory, or 512 waiting)",
            (unsigned long long)g_state.dropped_pending);
    g_state.dropped_pending = 0;
}

} // namespace

keel::net::Millis now_ms() { return keel_monotonic_ns() / 1000000; }

} // namespace inet

KEEL_MODULE_INIT(inet::inet_init);
KEEL_MODULE_EXIT(inet::inet_exit);
