// What the block cache needs from its surroundings: memory, one lock that
// interrupt-time completions can take, a way to sleep until a completion
// and a log. The kernel implements these in platform_kernel.cpp; host
// tests substitute their own (tests/unit/bcache/host_bcache_platform.cpp),
// so the cache's logic runs unchanged under ASan and UBSan.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sync/thread_safety.h"

namespace keel::bcache {

void* platform_alloc(size_t size); // nullptr when out of memory
void platform_free(void* pointer);
// Large zeroed areas (a RAM disk's sectors): vmalloc in the kernel.
void* platform_alloc_large(size_t size);
void platform_free_large(void* pointer);

// The cache lock: a spinlock with interrupts off (completions take it in
// interrupt handlers). Everything in the cache's state is GUARDED_BY it.
class CAPABILITY("block cache lock") CacheLock { };
extern CacheLock g_cache_lock;
void platform_lock() ACQUIRE(g_cache_lock);
void platform_unlock() RELEASE(g_cache_lock);
// Without waiting: false when someone holds it (the heap's reclaim call
// can come from anywhere).
bool platform_try_lock() TRY_ACQUIRE(true, g_cache_lock);
// Releases the lock, sleeps until platform_wake_all() (or a spurious
// wake-up) and takes the lock again: a condition variable. Callers
// re-check their condition in a loop.
void platform_wait() REQUIRES(g_cache_lock);
void platform_wake_all() REQUIRES(g_cache_lock);

// A warning in the kernel log.
void platform_log(const char* format, ...) __attribute__((format(printf, 1, 2)));
// The default limit on cached bytes.
size_t platform_default_limit();
// Called once, when the cache is first used: the kernel registers the
// cache with the heap's reclaim hook here.
void platform_started();

class SCOPED_CAPABILITY CacheLockGuard {
public:
    CacheLockGuard() ACQUIRE(g_cache_lock) { platform_lock(); }
    ~CacheLockGuard() RELEASE() { platform_unlock(); }
    CacheLockGuard(const CacheLockGuard&) = delete;
    CacheLockGuard& operator=(const CacheLockGuard&) = delete;
};

} // namespace keel::bcache
