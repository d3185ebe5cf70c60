// What the protocol library needs from its surroundings inside a module
// (each protocol module, inet, icmp, udp and tcp, builds this file in):
// memory from the kernel heap, assertions that stop the kernel, and the
// deleting destructors' operator delete.
#include <keel/keel.h>

#include "lib/base/assert.h"
#include "lib/net/platform.h"

namespace keel {

void assertion_failed(const char* expression, const char* file, unsigned line)
{
    keel_logf(KEEL_LOG_ERR, "net: assertion failed: %s at %s:%u", expression, file, line);
    keel_panic("net: assertion failed");
}

void must_failed(const char* expression, Error error, const char* file, unsigned line)
{
    keel_logf(KEEL_LOG_ERR, "net: %s failed with %d at %s:%u", expression, int(error), file, line);
    keel_panic("net: MUST failed");
}

namespace net {

void* net_alloc(size_t size) { return keel_alloc(size); }
void net_free(void* pointer) { keel_free(pointer); }

} // namespace net

} // namespace keel

void operator delete(void* pointer) noexcept { keel_free(pointer); }
void operator delete(void* pointer, size_t) noexcept { keel_free(pointer); }
