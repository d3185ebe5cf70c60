// The VFS's platform in the kernel: the heap, the monotonic clock, one
// sleeping mutex, and module pinning through the KABI glue.
#include "mm/heap.h"
#include "sync/mutex.h"
#include "time/clock.h"
#include "vfs/platform.h"

namespace keel {
// core/kabi/vfs.cpp: keeps the module that registered a type loaded.
bool kabi_vfs_pin_owner(void* owner);
void kabi_vfs_unpin_owner(void* owner);
} // namespace keel

namespace keel::vfs {

namespace {

constexpr LockClass kVfsLockClass { "vfs", LockRank::Vfs, true };
Mutex g_vfs_mutex { kVfsLockClass };

} // namespace

void* platform_alloc(size_t size) { return kmalloc(size ? size : 1); }
void platform_free(void* pointer) { kfree(pointer); }
uint64_t platform_now_ns() { return time::monotonic_ns(); }
VfsLock g_vfs_lock;
// g_vfs_lock stands for g_vfs_mutex; the analysis checks the VFS against
// the former.
void platform_lock() NO_THREAD_SAFETY_ANALYSIS { g_vfs_mutex.lock(); }
void platform_unlock() NO_THREAD_SAFETY_ANALYSIS { g_vfs_mutex.unlock(); }
bool platform_pin_owner(void* owner) { return kabi_vfs_pin_owner(owner); }
void platform_unpin_owner(void* owner) { kabi_vfs_unpin_owner(owner); }

} // namespace keel::vfs
