// IPv4 addresses as people write them: "10.0.2.15".
#pragma once

#include <stddef.h>

#include "lib/base/result.h"
#include "lib/net/bytes.h"

namespace keel::net {

// Four decimal numbers of 0 to 255 separated by dots, nothing else (no
// leading zeros' octal, no shortened forms): EINVAL otherwise.
Result<Ipv4Address> parse_ipv4_address(const char* text);
// Writes "a.b.c.d" and a NUL; `out` holds at least 16 bytes.
void format_ipv4_address(Ipv4Address address, char* out);

} // namespace keel::net
