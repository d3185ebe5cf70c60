// The block cache's platform in the kernel: the heap, a spinlock ranked
// BlockCache, a wait queue for completions, the log, and the heap's
// reclaim hook.
#include <stdarg.h>

#include "arch/paging.h"
#include "bcache/bcache.h"
#include "bcache/platform.h"
#include "lib/base/format.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "mm/reclaim.h"
#include "mm/vmalloc.h"
#include "sync/spinlock.h"
#include "sync/wait_queue.h"

namespace keel::bcache {

namespace {

constexpr LockClass kCacheLockClass { "block cache", LockRank::BlockCache, false };
Spinlock g_spinlock { kCacheLockClass };
// The interrupt state platform_lock found, for platform_unlock: one holder
// at a time, so one slot.
bool g_irq_state;
WaitQueue g_completions;

size_t reclaim_for_heap(size_t bytes) { return bcache_reclaim(bytes); }

} // namespace

CacheLock g_cache_lock;

void* platform_alloc(size_t size) { return kmalloc(size ? size : 1); }
void platform_free(void* pointer) { kfree(pointer); }

void* platform_alloc_large(size_t size)
{
    auto area = vmalloc(size, arch::kPageWrite);
    return area.is_ok() ? area.value() : nullptr;
}

void platform_free_large(void* pointer)
{
    if (pointer)
        vfree(pointer);
}

// g_cache_lock stands for g_spinlock; the analysis checks the cache
// against the former.
void platform_lock() NO_THREAD_SAFETY_ANALYSIS { g_irq_state = g_spinlock.lock(); }

void platform_unlock() NO_THREAD_SAFETY_ANALYSIS { g_spinlock.unlock(g_irq_state); }

bool platform_try_lock() NO_THREAD_SAFETY_ANALYSIS
{
    bool irq_state;
    if (!g_spinlock.try_lock(irq_state))
        return false;
    g_irq_state = irq_state;
    return true;
}

void platform_wait() NO_THREAD_SAFETY_ANALYSIS
{
    // Interrupts stay off from the unlock to the sleep, so a completion
    // cannot slip in between (one CPU; wait_event relies on the same).
    bool irq_state = g_irq_state;
    g_spinlock.unlock(false);
    g_completions.sleep_locked();
    (void)g_spinlock.lock();
    g_irq_state = irq_state;
}

void platform_wake_all() { g_completions.wake_all(); }

void platform_log(const char* format, ...)
{
    char message[256];
    va_list args;
    va_start(args, format);
    vformat(message, sizeof(message), format, args);
    va_end(args);
    log_warn("bcache: %s", message);
}

size_t platform_default_limit()
{
    // An eighth of memory: enough to keep a working set of metadata and
    // stream files through, little enough to leave the rest alone.
    size_t bytes = pmm_stats().total_pages * 4096 / 8;
    return bytes < (256u << 10) ? (256u << 10) : bytes;
}

void platform_started() { register_reclaimer(reclaim_for_heap); }

} // namespace keel::bcache
