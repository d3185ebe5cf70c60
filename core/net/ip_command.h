// The console's `ip` (iproute2's syntax): `ip link` is the netdev core's
// (netdev_commands.cpp); the other objects (addr, route, neigh) belong to
// the IPv4 module and are answered by it when it is loaded.
#pragma once

#include "net/netdev.h"

namespace keel::net {

struct IpOptions {
    bool statistics = false;    // -s
    bool error_details = false; // -s -s: the error lines too (carrier transitions)
    bool details = false;       // -d
};

int ip_link(const IpOptions& options, int argc, char** argv);
int ip_addr(const IpOptions& options, int argc, char** argv);
int ip_route(const IpOptions& options, int argc, char** argv);
int ip_neigh(const IpOptions& options, int argc, char** argv);
// ip addr add|del, ip route add|del: the words after add or del.
int ip_addr_change(bool add, int argc, char** argv);
int ip_route_change(bool add, int argc, char** argv);
// Which devices a show command prints: "[show|list] [dev] [DEV]".
struct DeviceFilter {
    const char* only = nullptr; // nullptr: all
    bool found = false;
    // False when words are left over.
    bool parse(int argc, char** argv);
    // Whether to print `device`; remembers that one was.
    bool select(const NetdevSnapshot& device);
    // 0, or 1 after saying that the device named does not exist.
    int finish() const;
};

// A device's first two lines, as ip link (with_mode) and ip addr print them.
void print_link(const NetdevSnapshot& device, bool with_mode);

} // namespace keel::net
