// The kernel command line's ip= (Linux's Documentation/admin-guide/
// nfs/nfsroot.rst syntax, the parts that mean something here):
//
//     ip=dhcp | ip=on | ip=any          DHCP on the first Ethernet device
//     ip=off | ip=none                  nothing
//     ip=<client>:<server>:<gateway>:<netmask>:<hostname>:<device>:<autoconf>[:...]
//
// In the long form an empty <client> with <autoconf> dhcp (or on, any, or
// empty) asks for DHCP on <device> (empty: the first), and a <gateway>
// given is the default route whatever the server says (as in Linux, the
// command line's values come first; QEMU's user network with restrict=on
// leases no router); a <client> address
// with <autoconf> off or none (or empty) is a static configuration with
// <netmask> (empty: 255.255.255.0) and <gateway> (empty: none). <server>,
// <hostname> and the fields after <autoconf> are accepted and ignored.
// BOOTP and RARP are not implemented and refused.
#pragma once

#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/net/bytes.h"

namespace keel::net {

struct IpParam {
    enum class Mode { Off, Dhcp, Static };
    Mode mode = Mode::Off;
    char device[16] = {}; // empty: the first Ethernet device
    Ipv4Address address = 0;
    uint8_t prefix_length = 24;
    Ipv4Address gateway = 0; // 0: none given
};

// EINVAL with the reason for anything else.
Result<IpParam> parse_ip_param(const char* text, Diagnostic* diagnostic);

} // namespace keel::net
