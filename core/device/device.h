// The device model: a tree of devices on buses, drivers with match tables,
// and bindings that own their resources (docs/devices.md).
//
//   bus code (pci)        device_create -> fill ids, regions -> device_register
//                         (matched against every driver on its bus; none:
//                         the unclaimed hook asks for a driver module)
//   driver module         keel_driver_register -> driver_register -> bind
//                         to every unbound device its table matches
//   bind                  state Probing, probe(); failure: resources released
//   unbind                state Going, remove(), resources released newest
//                         first, the bus's own cleanup, state Present
//
// Every function here that is not marked otherwise expects the device lock
// (platform.h), which probe and remove run under.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "device/platform.h"
#include "lib/base/diagnostic.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/result.h"
#include "lib/devmatch/device_table.h"

namespace keel {

struct Device;
struct Driver;
struct IrqLine;

enum class DeviceState : uint8_t {
    Present, // no driver
    Probing, // the driver's probe is running
    Bound,
    Going, // remove() is running, or the resources are being released
};
const char* device_state_name(DeviceState state);

// One resource of a binding. The core releases a binding's resources in
// reverse order of acquisition after remove() returns or probe fails; a
// driver may release one early (devres_take, then its own release).
struct Devres {
    using Release = void (*)(Devres& resource);
    Release release = nullptr;
    const char* kind = nullptr; // "mmio", "irq", "dma", "work", "action", ...
    Device* device = nullptr;   // while on a binding's list
    IntrusiveListNode node;
};

// A named hold on a bound device and on the modules of its driver and its
// ancestors' drivers (keel_device_pin).
struct DevicePin {
    static constexpr size_t kHolderSize = 48;
    static constexpr size_t kMaxDepth = 8;
    Device* device = nullptr;
    char holder[kHolderSize] = {};
    OwnerHold holds[kMaxDepth];
    size_t hold_count = 0;
    IntrusiveListNode node;
};

// A memory or I/O range a device decodes (a PCI BAR).
struct DeviceRegion {
    uint64_t phys;
    uint64_t length; // 0: the device has no such region
    uint32_t flags;  // KEEL_REGION_*
};

// A bus type: how its devices match table entries, and what it undoes
// itself when a binding ends.
struct BusType {
    const char* name;
    devmatch::DeviceBus table_bus;
    // Entry `index` of `table` (already validated) matches `device`.
    bool (*match)(const Device& device, const devmatch::DeviceTable& table, uint32_t index);
    // After remove() and the resource release: the bus's own cleanup (PCI:
    // bus mastering and decoding off, interrupt vectors freed). May be null.
    void (*unbound)(Device& device);
    // The device is going away for good: free bus_data. May be null.
    void (*release)(Device& device);
    IntrusiveListNode node;
    // Before probe: what the bus sets up for every binding (of: the node's
    // interrupt lines, released again by `unbound`). May be null.
    void (*binding)(Device& device) = nullptr;
    // The binding is about to end, before remove(): the bus stops what
    // would call into the driver from elsewhere (virtio: configuration
    // callbacks), waiting for a call still running. May be null.
    void (*unbinding)(Device& device) = nullptr;
    // After remove(), before the binding's resources are released (newest
    // first): the bus stops the device's DMA, so that no buffer goes while
    // the device may still use it (PCI: bus mastering off; virtio: a
    // reset, and dma_quarantine when it does not complete). May be null.
    void (*quiesce)(Device& device) = nullptr;
};

struct Device {
    static constexpr size_t kNameSize = 32;
    static constexpr size_t kMaxRegions = 6;

    char name[kNameSize] = {};
    char modalias[devmatch::kAliasSize] = {};
    const BusType* bus = nullptr;
    Device* parent = nullptr;
    // Written with both the device lock and the state lock held; read with either.
    DeviceState state = DeviceState::Present;
    bool registered = false;
    // Added by the parent's driver (a transport's child): removed when that
    // binding ends. Devices a bus enumerates stay.
    bool added_by_parent_driver = false;
    Driver* driver = nullptr;         // while Probing, Bound or Going
    const void* matched_id = nullptr; // the driver's table entry that matched
    void* drvdata = nullptr;
    void* bus_data = nullptr; // the bus's own object (PciFunction)
    uint64_t dma_mask = 0xffffffffull;
    DeviceRegion regions[kMaxRegions] = {};
    size_t region_count = 0;
    // The interrupts the bus set up for the binding (PCI: alloc_irq_vectors).
    IrqLine** irq_lines = nullptr;
    uint32_t irq_count = 0;

    IntrusiveList<Devres, &Devres::node> resources GUARDED_BY(g_device_state_lock);
    IntrusiveList<DevicePin, &DevicePin::node> pins GUARDED_BY(g_device_state_lock);
    IntrusiveListNode sibling;
    IntrusiveListNode all_node;
    IntrusiveList<Device, &Device::sibling> children;
    uint64_t bindings = 0; // how often it was bound (lsdev, tests)
    // Its DMA could not be stopped (a reset that never completed): memory
    // it may still write is never freed (dma_quarantine). Stays set.
    bool dma_quarantined = false;
};

struct Driver {
    static constexpr size_t kNameSize = KEEL_DRIVER_NAME_MAX + 1;

