#include "net/loopback.h"

#include "mm/heap.h"
#include "time/clock.h"

namespace keel::net {

namespace {

// Loopback datagrams are delivered inside the interface (is_local); a
// frame reaching the link would be a bug in the routing, and is dropped.
class NoLink : public Ipv4Interface::Link { };

NoLink g_no_link;
Ipv4Interface* g_loopback = nullptr;

} // namespace

Millis net_now() { return time::monotonic_ns() / 1000000; }

Result<Ipv4Interface*> loopback_interface()
{
    if (g_loopback)
        return g_loopback;
    InterfaceConfig config;
    config.address = ipv4(127, 0, 0, 1);
    config.prefix_length = 8;
    config.mtu = 65535;
    tcp::Stack::Config tcp_config;
    uint64_t seed = time::monotonic_ns();
    for (size_t i = 0; i < sizeof(tcp_config.secret); i++)
        tcp_config.secret[i] = uint8_t(seed >> (i % 8 * 8)) ^ uint8_t(i * 151);
    Own<Ipv4Interface> loopback = TRY(make<Ipv4Interface>(g_no_link, config, tcp_config));
    g_loopback = loopback.leak();
    return g_loopback;
}

} // namespace keel::net
