// Finding every PCI function: bus by bus from the host bridge, following
// bridges to the buses behind them (as the firmware numbered them), each
// function a device in the tree under the bridge it sits behind.
#include "device/pci/pci.h"
#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

struct Scan {
    const BusType* bus;
    PciConfigOps config;
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
    uint16_t host_vendor;
    uint16_t host_device;
    PciBarPlacer* placer;
    PciDisabledFunction disabled;
    bool seen[256];
    size_t found;
};

void release_function(Device& device)
{
    device_destroy_object(static_cast<PciFunction*>(device.bus_data));
    device.bus_data = nullptr;
}

void scan_bus(Scan& scan, uint8_t number, Device* parent, const PciFunction* bridge) REQUIRES(g_device_lock);

void add_function(Scan& scan, uint8_t number, uint8_t slot, uint8_t function_number, Device* parent,
    const PciFunction* bridge) REQUIRES(g_device_lock)
{
    auto* function = device_create_object<PciFunction>();
    if (!function) {
        device_log(kDeviceLogErr, "pci: out of memory at %02x:%02x.%x", number, slot, function_number);
        return;
    }
    function->address = { scan.segment, number, slot, function_number };
    function->config = scan.config;
    DeviceRegion regions[Device::kMaxRegions];
    size_t region_count = 0;
    // With a placer, every BAR's extent is needed now, to keep the next
    // function's out of it; without one the firmware's addresses stay.
    PciBarSizing sizing = scan.placer ? PciBarSizing::Now : PciBarSizing::Deferred;
    if (pci_read_function(*function, regions, region_count, sizing).is_error()) {
        device_destroy_object(function);
        return;
    }
    if (scan.placer) {
        size_t placed = scan.placer->place(*function, regions, region_count);
        if (placed)
            device_log(kDeviceLogInfo, "pci %04x:%02x:%02x.%x: %zu BAR(s) placed in the host bridge's windows",
                scan.segment, number, slot, function_number, placed);
    }
    // INTx of a function behind a bridge leaves the bridge on the pin
    // rotated by the function's slot (the PCI-to-PCI bridge swizzle), and so
    // on bridge after bridge: it reaches the root bus at the top bridge's
    // slot, rotated by every slot on the way.
    uint8_t pin = uint8_t(function->irq_pin ? function->irq_pin - 1 : 0);
    if (bridge) {
        function->root_slot = bridge->root_slot;
        function->root_pin = uint8_t((pin + slot + bridge->child_rotation) % 4);
        function->child_rotation = uint8_t((bridge->child_rotation + slot) % 4);
    } else {
        function->root_slot = slot;
        function->root_pin = pin;
        function->child_rotation = 0;
    }
    function->host_vendor = scan.host_vendor;
    function->host_device = scan.host_device;

    auto created = device_create(scan.bus, parent, "%04x:%02x:%02x.%x", scan.segment, number, slot, function_number);
    if (created.is_error()) {
        device_log(kDeviceLogErr, "pci: out of memory at %02x:%02x.%x", number, slot, function_number);
        device_destroy_object(function);
        return;
    }
    Device& device = *created.value();
    device.bus_data = function;
    function->device = &device;
    memcpy(device.regions, regions, sizeof(regions[0]) * region_count);
    device.region_count = region_count;
    MUST(devmatch::format_pci_modalias(function->identity, device.modalias, sizeof(device.modalias)));
    scan.found++;
    device_register(device);

    if (function->header_type == 1) {
        uint8_t secondary = function->secondary_bus;
        if (secondary == 0 || secondary <= number || secondary > scan.bus_end || secondary < scan.bus_start
            || function->subordinate_bus < secondary) {
            device_log(kDeviceLogWarn, "pci %s: bridge to bus %u (subordinate %u) from bus %u; not followed",
                device.name, secondary, function->subordinate_bus, number);
            return;
        }
        scan_bus(scan, secondary, &device, function);
    }
}

// A function the firmware's description disables: logged when it is there
// (function 0 is: the slot's vendor was read), and no device.
bool left_alone(const Scan& scan, uint8_t number, uint8_t slot, uint8_t function)
{
    PciAddress address { scan.segment, number, slot, function };
    if (!scan.disabled || !scan.disabled(address))
        return false;
    if (function > 0) {
        PciFunction probe {};
        probe.config = scan.config;
        probe.address = address;
        uint32_t vendor = pci_read(probe, kPciVendorId, 2);
        if (vendor == 0xffff || vendor == 0)
            return true;
    }
    device_log(kDeviceLogInfo, "pci %04x:%02x:%02x.%x: disabled by the firmware's description; left alone",
        scan.segment, number, slot, function);
    return true;
}

void scan_bus(Scan& scan, uint8_t number, Device* parent, const PciFunction* bridge)
{
    if (scan.seen[number]) {
        device_log(kDeviceLogWarn, "pci: bus %02x reached twice; not scanned again", number);
        return;
    }
    scan.seen[number] = true;
    PciFunction probe {};
    probe.config = scan.config;
    for (uint8_t slot = 0; slot < 32; slot++) {
        probe.address = { scan.segment, number, slot, 0 };
        uint32_t vendor = pci_read(probe, kPciVendorId, 2);
        if (vendor == 0xffff || vendor == 0)
            continue;
        bool multifunction = pci_read(probe, kPciHeaderType, 1) & 0x80;
        for (uint8_t function = 0; function < (multifunction ? 8 : 1); function++) {
            if (left_alone(scan, number, slot, function)) {
                // Function 0 disabled takes the slot's others with it, as in Linux.
                if (function == 0)
                    break;
                continue;
            }
            add_function(scan, number, slot, function, parent, bridge);
        }
    }
}

} // namespace

size_t pci_enumerate(const BusType* bus, const PciConfigOps& config, uint16_t segment, uint8_t bus_start,
    uint8_t bus_end, PciBarPlacer* placer, PciDisabledFunction disabled)
{
    Scan scan {};
    scan.placer = placer;
    scan.disabled = disabled;
    scan.bus = bus;
    scan.config = config;
    scan.segment = segment;
    scan.bus_start = bus_start;
    scan.bus_end = bus_end;
    PciFunction host {};
    host.config = config;
    host.address = { segment, bus_start, 0, 0 };
    scan.host_vendor = uint16_t(pci_read(host, kPciVendorId, 2));
    scan.host_device = uint16_t(pci_read(host, kPciDeviceId, 2));

    auto root = device_create(nullptr, nullptr, "pci%04x:%02x", segment, bus_start);
    if (root.is_error())
        return 0;
    device_register(*root.value());
    scan_bus(scan, bus_start, root.value(), nullptr);
    return scan.found;
}

// The PCI bus's release: its function goes with the device.
void pci_release_function(Device& device) { release_function(device); }

} // namespace keel