    keel_driver_ops ops {};                      // the module's table, copied
    const keel_driver_ops* registered = nullptr; // the module's own table
    char name[kNameSize] = {};
    const BusType* bus = nullptr;
    devmatch::DeviceTable table {}; // in the module's image
    void* owner = nullptr;          // the module (null: the core)
    size_t bound = 0;               // devices Probing, Bound or Going with it
    IntrusiveListNode node;
};

// ---- buses
void bus_register(BusType& bus);
const BusType* bus_find(devmatch::DeviceBus table_bus) REQUIRES(g_device_lock);

// ---- devices
// A new device, not yet in the tree: the bus fills in its identity,
// modalias and regions, then calls device_register. `name` is formatted.
Result<Device*> device_create(const BusType* bus, Device* parent, const char* name_format, ...)
    __attribute__((format(printf, 3, 4)));
// Links it into the tree and looks for a driver; with none, the unclaimed
// hook hears of it. A failing probe leaves it registered and unbound.
void device_register(Device& device) REQUIRES(g_device_lock);
// Unbinds it (even when pinned: the hardware is gone), removes its
// children, unlinks and frees it. Also for a device never registered.
void device_remove(Device& device) REQUIRES(g_device_lock);
Device* device_find(const char* name) REQUIRES(g_device_lock);
// Every registered device, parents before children, in registration order.
template<typename F> void for_each_device(F&& visit) REQUIRES(g_device_lock);
IntrusiveList<Device, &Device::all_node>& all_devices() REQUIRES(g_device_lock);

// Called with the device lock held for a device no driver took when it
// was registered (or that the last driver let go of at unregistration).
// It must not load modules (that takes the module registry lock, which
// ranks before the device lock): it queues the request for a thread.
using UnclaimedHook = void (*)(const Device& device);
void device_set_unclaimed_hook(UnclaimedHook hook);

// ---- drivers
// Checks a module's table as keel_fs_type_ops is checked: every field
// before anything trusts it, the message naming the field and value.
// `readable(address, size)` says whether memory lies in the owner's image.
Result<void> validate_driver_ops(const keel_driver_ops* ops,
    bool (*readable)(const void* address, size_t size, void* owner), void* owner, Diagnostic& diagnostic);
// Validates, registers and binds to every matching unbound device.
Result<Driver*> driver_register(const keel_driver_ops* ops, void* owner,
    bool (*readable)(const void* address, size_t size, void* owner), Diagnostic& diagnostic);
// Unbinds every device of the driver and unregisters it; EBUSY (nothing
// changed) while one of them is pinned.
Result<void> driver_unregister(Driver& driver, Diagnostic& diagnostic);
// A module goes: drivers it left registered are unregistered (forcibly).
size_t driver_forget_owner(void* owner);
Driver* driver_find(const char* name) REQUIRES(g_device_lock);
IntrusiveList<Driver, &Driver::node>& all_drivers() REQUIRES(g_device_lock);

// ---- binding
// Binds `device` to `driver` (which must match it): EBUSY when it has a
// driver, ENODEV when the table does not match, or the probe's error.
Result<void> device_bind(Device& device, Driver& driver, Diagnostic& diagnostic) REQUIRES(g_device_lock);
// Binds the first matching driver, if any; false when none took it.
bool device_attach(Device& device) REQUIRES(g_device_lock);
// Unbinds: EINVAL when not bound, EBUSY (naming the holder) when it or a
// descendant is pinned.
Result<void> device_unbind(Device& device, Diagnostic& diagnostic) REQUIRES(g_device_lock);
// Every bound driver's shutdown(), children before parents.
void device_shutdown_all();

// ---- resources of the binding (devres)
// Records `resource` on the binding of `device`: ENODEV unless the device
// is being probed or is bound. Any context; takes the state lock.
Result<void> devres_add(Device& device, Devres& resource, Devres::Release release, const char* kind);
// Takes `resource` off its binding for an early release by its owner:
// false when the core has released (or is releasing) it already.
bool devres_take(Devres& resource);
// Releases everything, newest first (the binding is ending).
void devres_release_all(Device& device);
// Records fn(arg) to run when the binding's resources are released; when
// it cannot be recorded, fn(arg) runs at once (keel_device_add_action).
Result<void> device_add_action(Device& device, void (*fn)(void* arg), void* arg);

// ---- pins
Result<DevicePin*> device_pin(Device& device, const char* holder, Diagnostic& diagnostic);
void device_unpin(DevicePin* pin);
// The first pin on `device` or below it, or null.
const DevicePin* device_find_pin(const Device& device) REQUIRES(g_device_lock);

// ---- statistics (lsdev, the leak tests)
struct DeviceStats {
    size_t devices;
    size_t bound;
    size_t drivers;
    size_t resources; // devres entries on every binding
    size_t pins;
};
DeviceStats device_stats();

template<typename F> void for_each_device(F&& visit)
{
    for (Device& device : all_devices())
        visit(device);
}

} // namespace keel
