#include "init/ip_config.h"

#include <keel/inet.h>

#include "boot/params.h"
#include "console/inet_symbol.h"
#include "lib/base/errno.h"
#include "lib/net/address.h"
#include "lib/net/ip_param.h"
#include "loader/autoload.h"
#include "log/log.h"
#include "net/dhcp_lease.h"
#include "net/netdev.h"
#include "sched/thread.h"
#include "time/clock.h"

namespace keel {

namespace {

// How long the boot waits for a network device once autoload has bound
// what was there (a device that appears later is not configured), and
// for a lease: DISCOVERs at 0, about 4 and 12 s.
constexpr uint64_t kDeviceWaitMs = 5000;
constexpr uint32_t kDhcpTimeoutMs = 20000;
constexpr uint64_t kWaitStepMs = 10;

uint32_t wait_for_device(const char* value, const char* wanted, char* name, size_t size)
{
    autoload_settle();
    uint64_t deadline = time::monotonic_ns() + kDeviceWaitMs * 1000000;
    for (;;) {
        if (uint32_t index = net::find_ethernet_device(wanted, name, size))
            return index;
        if (time::monotonic_ns() >= deadline)
            break;
        thread_sleep_ms(kWaitStepMs);
    }
    log_err("ip=%s: no network device%s%s after %llu s; the boot goes on without network", value, *wanted ? " " : "",
        wanted, (unsigned long long)(kDeviceWaitMs / 1000));
    return 0;
}

void configure_static(const char* value, const net::IpParam& param, uint32_t index, const char* name)
{
    net::InetSymbol<keel_inet_address_add_fn> add("keel_inet_address_add", "KABI_INET_1.1");
    net::InetSymbol<keel_inet_route_add_default_fn> route("keel_inet_route_add_default", "KABI_INET_1.1");
    if (!add || !route) {
        log_err("ip=%s: inet has no KABI_INET_1.1", value);
        return;
    }
    // Up first, as Linux's ip= opens the device.
    if (netdev::Netdev* device = net::netdev_get_by_index(index, "ipconfig")) {
        auto up = net::netdev_set_up(*device, true);
        net::netdev_put(*device, "ipconfig");
        if (up.is_error()) {
            log_err("ip=%s: %s: cannot bring it up (%s)", value, name, error_name(up.error()));
            return;
        }
    }
    if (int32_t status = add(index, param.address, param.prefix_length)) {
        log_err("ip=%s: %s: cannot add the address (%s)", value, name, error_name(Error(-status)));
        return;
    }
    if (param.gateway) {
        if (int32_t status = route(param.gateway, index))
            log_err("ip=%s: %s: cannot add the default route (%s)", value, name, error_name(Error(-status)));
    }
}

// The command line's gateway over the lease's router.
void use_gateway(
    const char* value, net::Ipv4Address gateway, const keel_inet_lease& lease, uint32_t index, const char* name)
{
    if (lease.router == gateway)
        return;
    net::InetSymbol<keel_inet_route_add_default_fn> add("keel_inet_route_add_default", "KABI_INET_1.1");
    net::InetSymbol<keel_inet_route_del_default_fn> del("keel_inet_route_del_default", "KABI_INET_1.1");
    if (!add || !del)
        return;
    if (lease.router)
        (void)del();
    char text[16];
    net::format_ipv4_address(gateway, text);
    if (int32_t status = add(gateway, index))
        log_err("ip=%s: %s: no default route via %s (%s)", value, name, text, error_name(Error(-status)));
    else
        log_info("ip=%s: %s: default route via %s (from the command line)", value, name, text);
}

} // namespace

void configure_network_from_cmdline()
{
    const char* value = kernel_params().ip;
    if (!value)
        return;
    auto parsed = net::parse_ip_param(value, nullptr);
    if (parsed.is_error() || parsed.value().mode == net::IpParam::Mode::Off)
        return; // refused when the command line was read, or off
    const net::IpParam& param = parsed.value();
    // IPv4 and its protocols, as a kernel configured with ip= has them:
    // inet first (the others need it), then icmp, udp and tcp.
    static const char* const kModules[] = { "inet", "icmp", "udp", "tcp" };
    for (const char* module : kModules) {
        Diagnostic error;
        if (modprobe(module, error).is_error()) {
            log_err("ip=%s: cannot load %s: %s; the boot goes on without network", value, module, error.message);
            return;
        }
    }
    char name[16] = {};
    uint32_t index = wait_for_device(value, param.device, name, sizeof(name));
    if (!index)
        return;
    if (param.mode == net::IpParam::Mode::Static) {
        configure_static(value, param, index, name);
        return;
    }
    log_info("ip=%s: asking for a DHCP lease on %s (at most %u s)", value, name, kDhcpTimeoutMs / 1000);
    keel_inet_lease lease {};
    net::InetSymbol<keel_inet_dhcp_fn> dhcp("keel_inet_dhcp", "KABI_INET_1.2");
    if (!dhcp) {
        log_err("ip=%s: inet has no KABI_INET_1.2 (DHCP)", value);
        return;
    }
    int32_t status = dhcp(index, kDhcpTimeoutMs, &lease);
    if (status == -int32_t(Error::ETIMEDOUT))
        log_err("ip=%s: %s: no DHCP lease within %u s; the boot goes on without network", value, name,
            kDhcpTimeoutMs / 1000);
    else if (status)
        log_err(
            "ip=%s: %s: DHCP failed (%s); the boot goes on without network", value, name, error_name(Error(-status)));
    else if (param.gateway)
        use_gateway(value, param.gateway, lease, index, name);
}

} // namespace keel
