// The device tree: buses, devices, and the hook that asks for a driver
// module when a device finds no driver.
#include <stdarg.h>

#include "device/device.h"
#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

IntrusiveList<BusType, &BusType::node> g_buses GUARDED_BY(g_device_lock);
IntrusiveList<Device, &Device::all_node> g_devices GUARDED_BY(g_device_lock);
// Devices with no parent, in registration order.
IntrusiveList<Device, &Device::sibling> g_roots GUARDED_BY(g_device_lock);
UnclaimedHook g_unclaimed_hook = nullptr;
size_t g_device_count = 0; // created and not yet freed, registered or not

} // namespace

const char* device_state_name(DeviceState state)
{
    switch (state) {
    case DeviceState::Present: return "present";
    case DeviceState::Probing: return "probing";
    case DeviceState::Bound: return "bound";
    case DeviceState::Going: return "going";
    }
    return "?";
}

void bus_register(BusType& bus)
{
    DeviceLockAccess access;
    if (!bus.node.is_linked())
        g_buses.push_back(bus);
}

const BusType* bus_find(devmatch::DeviceBus table_bus)
{
    for (BusType& bus : g_buses) {
        if (bus.table_bus == table_bus)
            return &bus;
    }
    return nullptr;
}

Result<Device*> device_create(const BusType* bus, Device* parent, const char* name_format, ...)
{
    auto* device = device_create_object<Device>();
    if (!device)
        return Err(Error::ENOMEM);
    va_list args;
    va_start(args, name_format);
    vformat(device->name, sizeof(device->name), name_format, args);
    va_end(args);
    device->bus = bus;
    device->parent = parent;
    __atomic_add_fetch(&g_device_count, 1, __ATOMIC_RELAXED);
    return device;
}

IntrusiveList<Device, &Device::all_node>& all_devices() { return g_devices; }

void device_set_unclaimed_hook(UnclaimedHook hook) { __atomic_store_n(&g_unclaimed_hook, hook, __ATOMIC_RELEASE); }

void device_register(Device& device)
{
    VERIFY(!device.registered);
    device.registered = true;
    g_devices.push_back(device);
    if (device.parent)
        device.parent->children.push_back(device);
    else
        g_roots.push_back(device);
    if (!device.bus || device.modalias[0] == '\0')
        return; // a device no driver binds to (a host bridge's root)
    if (!device_attach(device)) {
        if (UnclaimedHook hook = __atomic_load_n(&g_unclaimed_hook, __ATOMIC_ACQUIRE))
            hook(device);
    }
}

void device_remove(Device& device)
{
    if (device.state != DeviceState::Present) {
        // The hardware is going: even a pinned device is unbound. The pins
        // stay (their holders see the device gone) until released.
        if (const DevicePin* pin = device_find_pin(device))
            device_log(kDeviceLogWarn, "device: %s goes away while %s holds it", device.name, pin->holder);
    }
    while (Device* child = device.children.last())
        device_remove(*child);
    if (device.state == DeviceState::Bound) {
        Diagnostic ignored;
        {
            DeviceStateGuard guard;
            // Pins no longer keep it: device_unbind would refuse.
            while (DevicePin* pin = device.pins.pop_front())
                pin->device = nullptr;
        }
        (void)device_unbind(device, ignored);
    }
    if (device.registered) {
        g_devices.remove(device);
        if (device.parent)
            device.parent->children.remove(device);
        else
            g_roots.remove(device);
        device.registered = false;
    }
    if (device.bus && device.bus->release)
        device.bus->release(device);
    device_destroy_object(&device);
    __atomic_sub_fetch(&g_device_count, 1, __ATOMIC_RELAXED);
}

Device* device_find(const char* name)
{
    for (Device& device : g_devices) {
        if (strcmp(device.name, name) == 0)
            return &device;
    }
    return nullptr;
}

DeviceStats device_stats()
{
    DeviceStats stats {};
    DeviceLockAccess access;
    stats.devices = __atomic_load_n(&g_device_count, __ATOMIC_RELAXED);
    for (Device& device : g_devices) {
        if (device.state != DeviceState::Present)
            stats.bound++;
        DeviceStateGuard guard;
        stats.resources += device.resources.size();
        stats.pins += device.pins.size();
    }
    stats.drivers = all_drivers().size();
    return stats;
}

} // namespace keel
