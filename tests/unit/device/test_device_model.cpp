// The device model on the host (core/device with host_platform.cpp): the
// checks of a module's driver table, binding and unbinding, resources
// released newest first after remove() or a failed probe, pins, children
// of a binding, and nothing left allocated at the end.
#include <catch2/catch.hpp>
#include <string.h>

#include <string>
#include <vector>

#include <keel/device.h>

#include "device/device.h"
#include "host_platform.h"
#include "lib/devmatch/pci.h"

using namespace keel;

namespace {

KEEL_DEVICE_TABLE(pci, widget_ids, KEEL_PCI_DEVICE(0x1234, 0x0001), KEEL_PCI_DEVICE(0x1234, 0x0002));
KEEL_DEVICE_TABLE(pci, bridge_ids, KEEL_PCI_DEVICE(0x8086, 0x0100));

std::vector<std::string> g_events;

bool readable_anywhere(const void*, size_t, void*) { return true; }

// A bus whose devices carry a PCI identity in bus_data.
bool fake_match(const Device& device, const devmatch::DeviceTable& table, uint32_t index)
{
    auto* identity = static_cast<const devmatch::PciId*>(device.bus_data);
    return devmatch::pci_matches(devmatch::pci_entry(table, index), *identity);
}

void fake_unbound(Device& device) { g_events.push_back(std::string("bus cleanup ") + device.name); }

void fake_release(Device& device) { delete static_cast<devmatch::PciId*>(device.bus_data); }

BusType g_fake_bus { "pci", devmatch::DeviceBus::Pci, fake_match, fake_unbound, fake_release, {} };

std::vector<std::string> g_unclaimed;
void unclaimed(const Device& device) { g_unclaimed.push_back(device.name); }

Device& add_device(
    const char* name, uint16_t vendor, uint16_t device_id, Device* parent = nullptr, bool by_driver = false)
{
    Device* device = MUST(device_create(&g_fake_bus, parent, "%s", name));
    device->bus_data = new devmatch::PciId { vendor, device_id, 0, 0, 0 };
    MUST(devmatch::format_pci_modalias(
        *static_cast<devmatch::PciId*>(device->bus_data), device->modalias, sizeof(device->modalias)));
    device->added_by_parent_driver = by_driver;
    DeviceLockAccess access;
    device_register(*device);
    return *device;
}

void record(void* arg) { g_events.push_back(static_cast<const char*>(arg)); }

// What a probe does, per test.
int g_probe_result = 0;
bool g_probe_adds_child = false;

int32_t widget_probe(keel_device* handle, const void* id)
{
    auto& device = *reinterpret_cast<Device*>(handle);
    auto* entry = static_cast<const keel_pci_device_id*>(id);
    g_events.push_back(std::string("probe ") + device.name + " " + std::to_string(entry->device));
    REQUIRE(device.state == DeviceState::Probing);
    device.drvdata = &device;
    REQUIRE(device_add_action(device, record, (void*)"release first").is_ok());
    REQUIRE(device_add_action(device, record, (void*)"release second").is_ok());
    REQUIRE(device_add_action(device, record, (void*)"release third").is_ok());
    if (g_probe_adds_child)
        add_device("child", 0x1af4, 0x1042, &device, true);
    return g_probe_result;
}

void widget_remove(keel_device* handle)
{
    auto& device = *reinterpret_cast<Device*>(handle);
    g_events.push_back(std::string("remove ") + device.name);
    REQUIRE(device.state == DeviceState::Going);
}

keel_driver_ops widget_ops()
{
    keel_driver_ops ops {};
    ops.size = sizeof(ops);
    ops.version = KEEL_DRIVER_OPS_VERSION;
    ops.name = "widget";
    ops.id_table = KEEL_DEVICE_TABLE_OF(widget_ids);
    ops.probe = widget_probe;
    ops.remove = widget_remove;
    return ops;
}

int32_t bridge_probe(keel_device*, const void*) { return 0; }

std::string refusal(const keel_driver_ops* ops, bool (*readable)(const void*, size_t, void*) = readable_anywhere)
{
    Diagnostic diagnostic;
    auto result = validate_driver_ops(ops, readable, nullptr, diagnostic);
    REQUIRE(result.is_error());
    CHECK(result.error() == Error::EINVAL);
    return diagnostic.message;
}

struct Fixture {
    Fixture()
    {
        g_events.clear();
        g_unclaimed.clear();
        g_probe_result = 0;
        g_probe_adds_child = false;
        bus_register(g_fake_bus);
        device_set_unclaimed_hook(unclaimed);
    }
    ~Fixture()
    {
        DeviceLockAccess access;
        while (Driver* driver = all_drivers().first()) {
            Diagnostic ignored;
            (void)driver_unregister(*driver, ignored);
        }
        while (Device* device = all_devices().last()) {
            while (device->parent)
                device = device->parent;
            device_remove(*device);
        }
        CHECK(device_host_stats().allocations == 0);
        CHECK(device_host_stats().holds == 0);
    }
};

Driver& register_widget(const keel_driver_ops& ops, void* owner = nullptr)
{
    Diagnostic diagnostic;
    auto driver = driver_register(&ops, owner, readable_anywhere, diagnostic);
    INFO(diagnostic.message);
    REQUIRE(driver.is_ok());
    return *driver.value();
}

} // namespace

