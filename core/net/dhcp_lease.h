// What ip=dhcp at boot and the dhclient command share around inet.kmod's
// keel_inet_dhcp (KABI_INET_1.2), which each reaches with an InetSymbol.
#pragma once

#include <keel/inet.h>
#include <stdint.h>

namespace keel::net {

// The first device that is not a loopback (eth0 on a machine with one
// card), or the device `name`: its index, 0 when there is none.
uint32_t find_ethernet_device(const char* name, char* found_name, size_t size);

// "10.0.2.15/24 from 10.0.2.2, router 10.0.2.2, 86400 s"
void format_lease(const keel_inet_lease& lease, char* out, size_t size);

} // namespace keel::net
