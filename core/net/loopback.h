// The loopback host: 127.0.0.1/8 on an interface whose datagrams never
// leave it. Created on first use. Until the netdev core exists it is used
// only from the console thread (net_commands.cpp), which is its lock.
#pragma once

#include "lib/base/result.h"
#include "lib/net/interface.h"

namespace keel::net {

Result<Ipv4Interface*> loopback_interface();
// Milliseconds for the protocol library, from the monotonic clock.
Millis net_now();

} // namespace keel::net