TEST_CASE("A module's driver table is checked field by field")
{
    keel_driver_ops ops = widget_ops();
    CHECK(refusal(nullptr) == "ops is NULL");
    ops.version = 0;
    CHECK(refusal(&ops) == "version 0 is not supported (1..1)");
    ops = widget_ops();
    ops.version = 2;
    CHECK(refusal(&ops) == "version 2 is not supported (1..1)");
    ops = widget_ops();
    ops.size = 16;
    CHECK(refusal(&ops).find("size 16 is too small or misaligned") != std::string::npos);
    ops.size = sizeof(ops) - 4;
    CHECK(refusal(&ops).find("misaligned") != std::string::npos);
    ops = widget_ops();
    ops.name = nullptr;
    CHECK(refusal(&ops) == "name is NULL");
    ops.name = "Widget-1";
    CHECK(refusal(&ops) == "name \"Widget-1\" is not 1 to 31 of [a-z0-9_]");
    ops.name = "";
    CHECK(refusal(&ops) == "name \"\" is not 1 to 31 of [a-z0-9_]");
    ops.name = "a_name_that_is_far_too_long_for_a_driver";
    CHECK(refusal(&ops).find("is not 1 to 31") != std::string::npos);
    ops = widget_ops();
    ops.flags = 4;
    CHECK(refusal(&ops) == "flags 0x4: no flags are defined");
    ops = widget_ops();
    ops.id_table = nullptr;
    CHECK(refusal(&ops) == "id_table is NULL");
    ops = widget_ops();
    ops.probe = nullptr;
    CHECK(refusal(&ops) == "required operation probe is NULL");
    ops = widget_ops();
    CHECK(refusal(&ops, [](const void*, size_t, void*) { return false; }).find("does not lie in the module")
        != std::string::npos);
}

TEST_CASE("A corrupt match table is refused with the parser's words")
{
    struct {
        keel_device_table header;
        keel_pci_device_id entries[2];
    } table;
    memcpy(&table, &widget_ids, sizeof(table));
    keel_driver_ops ops = widget_ops();
    ops.id_table = &table.header;
    table.header.entry_size = 8;
    CHECK(refusal(&ops)
        == "id_table: table 1 at offset 0x0: entry_size 8 is smaller than a version-1 PCI entry (32 bytes)");
    memcpy(&table, &widget_ids, sizeof(table));
    table.entries[1].class_mask = 0x0f0000;
    CHECK(refusal(&ops).find("id_table: table 1 entry 1: ") == 0);
    memcpy(&table, &widget_ids, sizeof(table));
    table.header.entry_count = 100000;
    CHECK(refusal(&ops).find("100000 entries of 32 bytes do not lie in the module") != std::string::npos);
}

