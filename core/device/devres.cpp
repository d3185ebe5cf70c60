// The resources of a binding (Linux's devres) and named pins on devices.
//
// Every resource a driver acquires through a keel_device* is recorded on
// the device's list under the state lock, so acquisition works from any
// context (an interrupt handler queueing work, a work item mapping DMA)
// and cannot race with the binding ending: a resource is either recorded
// before the state leaves Probing/Bound, and then released by the core, or
// refused with ENODEV.
#include "device/device.h"
#include "lib/base/format.h"

namespace keel {

Result<void> devres_add(Device& device, Devres& resource, Devres::Release release, const char* kind)
{
    resource.release = release;
    resource.kind = kind;
    DeviceStateGuard guard;
    if (device.state != DeviceState::Probing && device.state != DeviceState::Bound)
        return Err(Error::ENODEV);
    resource.device = &device;
    device.resources.push_back(resource);
    return {};
}

bool devres_take(Devres& resource)
{
    DeviceStateGuard guard;
    if (!resource.device || !resource.node.is_linked())
        return false;
    resource.node.unlink();
    resource.device = nullptr;
    return true;
}

void devres_release_all(Device& device)
{
    while (true) {
        Devres* resource;
        {
            DeviceStateGuard guard;
            resource = device.resources.last();
            if (!resource)
                return;
            device.resources.remove(*resource);
            resource->device = nullptr;
        }
        // Without the lock: releasing may sleep (waiting for a handler or
        // a work item to finish) or free memory.
        resource->release(*resource);
    }
}

const DevicePin* device_find_pin(const Device& device)
{
    {
        DeviceStateGuard guard;
        if (const DevicePin* pin = device.pins.first())
            return pin;
    }
    for (const Device& child : device.children) {
        if (const DevicePin* pin = device_find_pin(child))
            return pin;
    }
    return nullptr;
}

Result<DevicePin*> device_pin(Device& device, const char* holder, Diagnostic& diagnostic)
{
    auto* pin = device_create_object<DevicePin>();
    if (!pin)
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    format(pin->holder, sizeof(pin->holder), "%s", holder && holder[0] ? holder : "(unnamed)");
    DeviceStateGuard guard;
    // A device is held only while bound: one being probed or going away
    // has no users yet, or none any more.
    if (device.state != DeviceState::Bound) {
        device_destroy_object(pin);
        return diagnostic.fail(Error::ENODEV, "%s is %s", device.name, device_state_name(device.state));
    }
    // The driver of the device and of every ancestor stays: removing any of
    // them would take the device away.
    for (Device* holder_of = &device; holder_of && pin->hold_count < DevicePin::kMaxDepth;
         holder_of = holder_of->parent) {
        if (holder_of->state != DeviceState::Bound || !holder_of->driver || !holder_of->driver->owner)
            continue;
        OwnerHold& hold = pin->holds[pin->hold_count++];
        hold.holder = pin->holder;
        hold.device = device.name;
        device_owner_hold(holder_of->driver->owner, hold);
    }
    pin->device = &device;
    device.pins.push_back(*pin);
    return pin;
}

void device_unpin(DevicePin* pin)
{
    if (!pin)
        return;
    {
        DeviceStateGuard guard;
        pin->node.unlink();
        pin->device = nullptr;
    }
    for (size_t i = 0; i < pin->hold_count; i++)
        device_owner_release(pin->holds[i]);
    device_destroy_object(pin);
}

} // namespace keel

namespace keel {

namespace {

struct ActionRecord {
    Devres devres;
    void (*fn)(void* arg);
    void* arg;
};

void run_action(Devres& resource)
{
    auto* record = reinterpret_cast<ActionRecord*>(reinterpret_cast<char*>(&resource) - offsetof(ActionRecord, devres));
    record->fn(record->arg);
    device_destroy_object(record);
}

} // namespace

Result<void> device_add_action(Device& device, void (*fn)(void* arg), void* arg)
{
    auto* record = device_create_object<ActionRecord>();
    if (!record) {
        fn(arg);
        return Err(Error::ENOMEM);
    }
    record->fn = fn;
    record->arg = arg;
    if (auto added = devres_add(device, record->devres, run_action, "action"); added.is_error()) {
        device_destroy_object(record);
        fn(arg);
        return added;
    }
    return {};
}

} // namespace keel
