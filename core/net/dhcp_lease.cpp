#include "net/dhcp_lease.h"

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/net/address.h"
#include "net/netdev.h"

namespace keel::net {

namespace {

struct Search {
    const char* name;
    uint32_t index = 0;
    char found[netdev::kNameMax + 1] = {};
};

void visit(const NetdevSnapshot& device, void* context)
{
    auto& search = *static_cast<Search*>(context);
    if (search.index)
        return;
    bool wanted
        = search.name && *search.name ? strcmp(device.name, search.name) == 0 : !(device.flags & KEEL_NETDEV_LOOPBACK);
    if (wanted) {
        search.index = device.index;
        memcpy(search.found, device.name, sizeof(search.found));
    }
}

} // namespace

uint32_t find_ethernet_device(const char* name, char* found_name, size_t size)
{
    Search search;
    search.name = name;
    netdev_for_each(visit, &search);
    if (search.index && found_name)
        format(found_name, size, "%s", search.found);
    return search.index;
}

void format_lease(const keel_inet_lease& lease, char* out, size_t size)
{
    char address[16], server[16], router[16];
    format_ipv4_address(lease.address, address);
    format_ipv4_address(lease.server, server);
    format_ipv4_address(lease.router, router);
    format(out, size, "%s/%u from %s, router %s, %u s", address, lease.prefix_length, server,
        lease.router ? router : "none", lease.lease_seconds);
}

} // namespace keel::net