TEST_CASE("An older, smaller table is accepted; what it lacks is absent")
{
    Fixture fixture;
    Device& device = add_device("w0", 0x1234, 0x0002);
    keel_driver_ops ops = widget_ops();
    ops.size = offsetof(keel_driver_ops, remove);
    Driver& driver = register_widget(ops);
    CHECK(driver.ops.remove == nullptr);
    CHECK(device.state == DeviceState::Bound);
    DeviceLockAccess access;
    Diagnostic diagnostic;
    REQUIRE(device_unbind(device, diagnostic).is_ok());
    CHECK(g_events
        == std::vector<std::string> {
            "probe w0 2", "release third", "release second", "release first", "bus cleanup w0" });
}

TEST_CASE("Registering binds matching devices; unbinding releases newest first after remove")
{
    Fixture fixture;
    Device& matching = add_device("w0", 0x1234, 0x0001);
    Device& other = add_device("x0", 0x5678, 0x0001);
    CHECK(g_unclaimed == std::vector<std::string> { "w0", "x0" });
    Driver& driver = register_widget(widget_ops());
    CHECK(matching.state == DeviceState::Bound);
    CHECK(matching.driver == &driver);
    CHECK(matching.drvdata == &matching);
    CHECK(other.state == DeviceState::Present);
    CHECK(driver.bound == 1);
    CHECK(device_stats().resources == 3);
    // A device added later is bound at once.
    Device& late = add_device("w1", 0x1234, 0x0002);
    CHECK(late.state == DeviceState::Bound);
    CHECK(g_unclaimed.size() == 2);

    g_events.clear();
    DeviceLockAccess access;
    Diagnostic diagnostic;
    REQUIRE(device_unbind(matching, diagnostic).is_ok());
    CHECK(g_events
        == std::vector<std::string> {
            "remove w0", "release third", "release second", "release first", "bus cleanup w0" });
    CHECK(matching.state == DeviceState::Present);
    CHECK(matching.driver == nullptr);
    CHECK(matching.drvdata == nullptr);
    auto again = device_unbind(matching, diagnostic);
    CHECK(again.is_error());
    CHECK(std::string(diagnostic.message) == "w0 is present, not bound");
    // Bound by hand; a device the table does not cover is refused.
    REQUIRE(device_bind(matching, driver, diagnostic).is_ok());
    CHECK(device_bind(matching, driver, diagnostic).error() == Error::EBUSY);
    CHECK(device_bind(other, driver, diagnostic).error() == Error::ENODEV);
    CHECK(std::string(diagnostic.message) == "x0 does not match widget's table");
    CHECK(matching.bindings == 2);
}

TEST_CASE("The bus hears of an unbinding before remove(); a failed probe has none")
{
    Fixture fixture;
    struct Restore {
        ~Restore() { g_fake_bus.unbinding = nullptr; }
    } restore;
    // What the virtio bus stops there: configuration callbacks into the driver.
    g_fake_bus.unbinding = [](Device& device) {
        CHECK(device.state == DeviceState::Going);
        g_events.push_back(std::string("bus unbinding ") + device.name);
    };
    Device& device = add_device("w0", 0x1234, 0x0001);
    Driver& driver = register_widget(widget_ops());
    REQUIRE(device.state == DeviceState::Bound);
    g_events.clear();
    {
        DeviceLockAccess access;
        Diagnostic diagnostic;
        REQUIRE(device_unbind(device, diagnostic).is_ok());
        CHECK(g_events
            == std::vector<std::string> { "bus unbinding w0", "remove w0", "release third", "release second",
                "release first", "bus cleanup w0" });
        g_events.clear();
        g_probe_result = -KEEL_EIO;
        CHECK(device_bind(device, driver, diagnostic).error() == Error::EIO);
        CHECK(g_events
            == std::vector<std::string> {
                "probe w0 1", "release third", "release second", "release first", "bus cleanup w0" });
    }
}

