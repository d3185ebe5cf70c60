#include "host_platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "device/platform.h"

namespace {

DeviceHostStats g_stats;
bool g_locked = false;
bool g_state_locked = false;
char g_last_log[512];
std::string g_log;

} // namespace

DeviceHostStats& device_host_stats() { return g_stats; }
const char* device_host_last_log() { return g_last_log; }
const char* device_host_log() { return g_log.c_str(); }
void device_host_clear_log() { g_log.clear(); }

namespace keel {

DeviceLock g_device_lock;
DeviceStateLock g_device_state_lock;

void* device_alloc(size_t size)
{
    if (g_stats.fail_allocations_after >= 0) {
        if (g_stats.fail_allocations_after == 0)
            return nullptr;
        g_stats.fail_allocations_after--;
    }
    void* memory = calloc(1, size ? size : 1);
    if (memory)
        g_stats.allocations++;
    return memory;
}

void device_free(void* pointer)
{
    if (pointer)
        g_stats.allocations--;
    free(pointer);
}

// The capabilities are modelled by the flags; taking one twice is a bug.
void device_lock() NO_THREAD_SAFETY_ANALYSIS
{
    if (g_locked)
        abort();
    g_locked = true;
}

void device_unlock() NO_THREAD_SAFETY_ANALYSIS { g_locked = false; }
bool device_lock_held() { return g_locked; }

bool device_state_lock() NO_THREAD_SAFETY_ANALYSIS
{
    if (g_state_locked)
        abort();
    g_state_locked = true;
    return false;
}

void device_state_unlock(bool) NO_THREAD_SAFETY_ANALYSIS { g_state_locked = false; }

void device_log(int, const char* format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(g_last_log, sizeof(g_last_log), format, args);
    va_end(args);
    g_log += g_last_log;
    g_log += "\n";
}

const char* device_owner_name(void* owner) { return owner ? static_cast<const char*>(owner) : "the core"; }

void device_owner_hold(void* owner, OwnerHold& hold)
{
    hold.owner = owner;
    g_stats.holds++;
}

void device_owner_release(OwnerHold& hold)
{
    if (hold.owner)
        g_stats.holds--;
    hold.owner = nullptr;
}

} // namespace keel
