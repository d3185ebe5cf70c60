// What tests see of the host's net_alloc/net_free (host_platform.cpp).
#pragma once

// Allocations not yet freed.
long net_live_allocations();
// The next `count` allocations succeed, the rest fail; -1 for no limit.
void net_fail_allocations_after(long count);
