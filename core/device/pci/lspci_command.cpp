// lspci: every PCI function, much as Linux's `lspci -nv` says it: address,
// class, vendor:device and revision, then its BARs and driver; -v adds the
// subsystem, the command register's bits, the interrupt pin and the
// capabilities.
#include "console/console.h"
#include "device/pci/pci.h"
#include "lib/base/string.h"
#include "log/log.h"

namespace keel {

namespace {

void print_size(uint64_t size)
{
    const char* units = "KMGT";
    uint64_t value = size;
    int unit = -1;
    while (value >= 1024 && value % 1024 == 0 && unit < 3) {
        value /= 1024;
        unit++;
    }
    if (unit < 0)
        console_print("[size=%llu]", (unsigned long long)value);
    else
        console_print("[size=%llu%c]", (unsigned long long)value, units[unit]);
}

void print_function(Device& device, bool verbose) REQUIRES(g_device_lock)
{
    pci_settle_regions(device);
    const PciFunction& function = pci_function(device);
    const char* class_name = pci_class_name(function.identity.class_code);
    console_print("%02x:%02x.%x %s [%04x]: %04x:%04x", function.address.bus, function.address.device,
        function.address.function, class_name ? class_name : "Class", function.identity.class_code >> 8,
        function.identity.vendor, function.identity.device);
    if (function.revision)
        console_print(" (rev %02x)", function.revision);
    if ((function.identity.class_code & 0xff) != 0)
        console_print(" (prog-if %02x)", function.identity.class_code & 0xff);
    console_print("\n");
    if (verbose && function.header_type == 0 && (function.identity.subvendor || function.identity.subdevice))
        console_print("\tSubsystem: %04x:%04x\n", function.identity.subvendor, function.identity.subdevice);
    if (verbose) {
        // Linux's `lspci -vv` line, its four bits that the kernel sets:
        // decoding, DMA (off once no driver is bound) and INTx.
        auto command = uint16_t(pci_read(function, kPciCommand, 2));
        auto bit = [command](uint16_t mask) { return (command & mask) ? '+' : '-'; };
        console_print("\tControl: I/O%c Mem%c BusMaster%c DisINTx%c\n", bit(kPciCommandIo), bit(kPciCommandMemory),
            bit(kPciCommandMaster), bit(kPciCommandIntxDisable));
    }
    if (verbose && function.irq_pin)
        console_print("\tInterrupt: pin %c\n", 'A' + function.irq_pin - 1);
    for (size_t i = 0; i < device.region_count; i++) {
        const DeviceRegion& region = device.regions[i];
        if (!region.length)
            continue;
        if (region.flags & KEEL_REGION_IO) {
            console_print("\tRegion %zu: I/O ports at %04llx ", i, (unsigned long long)region.phys);
        } else {
            console_print("\tRegion %zu: Memory at %08llx (%s, %sprefetchable) ", i, (unsigned long long)region.phys,
                (region.flags & KEEL_REGION_64BIT) ? "64-bit" : "32-bit",
                (region.flags & KEEL_REGION_PREFETCHABLE) ? "" : "non-");
        }
        print_size(region.length);
        console_print("\n");
    }
    if (verbose && function.msi)
        console_print(
            "\tCapabilities: [%02x] MSI: Enable%c\n", function.msi, function.irq_type == KEEL_PCI_IRQ_MSI ? '+' : '-');
    if (verbose && function.msix)
        console_print("\tCapabilities: [%02x] MSI-X: Enable%c Count=%u\n", function.msix,
            function.irq_type == KEEL_PCI_IRQ_MSIX ? '+' : '-', function.msix_entries);
    if (verbose && function.express)
        console_print("\tCapabilities: [%02x] Express\n", function.express);
    if (device.driver)
        console_print("\tKernel driver in use: %s\n", device.driver->name);
}

int lspci_command(int argc, char** argv)
{
    bool verbose = argc == 2 && strcmp(argv[1], "-v") == 0;
    if (argc > 2 || (argc == 2 && !verbose)) {
        console_print("usage: lspci [-v]\n");
        return 1;
    }
    DeviceLockAccess access;
    size_t count = 0;
    for (Device& device : all_devices()) {
        if (!is_pci_device(device))
            continue;
        print_function(device, verbose);
        count++;
    }
    if (count == 0)
        console_print("lspci: no PCI functions\n");
    return 0;
}
KEEL_CONSOLE_COMMAND(lspci, "lspci", "[-v]", "PCI functions (-v: BARs, capabilities, driver)", lspci_command);

} // namespace

} // namespace keel