TEST_CASE("A failing probe leaves nothing behind")
{
    Fixture fixture;
    g_probe_result = -KEEL_EIO;
    Device& device = add_device("w0", 0x1234, 0x0001);
    long before = device_host_stats().allocations;
    Driver& driver = register_widget(widget_ops());
    CHECK(device.state == DeviceState::Present);
    CHECK(device.driver == nullptr);
    CHECK(driver.bound == 0);
    CHECK(device_stats().resources == 0);
    CHECK(g_events
        == std::vector<std::string> {
            "probe w0 1", "release third", "release second", "release first", "bus cleanup w0" });
    CHECK(std::string(device_host_log()).find("widget: probe of w0 failed with -5 (EIO)") != std::string::npos);
    // Only the driver itself remains allocated.
    CHECK(device_host_stats().allocations == before + 1);
    // -ENODEV: quietly not this driver's device.
    device_host_clear_log();
    g_probe_result = -KEEL_ENODEV;
    DeviceLockAccess access;
    Diagnostic diagnostic;
    CHECK(device_bind(device, driver, diagnostic).error() == Error::ENODEV);
    CHECK(std::string(device_host_log()).find("failed") == std::string::npos);
}

TEST_CASE("Resources are refused outside a binding; an action then runs at once")
{
    Fixture fixture;
    Device& device = add_device("x0", 0x5678, 0x0001);
    Devres resource;
    CHECK(devres_add(
              device, resource, [](Devres&) {}, "test")
              .error()
        == Error::ENODEV);
    CHECK(device_add_action(device, record, (void*)"ran at once").error() == Error::ENODEV);
    CHECK(g_events == std::vector<std::string> { "ran at once" });
    device_host_stats().fail_allocations_after = 0;
    CHECK(device_add_action(device, record, (void*)"out of memory").error() == Error::ENOMEM);
    device_host_stats().fail_allocations_after = -1;
    CHECK(g_events.back() == "out of memory");
}

TEST_CASE("A resource released early is not released again")
{
    Fixture fixture;
    Device& device = add_device("w0", 0x1234, 0x0001);
    register_widget(widget_ops());
    static int releases = 0;
    releases = 0;
    Devres resource;
    REQUIRE(devres_add(
        device, resource, [](Devres&) { releases++; }, "test")
                .is_ok());
    REQUIRE(devres_take(resource));
    resource.release(resource);
    CHECK(!devres_take(resource));
    DeviceLockAccess access;
    Diagnostic diagnostic;
    REQUIRE(device_unbind(device, diagnostic).is_ok());
    CHECK(releases == 1);
}

TEST_CASE("Pins keep a device, its ancestors and their drivers' modules")
{
    Fixture fixture;
    char parent_module[] = "bridge_mod";
    char child_module[] = "widget_mod";
    Device& bridge = add_device("b0", 0x8086, 0x0100);
    Device& device = add_device("w0", 0x1234, 0x0001, &bridge);
    keel_driver_ops bridge_ops {};
    bridge_ops.size = sizeof(bridge_ops);
    bridge_ops.version = KEEL_DRIVER_OPS_VERSION;
    bridge_ops.name = "bridge";
    bridge_ops.id_table = KEEL_DEVICE_TABLE_OF(bridge_ids);
    bridge_ops.probe = bridge_probe;
    Driver& bridge_driver = register_widget(bridge_ops, parent_module);
    Driver& driver = register_widget(widget_ops(), child_module);

    Diagnostic diagnostic;
    auto pin = device_pin(device, "mounted at /mnt", diagnostic);
    REQUIRE(pin.is_ok());
    CHECK(device_host_stats().holds == 2);
    CHECK(std::string(pin.value()->holds[0].holder) == "mounted at /mnt");
    CHECK(pin.value()->holds[0].owner == child_module);
    CHECK(pin.value()->holds[1].owner == parent_module);
    {
        DeviceLockAccess access;
        CHECK(device_unbind(device, diagnostic).error() == Error::EBUSY);
        CHECK(std::string(diagnostic.message) == "w0 is in use by mounted at /mnt");
        CHECK(device_unbind(bridge, diagnostic).error() == Error::EBUSY);
        CHECK(std::string(diagnostic.message) == "b0 is in use: w0 below it is held by mounted at /mnt");
    }
    CHECK(driver_unregister(driver, diagnostic).error() == Error::EBUSY);
    CHECK(std::string(diagnostic.message) == "widget: w0 is in use by mounted at /mnt");
    CHECK(driver_unregister(bridge_driver, diagnostic).error() == Error::EBUSY);
    CHECK(device_stats().pins == 1);
    device_unpin(pin.value());
    CHECK(device_host_stats().holds == 0);
    REQUIRE(driver_unregister(driver, diagnostic).is_ok());
    CHECK(device.state == DeviceState::Present);
    // Only bound devices can be held.
    auto refused = device_pin(device, "late", diagnostic);
    CHECK(refused.error() == Error::ENODEV);
    CHECK(std::string(diagnostic.message) == "w0 is present");
}

