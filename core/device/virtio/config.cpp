// Configuration-change notifications (KABI_VIRTIO_1.1, virtio.h): the
// transport's interrupt handler reports one, and the driver that asked
// hears of it in thread context, on a work item of its binding.
//
// Safe unbind: the watch is disarmed before the driver's remove() runs
// (the bus's unbinding hook) and again when the binding's resources go
// (a probe that failed). Disarming clears `armed` and then cancels the
// work item, which waits for a call that is running: the worker marks the
// item running before it reads `armed`, so either the call sees it clear
// or the cancel sees the call and waits for it.
#include "device/resources.h"
#include "device/virtio/virtio.h"

namespace keel {

// The object behind a driver's keel_virtio_config_watch.
struct VirtioConfigWatch {
    Devres devres;
    Device* device = nullptr;
    VirtioDevice* owner = nullptr;
    WorkItem* work = nullptr;
    keel_virtio_config_changed_fn callback = nullptr;
    void* arg = nullptr;
    bool armed = false; // atomic
};

namespace {

void run_callback(void* arg)
{
    auto* watch = static_cast<VirtioConfigWatch*>(arg);
    if (__atomic_load_n(&watch->armed, __ATOMIC_SEQ_CST))
        watch->callback(reinterpret_cast<keel_device*>(watch->device), watch->arg);
}

// No call starts after this returns, and none is still running (unless
// the caller is that call, on the worker thread).
void disarm(VirtioConfigWatch& watch)
{
    __atomic_store_n(&watch.armed, false, __ATOMIC_SEQ_CST);
    work_cancel(*watch.work);
}

void release_watch(Devres& resource)
{
    auto* watch = reinterpret_cast<VirtioConfigWatch*>(
        reinterpret_cast<char*>(&resource) - offsetof(VirtioConfigWatch, devres));
    VirtioDevice& owner = *watch->owner;
    // As a queue's release: unpublished, then no interrupt still reads it.
    __atomic_store_n(&owner.config_watch, nullptr, __ATOMIC_SEQ_CST);
    owner.wait_for_dispatches();
    disarm(*watch);
    // The work item, older, is released after this by the binding.
    device_destroy_object(watch);
}

} // namespace

Result<void> virtio_config_watch(
    Device& device, keel_virtio_config_changed_fn callback, void* arg, Diagnostic& diagnostic)
{
    VirtioDevice& owner = virtio_device(device);
    if (!callback)
        return diagnostic.fail(Error::EINVAL, "no configuration-change callback");
    if (__atomic_load_n(&owner.config_watch, __ATOMIC_ACQUIRE))
        return diagnostic.fail(Error::EBUSY, "the binding watches its configuration already");
    auto* watch = device_create_object<VirtioConfigWatch>();
    if (!watch)
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    watch->device = &device;
    watch->owner = &owner;
    watch->callback = callback;
    watch->arg = arg;
    // The work item first: the binding releases newest first, so the watch
    // is disarmed and unpublished before its work item is freed.
    auto work = work_create(device, run_callback, watch);
    if (work.is_error()) {
        device_destroy_object(watch);
        return diagnostic.fail(work.error(), "no work item for configuration changes");
    }
    watch->work = work.value();
    if (auto added = devres_add(device, watch->devres, release_watch, "virtio config"); added.is_error()) {
        device_destroy_object(watch);
        return diagnostic.fail(added.error(), "%s is not being probed or bound", device.name);
    }
    __atomic_store_n(&watch->armed, true, __ATOMIC_SEQ_CST);
    __atomic_store_n(&owner.config_watch, watch, __ATOMIC_RELEASE);
    // A first call at once: a change between the driver's last read of
    // its configuration and now is not missed.
    work_queue(*watch->work, 0);
    return {};
}

void virtio_config_interrupt(Device& device)
{
    if (!is_virtio_device(device))
        return;
    VirtioDevice& owner = virtio_device(device);
    __atomic_add_fetch(&owner.dispatching, 1, __ATOMIC_SEQ_CST);
    VirtioConfigWatch* watch = __atomic_load_n(&owner.config_watch, __ATOMIC_SEQ_CST);
    // Already queued: that call reads the configuration after this change.
    if (watch && __atomic_load_n(&watch->armed, __ATOMIC_SEQ_CST))
        work_queue(*watch->work, 0);
    __atomic_sub_fetch(&owner.dispatching, 1, __ATOMIC_RELEASE);
}

void virtio_config_unbinding(Device& device)
{
    if (!is_virtio_device(device))
        return;
    if (VirtioConfigWatch* watch = __atomic_load_n(&virtio_device(device).config_watch, __ATOMIC_ACQUIRE))
        disarm(*watch);
}

} // namespace keel
