// Drivers: registration from modules through a versioned ops table, and
// the bindings between drivers and devices. The table begins with its size
// and version; a table from an older module is shorter, and what it lacks
// counts as absent. Every field is checked before the driver is accepted,
// since the table comes from a module.
#include "device/device.h"
#include "lib/base/name.h"
#include "lib/base/string.h"

namespace keel {

namespace {

IntrusiveList<Driver, &Driver::node> g_drivers GUARDED_BY(g_device_lock);

// What every driver needs; the table must be at least large enough to hold it.
// More than any driver needs (4096 PCI entries), so a hostile header's
// sizes cannot overflow what is checked.
constexpr uint64_t kMaxIdTableSize = 1 << 20;

constexpr size_t kMinimumOpsSize = offsetof(keel_driver_ops, probe) + sizeof(keel_driver_probe_fn);

keel_device* handle(Device& device) { return reinterpret_cast<keel_device*>(&device); }

bool valid_driver_name(const char* name, size_t length) { return is_name(name, length, KEEL_DRIVER_NAME_MAX); }

// The entry of the driver's table that matches, or -1.
int64_t matching_entry(const Device& device, const Driver& driver)
{
    if (device.bus != driver.bus || !device.bus || !device.bus->match)
        return -1;
    for (uint32_t i = 0; i < driver.table.count; i++) {
        if (device.bus->match(device, driver.table, i))
            return i;
    }
    return -1;
}

void set_state(Device& device, DeviceState state)
{
    DeviceStateGuard guard;
    device.state = state;
}

// The binding ends (remove() has run, or probe failed): release what it
// owns, let the bus clean up, forget the driver.
void end_binding(Device& device) REQUIRES(g_device_lock)
{
    set_state(device, DeviceState::Going);
    if (device.bus && device.bus->quiesce)
        device.bus->quiesce(device);
    devres_release_all(device);
    if (device.bus && device.bus->unbound)
        device.bus->unbound(device);
    Driver* driver = device.driver;
    device.driver = nullptr;
    device.matched_id = nullptr;
    device.drvdata = nullptr;
    device.dma_mask = 0xffffffffull;
    driver->bound--;
    set_state(device, DeviceState::Present);
}

Result<void> probe(Device& device, Driver& driver, uint32_t entry, Diagnostic& diagnostic) REQUIRES(g_device_lock)
{
    device.driver = &driver;
    device.matched_id = driver.table.entries + size_t(entry) * driver.table.entry_size;
    driver.bound++;
    set_state(device, DeviceState::Probing);
    if (device.bus && device.bus->binding)
        device.bus->binding(device);
    int32_t status = driver.ops.probe(handle(device), device.matched_id);
    if (status != 0) {
        end_binding(device);
        Error error = status < 0 && status > -4096 ? Error(-status) : Error::EINVAL;
        // ENODEV/ENXIO: "not mine after all", as Linux treats them.
        if (error != Error::ENODEV && error != Error::ENXIO)
            device_log(kDeviceLogErr, "%s: probe of %s failed with %d (%s)", driver.name, device.name, int(status),
                error_name(error));
        return diagnostic.fail(
            error, "%s: probe of %s failed with %d (%s)", driver.name, device.name, int(status), error_name(error));
    }
    set_state(device, DeviceState::Bound);
    device.bindings++;
    device_log(kDeviceLogInfo, "%s: bound to %s", driver.name, device.name);
    return {};
}

} // namespace

IntrusiveList<Driver, &Driver::node>& all_drivers() { return g_drivers; }

Driver* driver_find(const char* name)
{
    for (Driver& driver : g_drivers) {
        if (strcmp(driver.name, name) == 0)
            return &driver;
    }
    return nullptr;
}

// The driver's one match table, validated: every field, every entry, and
// an alias for every entry (so autoload finds what the driver binds).
Result<devmatch::DeviceTable> read_id_table(const keel_device_table* table,
    bool (*readable)(const void* address, size_t size, void* owner), void* owner, Diagnostic& diagnostic)
{
    uint64_t table_size = uint64_t(table->header_size) + uint64_t(table->entry_size) * table->entry_count;
    if (table->header_size < sizeof(keel_device_table) || table_size > kMaxIdTableSize
        || !readable(table, size_t(table_size), owner))
        return diagnostic.fail(Error::EINVAL,
            "id_table: a %u-byte header and %u entries of %u bytes do not lie in the module", table->header_size,
            table->entry_count, table->entry_size);
    Diagnostic problem;
    devmatch::DeviceTableReader reader(table, size_t(table_size), &problem);
    auto parsed = reader.next();
    if (parsed.is_error())
        return diagnostic.fail(Error::EINVAL, "id_table: %s", problem.message);
    if (parsed.value().count == 0)
        return diagnostic.fail(Error::EINVAL, "id_table: no entries");
    if (devmatch::check_entry_aliases(parsed.value(), &problem).is_error())
        return diagnostic.fail(Error::EINVAL, "id_table: %s", problem.message);
    return parsed.value();
}

Result<void> validate_driver_ops(const keel_driver_ops* ops,
    bool (*readable)(const void* address, size_t size, void* owner), void* owner, Diagnostic& diagnostic)
{
    if (!ops)
        return diagnostic.fail(Error::EINVAL, "ops is NULL");
    if (!readable(ops, 8, owner))
        return diagnostic.fail(Error::EINVAL, "ops %p does not lie in the module", static_cast<const void*>(ops));
    if (ops->version == 0 || ops->version > KEEL_DRIVER_OPS_VERSION)
        return diagnostic.fail(
            Error::EINVAL, "version %u is not supported (1..%u)", ops->version, KEEL_DRIVER_OPS_VERSION);
    if (ops->size < kMinimumOpsSize || ops->size % sizeof(void*) != 0)
        return diagnostic.fail(Error::EINVAL, "size %u is too small or misaligned (at least %zu, a multiple of %zu)",
            ops->size, kMinimumOpsSize, sizeof(void*));
    if (!readable(ops, ops->size, owner))
        return diagnostic.fail(Error::EINVAL, "size %u runs past the module's image", ops->size);
    if (!ops->name)
        return diagnostic.fail(Error::EINVAL, "name is NULL");
    if (!readable(ops->name, 1, owner))
        return diagnostic.fail(
            Error::EINVAL, "name %p does not lie in the module", static_cast<const void*>(ops->name));
    size_t length = 0;
    while (length <= KEEL_DRIVER_NAME_MAX && readable(ops->name + length, 1, owner) && ops->name[length])
        length++;
    if (!valid_driver_name(ops->name, length))
        return diagnostic.fail(Error::EINVAL, "name \"%.*s\" is not 1 to %zu of [a-z0-9_]", int(length), ops->name,
            size_t(KEEL_DRIVER_NAME_MAX));
    if (ops->flags != 0)
        return diagnostic.fail(Error::EINVAL, "flags 0x%llx: no flags are defined", (unsigned long long)ops->flags);
    if (!ops->id_table)
        return diagnostic.fail(Error::EINVAL, "id_table is NULL");
    if (!readable(ops->id_table, sizeof(keel_device_table), owner))
        return diagnostic.fail(
            Error::EINVAL, "id_table %p does not lie in the module", static_cast<const void*>(ops->id_table));
    // The table's own size comes from its header; the reader checks the
    // header's fields, and only what is readable is handed to it.
    TRY(read_id_table(ops->id_table, readable, owner, diagnostic));
    if (!ops->probe)
        return diagnostic.fail(Error::EINVAL, "required operation probe is NULL");
    return {};
}

Result<Driver*> driver_register(const keel_driver_ops* ops, void* owner,
    bool (*readable)(const void* address, size_t size, void* owner), Diagnostic& diagnostic)
{
    diagnostic.clear();
    TRY(validate_driver_ops(ops, readable, owner, diagnostic));
    DeviceLockAccess access;
    auto* driver = device_create_object<Driver>();
    if (!driver)
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    memcpy(&driver->ops, ops, min<size_t>(ops->size, sizeof(driver->ops)));
    driver->registered = ops;
    size_t length = strnlen(ops->name, KEEL_DRIVER_NAME_MAX);
    memcpy(driver->name, ops->name, length);
    driver->table = MUST(read_id_table(ops->id_table, readable, owner, diagnostic));
    driver->bus = bus_find(driver->table.bus);
    driver->owner = owner;
    if (!driver->bus) {
        device_destroy_object(driver);
        return diagnostic.fail(
            Error::EINVAL, "id_table: the %s bus has no devices here", devmatch::device_bus_name(driver->table.bus));
    }
    if (driver_find(driver->name)) {
        device_destroy_object(driver);
        return diagnostic.fail(Error::EEXIST, "driver \"%s\" is already registered", ops->name);
    }
    g_drivers.push_back(*driver);
    device_log(kDeviceLogInfo, "%s: driver registered (%s bus, %u id(s))", driver->name, driver->bus->name,
        driver->table.count);
    for (Device& device : all_devices()) {
        if (device.state != DeviceState::Present || device.bus != driver->bus)
            continue;
        int64_t entry = matching_entry(device, *driver);
        if (entry < 0)
            continue;
        Diagnostic ignored;
        (void)probe(device, *driver, uint32_t(entry), ignored);
    }
    return driver;
}

Result<void> driver_unregister(Driver& driver, Diagnostic& diagnostic)
{
    diagnostic.clear();
    DeviceLockAccess access;
    for (Device& device : all_devices()) {
        if (device.driver != &driver)
            continue;
        if (const DevicePin* pin = device_find_pin(device))
            return diagnostic.fail(Error::EBUSY, "%s: %s is in use by %s", driver.name, device.name, pin->holder);
    }
    for (Device& device : all_devices()) {
        if (device.driver == &driver && device.state == DeviceState::Bound)
            MUST(device_unbind(device, diagnostic));
    }
    VERIFY(driver.bound == 0);
    g_drivers.remove(driver);
    device_log(kDeviceLogInfo, "%s: driver unregistered", driver.name);
    device_destroy_object(&driver);
    return {};
}

size_t driver_forget_owner(void* owner)
{
    if (!owner)
        return 0;
    DeviceLockAccess access;
    size_t forgotten = 0;
    for (Driver* driver = g_drivers.first(); driver;) {
        Driver* next = g_drivers.next(*driver);
        if (driver->owner == owner) {
            device_log(
                kDeviceLogWarn, "%s: removing driver %s it left registered", device_owner_name(owner), driver->name);
            for (Device& device : all_devices()) {
                if (device.driver == driver && device.state == DeviceState::Bound) {
                    DeviceStateGuard guard;
                    while (DevicePin* pin = device.pins.pop_front())
                        pin->device = nullptr;
                }
            }
            Diagnostic ignored;
            MUST(driver_unregister(*driver, ignored));
            forgotten++;
        }
        driver = next;
    }
    return forgotten;
}

Result<void> device_bind(Device& device, Driver& driver, Diagnostic& diagnostic)
{
    if (device.state != DeviceState::Present)
        return diagnostic.fail(Error::EBUSY, "%s is %s (driver %s)", device.name, device_state_name(device.state),
            device.driver ? device.driver->name : "none");
    int64_t entry = matching_entry(device, driver);
    if (entry < 0)
        return diagnostic.fail(Error::ENODEV, "%s does not match %s's table", device.name, driver.name);
    return probe(device, driver, uint32_t(entry), diagnostic);
}

bool device_attach(Device& device)
{
    if (device.state != DeviceState::Present)
        return device.state == DeviceState::Bound;
    for (Driver& driver : g_drivers) {
        int64_t entry = matching_entry(device, driver);
        if (entry < 0)
            continue;
        Diagnostic ignored;
        if (probe(device, driver, uint32_t(entry), ignored).is_ok())
            return true;
    }
    return false;
}

Result<void> device_unbind(Device& device, Diagnostic& diagnostic)
{
    if (device.state != DeviceState::Bound)
        return diagnostic.fail(Error::EINVAL, "%s is %s, not bound", device.name, device_state_name(device.state));
    if (const DevicePin* pin = device_find_pin(device)) {
        if (pin->device == &device)
            return diagnostic.fail(Error::EBUSY, "%s is in use by %s", device.name, pin->holder);
        return diagnostic.fail(
            Error::EBUSY, "%s is in use: %s below it is held by %s", device.name, pin->device->name, pin->holder);
    }
    Driver* driver = device.driver;
    set_state(device, DeviceState::Going);
    if (device.bus && device.bus->unbinding)
        device.bus->unbinding(device);
    if (driver->ops.remove)
        driver->ops.remove(handle(device));
    // Children the binding added (a transport's devices) go with it;
    // children the bus found (behind a bridge) stay.
    for (Device* child = device.children.last(); child;) {
        Device* previous = device.children.prev(*child);
        if (child->added_by_parent_driver)
            device_remove(*child);
        child = previous;
    }
    end_binding(device);
    device_log(kDeviceLogInfo, "%s: unbound from %s", driver->name, device.name);
    return {};
}

void device_shutdown_all()
{
    DeviceLockAccess access;
    // Children were registered after their parents: walk backwards.
    for (Device* device = all_devices().last(); device; device = all_devices().prev(*device)) {
        if (device->state == DeviceState::Bound && device->driver->ops.shutdown)
            device->driver->ops.shutdown(handle(*device));
    }
}

} // namespace keel