TEST_CASE("A device that goes away is unbound even when pinned")
{
    Fixture fixture;
    Device& device = add_device("w0", 0x1234, 0x0001);
    register_widget(widget_ops(), (void*)"widget_mod");
    Diagnostic diagnostic;
    DevicePin* pin = MUST(device_pin(device, "holder", diagnostic));
    {
        DeviceLockAccess access;
        device_remove(device);
    }
    CHECK(std::string(device_host_log()).find("w0 goes away while holder holds it") != std::string::npos);
    CHECK(pin->device == nullptr);
    device_unpin(pin);
}

TEST_CASE("Children a binding added go with it; children the bus found stay")
{
    Fixture fixture;
    g_probe_adds_child = true;
    Device& device = add_device("w0", 0x1234, 0x0001);
    Device& found = add_device("found", 0x5678, 0x0009, &device);
    register_widget(widget_ops());
    CHECK(device.children.size() == 2);
    DeviceLockAccess access;
    CHECK(device_find("child") != nullptr);
    Diagnostic diagnostic;
    REQUIRE(device_unbind(device, diagnostic).is_ok());
    CHECK(device_find("child") == nullptr);
    CHECK(device_find("found") == &found);
    CHECK(device.children.size() == 1);
}

TEST_CASE("A module that goes is forgotten: its drivers unbound and unregistered")
{
    Fixture fixture;
    Device& device = add_device("w0", 0x1234, 0x0001);
    char module[] = "careless";
    register_widget(widget_ops(), module);
    CHECK(driver_forget_owner(module) == 1);
    CHECK(device.state == DeviceState::Present);
    CHECK(device_stats().drivers == 0);
    CHECK(std::string(device_host_log()).find("careless: removing driver widget it left registered")
        != std::string::npos);
}

TEST_CASE("Registration fails cleanly: out of memory, a duplicate name")
{
    Fixture fixture;
    keel_driver_ops ops = widget_ops();
    Diagnostic diagnostic;
    device_host_stats().fail_allocations_after = 0;
    CHECK(driver_register(&ops, nullptr, readable_anywhere, diagnostic).error() == Error::ENOMEM);
    device_host_stats().fail_allocations_after = -1;
    register_widget(ops);
    CHECK(driver_register(&ops, nullptr, readable_anywhere, diagnostic).error() == Error::EEXIST);
    CHECK(std::string(diagnostic.message) == "driver \"widget\" is already registered");
}

TEST_CASE("Shutdown calls every bound driver's shutdown, children first")
{
    Fixture fixture;
    Device& parent = add_device("w0", 0x1234, 0x0001);
    add_device("w1", 0x1234, 0x0002, &parent);
    keel_driver_ops ops = widget_ops();
    ops.shutdown = [](keel_device* handle) {
        g_events.push_back(std::string("shutdown ") + reinterpret_cast<Device*>(handle)->name);
    };
    register_widget(ops);
    g_events.clear();
    device_shutdown_all();
    CHECK(g_events == std::vector<std::string> { "shutdown w1", "shutdown w0" });
}
