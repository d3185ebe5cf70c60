// `ip addr` and `ip route` (show): the IPv4 addresses inet.kmod keeps,
// reached through KABI_INET_1.0 with symbol_get (inet stays loaded while
// the command runs). Without inet there are no addresses and no routes.
#include <keel/inet.h>

#include "console/console.h"
#include "console/inet_symbol.h"
#include "lib/base/string.h"
#include "lib/net/address.h"
#include "loader/loader.h"
#include "log/log.h"
#include "net/ip_command.h"

namespace keel::net {

namespace {

constexpr const char* kAddressSymbol = "keel_inet_address";

struct AddrOptions {
    keel_inet_address_fn* address = nullptr;
    keel_inet_gateway_fn* gateway = nullptr; // null before inet 1.1
    DeviceFilter filter;
};

void show_addresses(const NetdevSnapshot& device, void* context)
{
    auto* options = static_cast<AddrOptions*>(context);
    if (!options->filter.select(device))
        return;
    print_link(device, false);
    uint32_t address = 0, prefix = 0;
    if (!options->address || options->address(device.index, &address, &prefix) != 0)
        return;
    char text[16];
    format_ipv4_address(address, text);
    bool loopback = device.flags & netdev::kFlagLoopback;
    console_print("    inet %s/%u scope %s %s\n", text, prefix, loopback ? "host" : "global", device.name);
    console_print("       valid_lft forever preferred_lft forever\n");
}

void show_default_route(const NetdevSnapshot& device, void* context)
{
    auto* options = static_cast<AddrOptions*>(context);
    uint32_t gateway = 0;
    if (!(device.flags & netdev::kFlagUp) || !options->gateway || options->gateway(device.index, &gateway) != 0)
        return;
    char text[16];
    format_ipv4_address(gateway, text);
    console_print("default via %s dev %s\n", text, device.name);
}

void show_routes(const NetdevSnapshot& device, void* context)
{
    auto* options = static_cast<AddrOptions*>(context);
    uint32_t address = 0, prefix = 0;
    if (!(device.flags & netdev::kFlagUp) || options->address(device.index, &address, &prefix) != 0)
        return;
    uint32_t mask = prefix ? ~uint32_t(0) << (32 - prefix) : 0;
    char network[16], source[16];
    format_ipv4_address(address & mask, network);
    format_ipv4_address(address, source);
    bool loopback = device.flags & netdev::kFlagLoopback;
    console_print("%s/%u dev %s proto kernel scope %s src %s\n", network, prefix, device.name,
        loopback ? "host" : "link", source);
}

} // namespace

int ip_addr(const IpOptions&, int argc, char** argv)
{
    if (argc >= 1 && (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "del") == 0 || strcmp(argv[0], "delete") == 0))
        return ip_addr_change(strcmp(argv[0], "add") == 0, argc - 1, argv + 1);
    AddrOptions options;
    if (!options.filter.parse(argc, argv)) {
        console_print("Usage: ip addr [show [dev DEV]] | ip addr {add|del} IFADDR/PREFIX dev IFNAME\n");
        return 2;
    }
    options.address = reinterpret_cast<keel_inet_address_fn*>(symbol_get(kAddressSymbol, "KABI_INET_1.0", nullptr));
    netdev_for_each(show_addresses, &options);
    if (options.address)
        symbol_put(kAddressSymbol, nullptr);
    return options.filter.finish();
}

int ip_route(const IpOptions&, int argc, char** argv)
{
    if (argc >= 1 && (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "del") == 0 || strcmp(argv[0], "delete") == 0))
        return ip_route_change(strcmp(argv[0], "add") == 0, argc - 1, argv + 1);
    if (argc > 1 || (argc == 1 && strcmp(argv[0], "show") != 0 && strcmp(argv[0], "list") != 0)) {
        console_print("Usage: ip route [show] | ip route {add|del} default via GATEWAY [dev IFNAME]\n");
        return 2;
    }
    AddrOptions options;
    options.address = reinterpret_cast<keel_inet_address_fn*>(symbol_get(kAddressSymbol, "KABI_INET_1.0", nullptr));
    if (!options.address)
        return 0;
    InetSymbol<keel_inet_gateway_fn> gateway("keel_inet_gateway", "KABI_INET_1.1");
    options.gateway = gateway.get();
    netdev_for_each(show_default_route, &options);
    netdev_for_each(show_routes, &options);
    symbol_put(kAddressSymbol, nullptr);
    return 0;
}

} // namespace keel::net
