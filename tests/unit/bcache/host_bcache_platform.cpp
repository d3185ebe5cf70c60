// The block cache's platform on the host: malloc through the VFS host
// platform's counters (so tests see leaks and can fail allocations), a
// lock that aborts when taken twice, and a wait that completes the file
// devices' deferred requests instead of sleeping (with nothing to
// complete it would sleep forever: abort).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcache/platform.h"
#include "host_bcache.h"
#include "vfs/platform.h"

namespace bcache_test {

namespace {
std::vector<std::string> g_log;
size_t g_waits = 0;
} // namespace

std::vector<FileDevice*>& deferred_devices();

const std::vector<std::string>& logged() { return g_log; }
void clear_log() { g_log.clear(); }
size_t waits() { return g_waits; }

} // namespace bcache_test

namespace keel::bcache {

namespace {
bool g_locked = false;
} // namespace

CacheLock g_cache_lock;

void* platform_alloc(size_t size) { return keel::vfs::platform_alloc(size); }
void platform_free(void* pointer) { keel::vfs::platform_free(pointer); }
void* platform_alloc_large(size_t size) { return calloc(1, size ? size : 1); }
void platform_free_large(void* pointer) { free(pointer); }

void platform_lock() NO_THREAD_SAFETY_ANALYSIS
{
    if (g_locked)
        abort(); // not recursive
    g_locked = true;
}

void platform_unlock() NO_THREAD_SAFETY_ANALYSIS { g_locked = false; }

bool platform_try_lock() NO_THREAD_SAFETY_ANALYSIS
{
    if (g_locked)
        return false;
    g_locked = true;
    return true;
}

void platform_wait() NO_THREAD_SAFETY_ANALYSIS
{
    bcache_test::g_waits++;
    g_locked = false;
    size_t completed = 0;
    for (bcache_test::FileDevice* device : bcache_test::deferred_devices())
        completed += device->complete_pending();
    if (completed == 0) {
        fprintf(stderr, "block cache: waiting with no request pending would sleep forever\n");
        abort();
    }
    g_locked = true;
}

void platform_wake_all() { }

void platform_log(const char* format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    bcache_test::g_log.emplace_back(message);
}

size_t platform_default_limit() { return 64u << 20; }
void platform_started() { }

} // namespace keel::bcache
