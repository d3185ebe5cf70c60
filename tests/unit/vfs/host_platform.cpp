// The VFS's platform for host tests and fuzzers: malloc, a fake clock, a
// lock that checks it is never taken twice (the VFS lock is not
// recursive), owner pins counted so tests can see modules pinned; plus the
// few keel.h functions the filesystem modules call.
#include "host_platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include "vfs/platform.h"

namespace {

bool g_locked = false;
uint64_t g_clock = 1000;
HostPlatformStats g_stats;
char g_last_log[512];
char g_logs[65536];
size_t g_logs_length;
char g_taken[65536];

} // namespace

HostPlatformStats& host_platform_stats() { return g_stats; }
const char* host_last_log() { return g_last_log; }

const char* host_take_logs()
{
    memcpy(g_taken, g_logs, g_logs_length + 1);
    g_logs_length = 0;
    g_logs[0] = '\0';
    return g_taken;
}

namespace keel::vfs {

void* platform_alloc(size_t size)
{
    if (g_stats.fail_allocations_after >= 0) {
        if (g_stats.fail_allocations_after == 0)
            return nullptr;
        g_stats.fail_allocations_after--;
    }
    void* memory = malloc(size ? size : 1);
    if (memory) {
        g_stats.allocations++;
        // Fresh memory is never zero here (as the kernel's heap need not
        // be), whatever the build's sanitizers do: code that needs zeros
        // must ask keel_zalloc.
        memset(memory, 0xa5, size ? size : 1);
    }
    return memory;
}

void platform_free(void* pointer)
{
    if (pointer)
        g_stats.allocations--;
    free(pointer);
}

uint64_t platform_now_ns() { return g_clock++; }

VfsLock g_vfs_lock;

// The capability is modelled by g_locked.
void platform_lock() NO_THREAD_SAFETY_ANALYSIS
{
    if (g_locked)
        abort(); // a VFS entry point called from inside another
    g_locked = true;
}

void platform_unlock() NO_THREAD_SAFETY_ANALYSIS { g_locked = false; }

bool platform_pin_owner(void* owner)
{
    if (!owner)
        return true;
    if (g_stats.refuse_pins)
        return false;
    g_stats.pins++;
    return true;
}

void platform_unpin_owner(void* owner)
{
    if (owner)
        g_stats.pins--;
}

} // namespace keel::vfs

extern "C" void* keel_alloc(size_t size) { return keel::vfs::platform_alloc(size); }

extern "C" void* keel_zalloc(size_t size)
{
    void* memory = keel::vfs::platform_alloc(size);
    if (memory)
        memset(memory, 0, size ? size : 1);
    return memory;
}

extern "C" void keel_free(void* pointer) { keel::vfs::platform_free(pointer); }

extern "C" uint64_t keel_monotonic_ns(void) { return g_clock++; }

extern "C" void keel_logf(keel_log_level level, const char* format, ...)
{
    (void)level;
    va_list args;
    va_start(args, format);
    vsnprintf(g_last_log, sizeof(g_last_log), format, args);
    va_end(args);
    size_t length = strlen(g_last_log);
    if (g_logs_length + length + 2 < sizeof(g_logs)) {
        memcpy(g_logs + g_logs_length, g_last_log, length);
        g_logs_length += length;
        g_logs[g_logs_length++] = '\n';
        g_logs[g_logs_length] = '\0';
    }
}
