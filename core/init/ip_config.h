// ip= at boot (lib/net/ip_param.h): inet loaded, the device waited for,
// then DHCP or the static address, each with a bound on its time.
#pragma once

namespace keel {

void configure_network_from_cmdline();

} // namespace keel
