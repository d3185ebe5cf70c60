// The device model's platform for host tests and fuzzers (platform.h):
// calloc with a count of live allocations, locks that check they are not
// taken twice, the log kept for inspection, owner holds counted.
#pragma once

#include <stddef.h>

struct DeviceHostStats {
    long allocations = 0; // live
    long fail_allocations_after = -1;
    long holds = 0; // live owner holds
};

DeviceHostStats& device_host_stats();
const char* device_host_last_log();
// Every message since the last call, joined by newlines.
const char* device_host_log();
void device_host_clear_log();
