// Decoding a PCI function's configuration space: identity, BARs and
// capability lists. The space is device-provided: pointers are checked
// against alignment and bounds, lists against loops, sizes against what
// they claim to cover.
#include "device/pci/pci.h"
#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

constexpr uint16_t kStandardCapabilityLimit = 48;  // (256 - 64) / 4 entries at most
constexpr uint16_t kExtendedCapabilityLimit = 480; // (4096 - 256) / 8

void problem(const PciFunction& function, const char* what)
{
    device_log(kDeviceLogWarn, "pci %04x:%02x:%02x.%x: %s", function.address.segment, function.address.bus,
        function.address.device, function.address.function, what);
}

// One BAR (or two for a 64-bit one): its size is what the function does not
// let us set when all ones are written. Decoding is off meanwhile (the
// caller), so the probe addresses are never decoded.
size_t size_bar(
    const PciFunction& function, unsigned index, unsigned count, DeviceRegion& region, char* why, size_t why_size)
{
    uint16_t offset = uint16_t(kPciBar0 + 4 * index);
    uint32_t original = pci_read(function, offset, 4);
    region = {};
    if (original & 1) { // I/O space
        pci_write(function, offset, 4, 0xffffffff);
        uint32_t mask = pci_read(function, offset, 4) & 0xfffffffc;
        pci_write(function, offset, 4, original);
        if (mask == 0)
            return 1; // the function has no such BAR
        // I/O BARs decode at most 16 bits on x86; the upper bits may read 0.
        mask |= 0xffff0000u;
        uint32_t size = ~mask + 1;
        if ((size & (size - 1)) != 0 || mask != (~(size - 1) & ~3u)) {
            format(why, why_size, "BAR %u: I/O size mask 0x%08x is not contiguous; ignored", index, mask);
            return 1;
        }
        region = { original & 0xfffcu, size, KEEL_REGION_IO };
        return 1;
    }
    unsigned type = (original >> 1) & 3;
    if (type != 0 && type != 2) {
        format(why, why_size, "BAR %u: memory type %u is reserved; ignored", index, type);
        return 1;
    }
    bool wide = type == 2;
    if (wide && index + 1 >= count) {
        format(why, why_size, "BAR %u: a 64-bit BAR in the last slot; ignored", index);
        return 1;
    }
    size_t used = wide ? 2 : 1;
    uint32_t original_high = wide ? pci_read(function, uint16_t(offset + 4), 4) : 0;
    pci_write(function, offset, 4, 0xffffffff);
    uint64_t low = pci_read(function, offset, 4) & 0xfffffff0u;
    pci_write(function, offset, 4, original);
    uint64_t high = 0xffffffff;
    if (wide) {
        pci_write(function, uint16_t(offset + 4), 4, 0xffffffff);
        high = pci_read(function, uint16_t(offset + 4), 4);
        pci_write(function, uint16_t(offset + 4), 4, original_high);
    }
    if (low == 0 && (!wide || high == 0))
        return used; // the function has no such BAR
    uint64_t mask = (high << 32) | low;
    uint64_t size = ~mask + 1;
    if ((size & (size - 1)) != 0 || mask != (~(size - 1) & ~0xfull)) {
        format(
            why, why_size, "BAR %u: size mask 0x%016llx is not contiguous; ignored", index, (unsigned long long)mask);
        return used;
    }
    uint64_t base = (uint64_t(original_high) << 32) | (original & 0xfffffff0u);
    if (base + size < base) {
        format(why, why_size, "BAR %u: %#llx + %#llx wraps around; ignored", index, (unsigned long long)base,
            (unsigned long long)size);
        return used;
    }
    uint32_t flags
        = KEEL_REGION_MEMORY | (wide ? KEEL_REGION_64BIT : 0) | ((original & 8) ? KEEL_REGION_PREFETCHABLE : 0);
    region = { base, size, flags };
    return used;
}

// Walks the standard list, calling visit(offset, id) until it returns true.
// Returns false (and says why) when the list is malformed.
template<typename F> bool walk_standard(const PciFunction& function, F&& visit, const char*& why)
{
    why = nullptr;
    if (!(pci_read(function, kPciStatus, 2) & kPciStatusCapabilities))
        return true;
    uint16_t pointer = uint16_t(pci_read(function, kPciCapabilities, 1));
    for (uint16_t count = 0; pointer != 0; count++) {
        if (count == kStandardCapabilityLimit) {
            why = "capability list does not end (a loop?)";
            return false;
        }
        if (pointer < 0x40 || pointer > 0xfc || (pointer & 3) != 0) {
            why = "capability pointer outside 0x40..0xfc or misaligned";
            return false;
        }
        uint32_t id = pci_read(function, pointer, 1);
        if (visit(pointer, id))
            return true;
        pointer = uint16_t(pci_read(function, uint16_t(pointer + 1), 1));
    }
    return true;
}

