// Host stand-ins for the kernel's services (host_platform.cpp).
#pragma once

#include <stddef.h>
#include <stdint.h>

struct HostPlatformStats {
    long allocations = 0;             // outstanding platform_alloc/keel_alloc blocks
    long pins = 0;                    // owners pinned (superblocks of owned types)
    bool refuse_pins = false;         // as for a module being unloaded
    long fail_allocations_after = -1; // >= 0: that many succeed, then all fail
};

HostPlatformStats& host_platform_stats();
// The last message a filesystem logged with keel_logf.
const char* host_last_log();
// Every message logged since the last call, one per line, and forgets them.
const char* host_take_logs();
