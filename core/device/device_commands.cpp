// Console commands of the device model: lsdev, bind, unbind, and devtest
// (pins, unbind/rebind cycles and a failing virtio reset for the tests).
#include "console/console.h"
#include "debug/taint.h"
#include "device/device.h"
#include "device/resources.h"
#include "device/virtio/virtio.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"

namespace keel {

namespace {

void print_counters()
{
    DeviceStats devices = device_stats();
    ResourceStats resources = resource_stats();
    console_print("devices %zu bound %zu drivers %zu resources %zu pins %zu\n", devices.devices, devices.bound,
        devices.drivers, devices.resources, devices.pins);
    console_print("irq vectors %zu handlers %zu; mmio %zu; dma buffers %zu bytes %llu mappings %zu bounced %zu "
                  "quarantined %llu; work %zu\n",
        resources.irq_vectors, resources.irq_handlers, resources.mmio_mappings, resources.dma_buffers,
        (unsigned long long)resources.dma_bytes, resources.dma_mappings, resources.dma_bounced,
        (unsigned long long)resources.dma_quarantined, resources.work_items);
}

void print_device(const Device& device) REQUIRES(g_device_lock)
{
    size_t depth = 0;
    for (const Device* up = device.parent; up; up = up->parent)
        depth++;
    char name[48];
    format(name, sizeof(name), "%*s%s", int(2 * depth), "", device.name);
    const char* driver = device.driver ? device.driver->name : "-";
    const char* module = device.driver ? device_owner_name(device.driver->owner) : "-";
    console_print("%-22s %-4s %-8s %-14s %-14s %s\n", name, device.bus ? device.bus->name : "-",
        device_state_name(device.state), driver, module, device.modalias[0] ? device.modalias : "-");
}

void print_irq_line(const char* line, void*) { console_print("%s\n", line); }

int lsdev_command(int argc, char** argv)
{
    bool stats_only = argc == 2 && strcmp(argv[1], "-s") == 0;
    bool interrupts = argc == 2 && strcmp(argv[1], "-i") == 0;
    if (argc > 2 || (argc == 2 && !stats_only && !interrupts)) {
        console_print("usage: lsdev [-s | -i]\n");
        return 1;
    }
    if (interrupts) {
        irq_report(print_irq_line, nullptr);
        return 0;
    }
    if (!stats_only) {
        DeviceLockAccess access;
        console_print("%-22s %-4s %-8s %-14s %-14s %s\n", "DEVICE", "BUS", "STATE", "DRIVER", "MODULE", "MODALIAS");
        // Depth first, so each device follows its parent.
        struct Walk {
            static void visit(const Device& device) REQUIRES(g_device_lock)
            {
                print_device(device);
                for (const Device& child : device.children)
                    visit(child);
            }
        };
        for (Device& device : all_devices()) {
            if (!device.parent)
                Walk::visit(device);
        }
        for (Driver& driver : all_drivers())
            console_print("driver %s (%s, module %s): %zu device(s)\n", driver.name, driver.bus->name,
                device_owner_name(driver.owner), driver.bound);
    }
    print_counters();
    return 0;
}
KEEL_CONSOLE_COMMAND(lsdev, "lsdev", "[-s | -i]",
    "the device tree with drivers and modules; -s: counters only; -i: interrupt lines", lsdev_command);

int bind_command(int argc, char** argv)
{
    if (argc != 3) {
        console_print("usage: bind DEVICE DRIVER\n");
        return 1;
    }
    DeviceLockAccess access;
    Device* device = device_find(argv[1]);
    Driver* driver = driver_find(argv[2]);
    if (!device || !driver) {
        console_print("bind: no %s '%s'\n", device ? "driver" : "device", device ? argv[2] : argv[1]);
        return 1;
    }
    Diagnostic error;
    if (auto bound = device_bind(*device, *driver, error); bound.is_error()) {
        console_print("bind: %s (%s)\n", error.message, error_name(bound.error()));
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(bind, "bind", "DEVICE DRIVER", "bind a device to a registered driver", bind_command);

int unbind_command(int argc, char** argv)
{
    if (argc != 2) {
        console_print("usage: unbind DEVICE\n");
        return 1;
    }
    DeviceLockAccess access;
    Device* device = device_find(argv[1]);
    if (!device) {
        console_print("unbind: no device '%s'\n", argv[1]);
        return 1;
    }
    Diagnostic error;
    if (auto unbound = device_unbind(*device, error); unbound.is_error()) {
        console_print("unbind: %s (%s)\n", error.message, error_name(unbound.error()));
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(unbind, "unbind", "DEVICE", "unbind a device from its driver", unbind_command);

// ---- devtest

constexpr size_t kMaxTestPins = 8;
DevicePin* g_test_pins[kMaxTestPins];

int devtest_pin(const char* name, const char* holder)
{
    DeviceLockAccess access;
    Device* device = device_find(name);
    if (!device) {
        console_print("devtest: no device '%s'\n", name);
        return 1;
    }
    for (DevicePin*& slot : g_test_pins) {
        if (slot)
            continue;
        Diagnostic error;
        auto pin = device_pin(*device, holder, error);
        if (pin.is_error()) {
            console_print("devtest: pin: %s (%s)\n", error.message, error_name(pin.error()));
            return 1;
        }
        slot = pin.value();
        console_print("devtest: %s pinned by %s\n", name, holder);
        return 0;
    }
    console_print("devtest: too many pins\n");
    return 1;
}

int devtest_unpin(const char* name)
{
    size_t released = 0;
    for (DevicePin*& slot : g_test_pins) {
        if (slot && (!slot->device || strcmp(slot->device->name, name) == 0)) {
            device_unpin(slot);
            slot = nullptr;
            released++;
        }
    }
    console_print("devtest: %zu pin(s) released\n", released);
    return 0;
}

// The virtio device's next unbinding acts as if its reset never
// completed: its DMA memory is kept (dma_quarantine). A test
// hook: taints the kernel 'T'.
int devtest_failreset(const char* name)
{
    DeviceLockAccess access;
    Device* device = device_find(name);
    if (!device || !is_virtio_device(*device)) {
        console_print("devtest: no virtio device '%s'\n", name);
        return 1;
    }
    add_taint(Taint::Test);
    __atomic_store_n(&virtio_device(*device).test_fail_reset, true, __ATOMIC_RELEASE);
    console_print("devtest: %s: its next unbinding fails its reset\n", name);
    return 0;
}

Result<void> rebind(const char* name, Diagnostic& error)
{
    DeviceLockAccess access;
    Device* device = device_find(name);
    if (!device)
        return error.fail(Error::ENODEV, "no device '%s'", name);
    if (!device->driver)
        return error.fail(Error::EINVAL, "%s has no driver to rebind", name);
    Driver* driver = device->driver;
    TRY(device_unbind(*device, error));
    TRY(device_bind(*device, *driver, error));
    return {};
}

int devtest_cycles(uint64_t count, const char* name)
{
    Diagnostic error;
    int console_level = log_console_level();
    if (console_level > kLogNotice)
        log_set_console_level(kLogNotice);
    // A warm-up cycle: first-use allocations (a bus's configuration mapping).
    auto warm = rebind(name, error);
    LeakCounters before = leak_counters();
    uint64_t done = 0;
    for (; warm.is_ok() && done < count; done++) {
        if (rebind(name, error).is_error())
            break;
    }
    LeakCounters after = leak_counters();
    log_set_console_level(console_level);
    if (warm.is_error() || done != count) {
        console_print("devtest: cycle %llu: %s: FAIL\n", (unsigned long long)done, error.message);
        return 1;
    }
    char leaks[400];
    bool equal = describe_leaks(before, after, leaks, sizeof(leaks));
    console_print("devtest: %llu unbind/bind cycles of %s: %s%s\n", (unsigned long long)done, name,
        equal ? "baseline kept: PASS" : "FAIL: ", leaks);
    return equal ? 0 : 1;
}

int devtest_command(int argc, char** argv)
{
    if (argc == 4 && strcmp(argv[1], "pin") == 0)
        return devtest_pin(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "unpin") == 0)
        return devtest_unpin(argv[2]);
    if (argc == 3 && strcmp(argv[1], "failreset") == 0)
        return devtest_failreset(argv[2]);
    if (argc == 4 && strcmp(argv[1], "cycles") == 0) {
        auto count = parse_uint(argv[2], strlen(argv[2]));
        if (count.is_error() || count.value() == 0 || count.value() > 100000) {
            console_print("devtest: N must be 1..100000\n");
            return 1;
        }
        return devtest_cycles(count.value(), argv[3]);
    }
    console_print("usage: devtest pin DEVICE HOLDER | unpin DEVICE | cycles N DEVICE | failreset DEVICE\n");
    return 1;
}
KEEL_CONSOLE_COMMAND(devtest, "devtest", "pin DEVICE HOLDER | unpin DEVICE | cycles N DEVICE | failreset DEVICE",
    "device model tests: pins, unbind/bind cycles with a leak check, a virtio reset that fails", devtest_command);

} // namespace

} // namespace keel