template<typename F> bool walk_extended(const PciFunction& function, F&& visit, const char*& why)
{
    why = nullptr;
    if (function.config_size < 4096 || !function.express)
        return true;
    uint16_t pointer = kPciExtendedStart;
    for (uint16_t count = 0; pointer != 0; count++) {
        if (count == kExtendedCapabilityLimit) {
            why = "extended capability list does not end (a loop?)";
            return false;
        }
        if (pointer < kPciExtendedStart || pointer > 0xffc || (pointer & 3) != 0) {
            why = "extended capability pointer outside 0x100..0xffc or misaligned";
            return false;
        }
        uint32_t header = pci_read(function, pointer, 4);
        if (header == 0 || header == 0xffffffff)
            return true; // an empty list
        if (visit(pointer, header & 0xffff))
            return true;
        pointer = uint16_t(header >> 20);
    }
    return true;
}

template<typename Walk> Result<uint16_t> find_in(const PciFunction& function, uint32_t id, uint16_t after, Walk walk)
{
    bool passed = after == 0;
    uint16_t found = 0;
    const char* why = nullptr;
    walk(
        function,
        [&](uint16_t offset, uint32_t capability) {
            if (passed && capability == id) {
                found = offset;
                return true;
            }
            if (offset == after)
                passed = true;
            return false;
        },
        why);
    if (!found)
        return Err(Error::ENOENT);
    return found;
}

void read_msix(PciFunction& function, const DeviceRegion* regions, size_t region_count)
{
    uint16_t control = uint16_t(pci_read(function, uint16_t(function.msix + 2), 2));
    uint32_t table = pci_read(function, uint16_t(function.msix + 4), 4);
    uint16_t entries = uint16_t((control & 0x7ff) + 1);
    uint8_t bar = uint8_t(table & 7);
    uint32_t offset = table & ~7u;
    char why[96];
    if (bar >= region_count || !(regions[bar].flags & KEEL_REGION_MEMORY) || regions[bar].length == 0) {
        format(why, sizeof(why), "MSI-X table in BAR %u, which is not a memory BAR; MSI-X unused", bar);
    } else if (uint64_t(offset) + uint64_t(entries) * 16 > regions[bar].length) {
        format(why, sizeof(why), "MSI-X table (%u entries at %#x) overruns BAR %u (%#llx bytes); MSI-X unused", entries,
            offset, bar, (unsigned long long)regions[bar].length);
    } else {
        function.msix_bar = bar;
        function.msix_offset = offset;
        function.msix_entries = entries;
        return;
    }
    problem(function, why);
    function.msix = 0;
}

// Every BAR of the function, with decoding off while they hold all ones.
void size_bars(PciFunction& function, DeviceRegion* regions, size_t& region_count)
{
    unsigned bar_count = function.bar_count;
    region_count = 0;
    if (!bar_count)
        return;
    uint16_t command = uint16_t(pci_read(function, kPciCommand, 2));
    pci_write(function, kPciCommand, 2, command & ~(kPciCommandIo | kPciCommandMemory));
    for (unsigned index = 0; index < bar_count;) {
        char why[112] = "";
        DeviceRegion region;
        size_t used = size_bar(function, index, bar_count, region, why, sizeof(why));
        if (why[0])
            problem(function, why);
        regions[index] = region;
        if (used == 2)
            regions[index + 1] = {};
        index += unsigned(used);
    }
    pci_write(function, kPciCommand, 2, command);
    region_count = bar_count;
}

} // namespace

bool is_pci_device(const Device& device)
{
    return device.bus && device.bus->table_bus == devmatch::DeviceBus::Pci && device.bus_data;
}

uint32_t pci_read(const PciFunction& function, uint16_t offset, unsigned width)
{
    if ((width != 1 && width != 2 && width != 4) || offset % width != 0 || offset + width > function.config_size)
        return 0xffffffff;
    return function.config.read(function.config.context, function.address, offset, width);
}

void pci_write(const PciFunction& function, uint16_t offset, unsigned width, uint32_t value)
{
    if ((width != 1 && width != 2 && width != 4) || offset % width != 0 || offset + width > function.config_size)
        return;
    function.config.write(function.config.context, function.address, offset, width, value);
}

void pci_size_deferred_bars(PciFunction& function, DeviceRegion* regions, size_t& region_count)
{
    if (!function.bars_deferred)
        return;
    function.bars_deferred = false;
    size_bars(function, regions, region_count);
    if (function.msix)
        read_msix(function, regions, region_count);
}

void pci_settle_regions(Device& device)
{
    if (is_pci_device(device))
        pci_size_deferred_bars(pci_function(device), device.regions, device.region_count);
}

