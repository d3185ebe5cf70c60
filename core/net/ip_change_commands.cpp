// `ip addr add|del ADDRESS/PREFIX dev DEV`, `ip route add|del default via
// GATEWAY [dev DEV]` and `ip neigh [show [dev DEV]]` with iproute2's
// syntax and messages, over inet.kmod's KABI_INET_1.1.
#include <keel/inet.h>

#include "console/console.h"
#include "console/inet_symbol.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "lib/net/address.h"
#include "log/log.h"
#include "net/ip_command.h"

namespace keel::net {

namespace {

constexpr const char* kNode = "KABI_INET_1.1";

int inet_missing()
{
    console_print("ip: the IPv4 protocols are not loaded (insmod inet)\n");
    return 2;
}

// The interface index of device `name`, 0 after saying it does not exist.
uint32_t device_index(const char* name)
{
    netdev::Netdev* device = netdev_get(name, "ip");
    if (!device) {
        console_print("Cannot find device \"%s\"\n", name);
        return 0;
    }
    uint32_t index = device->index;
    netdev_put(*device, "ip");
    return index;
}

// "A.B.C.D/N" (N 0 to 32; without it 32).
bool parse_prefix(const char* text, Ipv4Address* address, uint32_t* prefix)
{
    char copy[32];
    size_t length = strlen(text);
    if (length >= sizeof(copy))
        return false;
    memcpy(copy, text, length + 1);
    char* slash = strchr(copy, '/');
    *prefix = 32;
    if (slash) {
        *slash = 0;
        Result<uint64_t> value = parse_uint(slash + 1, strlen(slash + 1));
        if (value.is_error() || value.value() > 32)
            return false;
        *prefix = uint32_t(value.value());
    }
    Result<Ipv4Address> parsed = parse_ipv4_address(copy);
    if (parsed.is_error())
        return false;
    *address = parsed.value();
    return true;
}

int rtnetlink_error(int32_t status)
{
    console_print("RTNETLINK answers: %s\n", error_description(Error(-status)));
    return 2;
}

} // namespace

int ip_addr_change(bool add, int argc, char** argv)
{
    // ADDRESS/PREFIX dev DEV
    Ipv4Address address = 0;
    uint32_t prefix = 0;
    if (argc != 3 || strcmp(argv[1], "dev") != 0 || !parse_prefix(argv[0], &address, &prefix)) {
        console_print("Usage: ip addr {add|del} IFADDR/PREFIX dev IFNAME\n");
        return 2;
    }
    uint32_t index = device_index(argv[2]);
    if (!index)
        return 1;
    int32_t status;
    if (add) {
        InetSymbol<keel_inet_address_add_fn> address_add("keel_inet_address_add", kNode);
        if (!address_add)
            return inet_missing();
        status = address_add(index, address, prefix);
    } else {
        InetSymbol<keel_inet_address_del_fn> address_del("keel_inet_address_del", kNode);
        if (!address_del)
            return inet_missing();
        status = address_del(index, address, prefix);
    }
    return status < 0 ? rtnetlink_error(status) : 0;
}

int ip_route_change(bool add, int argc, char** argv)
{
    // default [via GATEWAY] [dev DEV]
    Ipv4Address gateway = 0;
    const char* device = nullptr;
    bool good = argc >= 1 && (strcmp(argv[0], "default") == 0 || strcmp(argv[0], "0.0.0.0/0") == 0);
    for (int i = 1; good && i < argc; i += 2) {
        if (i + 1 >= argc) {
            good = false;
        } else if (strcmp(argv[i], "via") == 0) {
            Result<Ipv4Address> parsed = parse_ipv4_address(argv[i + 1]);
            good = !parsed.is_error();
            gateway = good ? parsed.value() : 0;
        } else if (strcmp(argv[i], "dev") == 0) {
            device = argv[i + 1];
        } else {
            good = false;
        }
    }
    if (!good || (add && !gateway)) {
        console_print("Usage: ip route {add|del} default via GATEWAY [dev IFNAME] (only the default route can be "
                      "changed)\n");
        return 2;
    }
    uint32_t index = 0;
    if (device && !(index = device_index(device)))
        return 1;
    int32_t status;
    if (add) {
        InetSymbol<keel_inet_route_add_default_fn> route_add("keel_inet_route_add_default", kNode);
        if (!route_add)
            return inet_missing();
        status = route_add(gateway, index);
    } else {
        InetSymbol<keel_inet_route_del_default_fn> route_del("keel_inet_route_del_default", kNode);
        if (!route_del)
            return inet_missing();
        status = route_del();
    }
    return status < 0 ? rtnetlink_error(status) : 0;
}

namespace {

struct NeighOptions {
    keel_inet_neighbour_fn* neighbour = nullptr;
    DeviceFilter filter;
};

void show_neighbours(const NetdevSnapshot& device, void* context)
{
    auto* options = static_cast<NeighOptions*>(context);
    if (!options->filter.select(device) || (device.flags & netdev::kFlagLoopback))
        return;
    uint32_t address = 0, state = 0;
    uint8_t mac[6];
    for (uint32_t position = 0; options->neighbour(device.index, position, &address, mac, &state) == 0; position++) {
        char text[16];
        format_ipv4_address(address, text);
        if (state == KEEL_INET_NEIGHBOUR_REACHABLE)
            console_print("%s dev %s lladdr %02x:%02x:%02x:%02x:%02x:%02x REACHABLE\n", text, device.name, mac[0],
                mac[1], mac[2], mac[3], mac[4], mac[5]);
        else
            console_print("%s dev %s INCOMPLETE\n", text, device.name);
    }
}

} // namespace

int ip_neigh(const IpOptions&, int argc, char** argv)
{
    NeighOptions options;
    if (!options.filter.parse(argc, argv)) {
        console_print("Usage: ip neigh [show [dev DEV]]\n");
        return 2;
    }
    InetSymbol<keel_inet_neighbour_fn> neighbour("keel_inet_neighbour", kNode);
    if (!neighbour)
        return options.filter.finish(); // no IPv4: no neighbours
    options.neighbour = neighbour.get();
    netdev_for_each(show_neighbours, &options);
    return options.filter.finish();
}

} // namespace keel::net
