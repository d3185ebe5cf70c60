// What the device model needs from its surroundings: memory, one sleeping
// lock, a log, and a way to keep a driver's module loaded while something
// holds one of its devices. The kernel implements these in
// platform_kernel.cpp; host tests substitute their own, so the tree, the
// bindings, devres and pins are tested unchanged under ASan and UBSan.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/intrusive_list.h"
#include "lib/base/new.h"
#include "lib/base/utility.h"
#include "sync/thread_safety.h"

namespace keel {

void* device_alloc(size_t size); // zeroed; nullptr when out of memory
void device_free(void* pointer);

// The device lock: one sleeping lock over the tree, the drivers and every
// binding, held across probe and remove (so a driver's probe and remove
// never race with each other or with bind and unbind). To the analysis it
// is g_device_lock.
class CAPABILITY("device lock") DeviceLock { };
extern DeviceLock g_device_lock;
void device_lock() ACQUIRE(g_device_lock);
void device_unlock() RELEASE(g_device_lock);
// Whether the current thread holds it (probe calling back into the core).
bool device_lock_held();

// The state lock: a spinlock (interrupts off) over each device's state
// transitions, its resource list and its pins, so that resources can be
// added and pins taken from any context without the device lock: a pin is
// taken with the VFS lock held (a mount), which ranks after the device lock.
class CAPABILITY("device state lock") DeviceStateLock { };
extern DeviceStateLock g_device_state_lock;
[[nodiscard]] bool device_state_lock() ACQUIRE(g_device_state_lock);
void device_state_unlock(bool interrupts) RELEASE(g_device_state_lock);

class SCOPED_CAPABILITY DeviceStateGuard {
public:
    DeviceStateGuard() ACQUIRE(g_device_state_lock)
        : m_interrupts(device_state_lock())
    {
    }
    ~DeviceStateGuard() RELEASE() { device_state_unlock(m_interrupts); }
    DeviceStateGuard(const DeviceStateGuard&) = delete;
    DeviceStateGuard& operator=(const DeviceStateGuard&) = delete;

private:
    bool m_interrupts;
};

// Messages (log levels as the kernel log's).
void device_log(int level, const char* format, ...) __attribute__((format(printf, 2, 3)));
inline constexpr int kDeviceLogErr = 3;
inline constexpr int kDeviceLogWarn = 4;
inline constexpr int kDeviceLogInfo = 6;

// Drivers are owned by the module that registered them (null: the core).
// A pin of a device holds the owners of its driver and of its ancestors'
// drivers; each hold is named after the holder (rmmod prints it). The
// record is the caller's, so holding cannot fail or allocate; it may be
// taken with the state lock held.
struct OwnerHold {
    void* owner = nullptr;
    const char* holder = nullptr; // NUL-terminated, lives as long as the hold
    const char* device = nullptr; // the pinned device's name
    IntrusiveListNode node;
};
const char* device_owner_name(void* owner);
void device_owner_hold(void* owner, OwnerHold& hold) REQUIRES(g_device_state_lock);
void device_owner_release(OwnerHold& hold);

// The lock for a scope; reentrant for a thread that already holds it (a
// driver's probe adding child devices or pinning). The analysis sees it
// held for the scope either way.
class SCOPED_CAPABILITY DeviceLockAccess {
public:
    DeviceLockAccess() ACQUIRE(g_device_lock) NO_THREAD_SAFETY_ANALYSIS : m_take(!device_lock_held())
    {
        if (m_take)
            device_lock();
    }
    ~DeviceLockAccess() RELEASE() NO_THREAD_SAFETY_ANALYSIS
    {
        if (m_take)
            device_unlock();
    }
    DeviceLockAccess(const DeviceLockAccess&) = delete;
    DeviceLockAccess& operator=(const DeviceLockAccess&) = delete;

private:
    bool m_take;
};

template<typename T, typename... Args> T* device_create_object(Args&&... args)
{
    void* memory = device_alloc(sizeof(T));
    if (!memory)
        return nullptr;
    return new (memory) T(forward<Args>(args)...);
}

template<typename T> void device_destroy_object(T* object)
{
    if (!object)
        return;
    object->~T();
    device_free(object);
}

} // namespace keel