Result<void> pci_read_function(PciFunction& function, DeviceRegion* regions, size_t& region_count, PciBarSizing sizing)
{
    function.config_size = 256;
    uint32_t ids = pci_read(function, kPciVendorId, 4);
    if ((ids & 0xffff) == 0xffff || (ids & 0xffff) == 0)
        return Err(Error::ENODEV);
    uint16_t size = function.config.size(function.config.context, function.address);
    function.config_size = size >= 4096 ? 4096 : 256;
    function.identity.vendor = uint16_t(ids);
    function.identity.device = uint16_t(ids >> 16);
    uint32_t class_revision = pci_read(function, 0x08, 4);
    function.revision = uint8_t(class_revision);
    function.identity.revision = function.revision;
    function.identity.class_code = class_revision >> 8;
    uint8_t header = uint8_t(pci_read(function, kPciHeaderType, 1));
    function.header_type = header & 0x7f;
    function.irq_pin = uint8_t(pci_read(function, kPciInterruptPin, 1));
    if (function.irq_pin > 4) {
        problem(function, "interrupt pin is not 0..4; INTx unused");
        function.irq_pin = 0;
    }

    unsigned bar_count = 0;
    if (function.header_type == 0) {
        bar_count = 6;
        function.identity.subvendor = uint16_t(pci_read(function, kPciSubsystemVendor, 2));
        function.identity.subdevice = uint16_t(pci_read(function, kPciSubsystemId, 2));
    } else if (function.header_type == 1) {
        bar_count = 2;
        function.secondary_bus = uint8_t(pci_read(function, kPciSecondaryBus, 1));
        function.subordinate_bus = uint8_t(pci_read(function, kPciSubordinateBus, 1));
    } else {
        char why[64];
        format(why, sizeof(why), "header type %u is not supported; no BARs or capabilities read", function.header_type);
        problem(function, why);
    }

    function.bar_count = uint8_t(bar_count);
    region_count = 0;
    if (sizing == PciBarSizing::Now)
        size_bars(function, regions, region_count);
    else
        function.bars_deferred = bar_count != 0;

    if (function.header_type <= 1) {
        const char* why = nullptr;
        walk_standard(
            function,
            [&](uint16_t offset, uint32_t id) {
                if (id == kPciCapabilityMsi && !function.msi)
                    function.msi = offset;
                else if (id == kPciCapabilityMsix && !function.msix)
                    function.msix = offset;
                else if (id == kPciCapabilityExpress && !function.express)
                    function.express = offset;
                return false;
            },
            why);
        if (why)
            problem(function, why);
        if (function.msix && !function.bars_deferred)
            read_msix(function, regions, region_count);
        if (function.config_size == 4096 && function.express) {
            walk_extended(
                function, [](uint16_t, uint32_t) { return false; }, why);
            if (why)
                problem(function, why);
        }
    }
    return {};
}

Result<uint16_t> pci_find_capability(const PciFunction& function, uint32_t id, uint16_t after)
{
    if (function.header_type > 1)
        return Err(Error::ENOENT);
    return find_in(function, id, after,
        [](const PciFunction& f, auto&& visit, const char*& why) { return walk_standard(f, visit, why); });
}

Result<uint16_t> pci_find_ext_capability(const PciFunction& function, uint32_t id, uint16_t after)
{
    return find_in(function, id, after,
        [](const PciFunction& f, auto&& visit, const char*& why) { return walk_extended(f, visit, why); });
}

const char* pci_class_name(uint32_t class_code)
{
    struct Name {
        uint16_t code; // base << 8 | sub; sub 0xff: any subclass
        const char* name;
    };
    // Subclasses first, then the base classes (PCI Code and ID Assignment).
    static const Name kNames[] = {
        { 0x0100, "SCSI storage controller" },
        { 0x0101, "IDE interface" },
        { 0x0106, "SATA controller" },
        { 0x0108, "Non-Volatile memory controller" },
        { 0x0200, "Ethernet controller" },
        { 0x0300, "VGA compatible controller" },
        { 0x0403, "Audio device" },
        { 0x0600, "Host bridge" },
        { 0x0601, "ISA bridge" },
        { 0x0604, "PCI bridge" },
        { 0x0780, "Communication controller" },
        { 0x0c03, "USB controller" },
        { 0x0c05, "SMBus" },
        { 0x00ff, "Unclassified device" },
        { 0x01ff, "Mass storage controller" },
        { 0x02ff, "Network controller" },
        { 0x03ff, "Display controller" },
        { 0x04ff, "Multimedia controller" },
        { 0x05ff, "Memory controller" },
        { 0x06ff, "Bridge" },
        { 0x07ff, "Communication controller" },
        { 0x08ff, "Generic system peripheral" },
        { 0x09ff, "Input device controller" },
        { 0x0bff, "Processor" },
        { 0x0cff, "Serial bus controller" },
        { 0x0dff, "Wireless controller" },
        { 0x10ff, "Encryption controller" },
        { 0x11ff, "Signal processing controller" },
        { 0x12ff, "Processing accelerators" },
    };
    uint16_t code = uint16_t(class_code >> 8);
    for (const Name& name : kNames) {
        if (name.code == code)
            return name.name;
    }
    for (const Name& name : kNames) {
        if ((name.code & 0xff) == 0xff && (name.code >> 8) == (code >> 8))
            return name.name;
    }
    return nullptr;
}

} // namespace keel
