// The device model's platform in the kernel: the heap, the device mutex,
// the state spinlock, the log, and module holds through the KABI glue.
#include <stdarg.h>

#include "device/platform.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sched/thread.h"
#include "sync/mutex.h"
#include "sync/spinlock.h"

namespace keel {

// core/kabi/device.cpp: the module behind an owner token.
const char* kabi_device_owner_name(void* owner);
void kabi_device_owner_hold(void* owner, OwnerHold& hold);
void kabi_device_owner_release(OwnerHold& hold);

namespace {

constexpr LockClass kDeviceLockClass { "device model", LockRank::DeviceModel, true };
constexpr LockClass kDeviceStateLockClass { "device state", LockRank::DeviceState, false };
Mutex g_device_mutex { kDeviceLockClass };
Spinlock g_device_state_spinlock { kDeviceStateLockClass };

} // namespace

DeviceLock g_device_lock;
DeviceStateLock g_device_state_lock;

void* device_alloc(size_t size) { return kzalloc(size ? size : 1); }
void device_free(void* pointer) { kfree(pointer); }

// g_device_lock stands for g_device_mutex (and the state lock for the
// spinlock); the analysis checks the device model against the former.
void device_lock() NO_THREAD_SAFETY_ANALYSIS { g_device_mutex.lock(); }
void device_unlock() NO_THREAD_SAFETY_ANALYSIS { g_device_mutex.unlock(); }
bool device_lock_held() { return g_device_mutex.owner() == current_thread(); }

bool device_state_lock() NO_THREAD_SAFETY_ANALYSIS { return g_device_state_spinlock.lock(); }
void device_state_unlock(bool interrupts) NO_THREAD_SAFETY_ANALYSIS { g_device_state_spinlock.unlock(interrupts); }

void device_log(int level, const char* format, ...)
{
    va_list args;
    va_start(args, format);
    vlog(level, format, args);
    va_end(args);
}

const char* device_owner_name(void* owner) { return kabi_device_owner_name(owner); }
void device_owner_hold(void* owner, OwnerHold& hold) { kabi_device_owner_hold(owner, hold); }
void device_owner_release(OwnerHold& hold) { kabi_device_owner_release(hold); }

} // namespace keel
