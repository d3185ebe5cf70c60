// The console's `ip` (iproute2's syntax): `ip link` is the netdev core's
// (netdev_commands.cpp); the other objects (addr, route, neigh) belong to
// the IPv4 module and are answered by it when it is loaded.
#pragma once

namespace keel::net {

struct IpOptions {
    bool statistics = false; // -s
    bool details = false;    // -d
};

int ip_link(const IpOptions& options, int argc, char** argv);

} // namespace keel::net
