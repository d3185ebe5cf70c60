// The protocol library's memory for host tests and fuzzers: malloc, with
// a count of live allocations so a test can see that nothing leaked.
#include "host_platform.h"

#include <stdlib.h>

#include "lib/net/platform.h"

namespace {
long g_live = 0;
long g_fail_after = -1;
} // namespace

long net_live_allocations() { return g_live; }
void net_fail_allocations_after(long count) { g_fail_after = count; }

namespace keel::net {

void* net_alloc(size_t size)
{
    if (g_fail_after >= 0) {
        if (g_fail_after == 0)
            return nullptr;
        g_fail_after--;
    }
    void* memory = malloc(size ? size : 1);
    if (memory)
        g_live++;
    return memory;
}

void net_free(void* pointer)
{
    if (pointer)
        g_live--;
    free(pointer);
}

} // namespace keel::net
