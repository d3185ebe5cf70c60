// What the VFS needs from its surroundings: memory, a clock, one lock and
// a way to keep a filesystem's module loaded while it is mounted. The
// kernel implements these in platform_kernel.cpp; host tests substitute
// their own (tests/unit/vfs/platform_host.cpp), so the VFS logic is tested
// unchanged under ASan and UBSan.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/new.h"
#include "lib/base/result.h"
#include "lib/base/utility.h"
#include "sync/thread_safety.h"

namespace keel::vfs {

void* platform_alloc(size_t size); // nullptr when out of memory
void platform_free(void* pointer);
uint64_t platform_now_ns();

// The VFS lock: one sleeping lock over the whole tree (mounts, dentries,
// open files' positions and every filesystem operation). Filesystems then
// need no locks of their own, at the price of no parallelism inside the
// VFS, which a two-core kernel with one console can afford for now.
// To the thread-safety analysis the lock is g_vfs_lock: the VFS's state is
// GUARDED_BY it and its internal functions REQUIRE it (internal.h).
class CAPABILITY("vfs lock") VfsLock { };
extern VfsLock g_vfs_lock;
void platform_lock() ACQUIRE(g_vfs_lock);
void platform_unlock() RELEASE(g_vfs_lock);

// Keeps the module that registered a filesystem type (`owner`, what the
// registration recorded) loaded while a superblock of that type exists;
// false when the module is being unloaded (nothing pinned: the type's
// code must not be called). Called with the VFS lock held; must not take
// locks the loader holds while it calls into the VFS.
[[nodiscard]] bool platform_pin_owner(void* owner);
void platform_unpin_owner(void* owner);

class SCOPED_CAPABILITY LockGuard {
public:
    LockGuard() ACQUIRE(g_vfs_lock) { platform_lock(); }
    ~LockGuard() RELEASE() { platform_unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;
};

template<typename T, typename... Args> T* create(Args&&... args)
{
    void* memory = platform_alloc(sizeof(T));
    if (!memory)
        return nullptr;
    return new (memory) T(forward<Args>(args)...);
}

template<typename T> void destroy(T* object)
{
    if (!object)
        return;
    object->~T();
    platform_free(object);
}

} // namespace keel::vfs
