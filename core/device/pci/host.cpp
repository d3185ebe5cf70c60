// PCI in the kernel: configuration access through the architecture's
// windows (ECAM) or its legacy mechanism, the pci bus type, and the boot
// time enumeration.
#include "arch/memory_layout.h"
#include "arch/pci.h"
#include "device/pci/pci.h"
#include "device/resources.h"
#include "log/log.h"
#include "mm/vmalloc.h"
#include "sync/spinlock.h"

namespace keel {

void pci_unbound(Device& device); // msi.cpp: the interrupts and command bits
void pci_quiesce(Device& device); // msi.cpp: bus mastering off

namespace {

constexpr size_t kMaxWindows = 4;
constexpr uint64_t kBusWindow = 1 << 20; // 32 devices x 8 functions x 4 KiB

struct EcamWindow {
    arch::PciEcamWindow range;
    // Each bus's 1 MiB is mapped when first touched; enumeration touches
    // every bus before anything runs in interrupt context.
    volatile uint8_t* buses[256];
};

EcamWindow g_windows[kMaxWindows];
size_t g_window_count = 0;
PciBarPlacer g_placer;
constexpr LockClass kLegacyLockClass { "pci config", LockRank::PciConfig, false };
Spinlock g_legacy_lock { kLegacyLockClass };

EcamWindow* window_for(PciAddress address)
{
    for (size_t i = 0; i < g_window_count; i++) {
        EcamWindow& window = g_windows[i];
        if (window.range.segment == address.segment && address.bus >= window.range.bus_start
            && address.bus <= window.range.bus_end)
            return &window;
    }
    return nullptr;
}

volatile uint8_t* function_base(PciAddress address)
{
    EcamWindow* window = window_for(address);
    if (!window)
        return nullptr;
    volatile uint8_t*& bus = window->buses[address.bus];
    if (!bus) {
        auto mapping = map_mmio(window->range.phys + uint64_t(address.bus) * kBusWindow, kBusWindow);
        if (mapping.is_error())
            return nullptr;
        bus = static_cast<volatile uint8_t*>(mapping.value());
    }
    return bus + (uint32_t(address.device & 31) << 15 | uint32_t(address.function & 7) << 12);
}

uint32_t ecam_read(void*, PciAddress address, uint16_t offset, unsigned width)
{
    volatile uint8_t* base = function_base(address);
    if (!base)
        return 0xffffffff;
    switch (width) {
    case 1: return *reinterpret_cast<volatile uint8_t*>(base + offset);
    case 2: return *reinterpret_cast<volatile uint16_t*>(base + offset);
    default: return *reinterpret_cast<volatile uint32_t*>(base + offset);
    }
}

void ecam_write(void*, PciAddress address, uint16_t offset, unsigned width, uint32_t value)
{
    volatile uint8_t* base = function_base(address);
    if (!base)
        return;
    switch (width) {
    case 1: *reinterpret_cast<volatile uint8_t*>(base + offset) = uint8_t(value); break;
    case 2: *reinterpret_cast<volatile uint16_t*>(base + offset) = uint16_t(value); break;
    default: *reinterpret_cast<volatile uint32_t*>(base + offset) = value; break;
    }
}

uint16_t ecam_size(void*, PciAddress) { return 4096; }

uint32_t legacy_read(void*, PciAddress address, uint16_t offset, unsigned width)
{
    SpinlockGuard guard(g_legacy_lock);
    return arch::pci_legacy_config_read(address.bus, address.device, address.function, offset, width);
}

void legacy_write(void*, PciAddress address, uint16_t offset, unsigned width, uint32_t value)
{
    SpinlockGuard guard(g_legacy_lock);
    arch::pci_legacy_config_write(address.bus, address.device, address.function, offset, width, value);
}

uint16_t legacy_size(void*, PciAddress) { return 256; }

bool pci_match(const Device& device, const devmatch::DeviceTable& table, uint32_t index)
{
    return is_pci_device(device)
        && devmatch::pci_matches(devmatch::pci_entry(table, index), pci_function(device).identity);
}

// Before a probe: the regions the driver will ask for.
void pci_binding(Device& device) NO_THREAD_SAFETY_ANALYSIS { pci_settle_regions(device); }

BusType g_pci_bus {
    "pci",
    devmatch::DeviceBus::Pci,
    pci_match,
    pci_unbound,
    pci_release_function,
    {},
    pci_binding,
    nullptr,
    pci_quiesce,
};

// Whether the architecture's firmware description disables the function
// (AArch64: a child node of the device tree's host bridge).
bool function_disabled(PciAddress address)
{
    return arch::pci_function_disabled(address.segment, address.bus, uint8_t(address.device << 3 | address.function));
}

// The placer for a segment whose host bridge has windows (null without:
// BARs are used as the firmware set them).
PciBarPlacer* bar_placer(uint16_t segment)
{
    arch::PciBarWindow windows[PciBarPlacer::kMaxWindows];
    size_t count = arch::pci_bar_windows(segment, windows, PciBarPlacer::kMaxWindows);
    if (count == 0)
        return nullptr;
    g_placer = PciBarPlacer();
    static const char* const kKinds[] = { "I/O", "32-bit memory", "64-bit memory" };
    for (size_t i = 0; i < count; i++) {
        const arch::PciBarWindow& window = windows[i];
        log_info("pci: segment %04x window: %s%s, bus %#llx-%#llx at CPU %#llx", segment, kKinds[window.kind],
            window.prefetchable ? " prefetchable" : "", (unsigned long long)window.pci,
            (unsigned long long)(window.pci + window.size - 1), (unsigned long long)window.cpu);
        g_placer.add_window(window);
    }
    return &g_placer;
}

} // namespace

void pci_init()
{
    bus_register(g_pci_bus);
    arch::PciEcamWindow windows[kMaxWindows];
    g_window_count = arch::pci_ecam_windows(windows, kMaxWindows);
    for (size_t i = 0; i < g_window_count; i++)
        g_windows[i].range = windows[i];
    DeviceLockAccess access;
    size_t found = 0;
    if (g_window_count) {
        for (size_t i = 0; i < g_window_count; i++) {
            const arch::PciEcamWindow& range = g_windows[i].range;
            log_info("pci: segment %04x buses %02x-%02x: ECAM at %#llx", range.segment, range.bus_start, range.bus_end,
                (unsigned long long)(range.phys + uint64_t(range.bus_start) * kBusWindow));
            PciConfigOps config { ecam_read, ecam_write, ecam_size, nullptr };
            PciBarPlacer* placer = bar_placer(range.segment);
            found += pci_enumerate(
                &g_pci_bus, config, range.segment, range.bus_start, range.bus_end, placer, function_disabled);
        }
    } else if (arch::pci_legacy_config_available()) {
        PciConfigOps config { legacy_read, legacy_write, legacy_size, nullptr };
        // Something must answer at 00:00.0 (the host bridge), else there is no PCI.
        if (legacy_read(nullptr, { 0, 0, 0, 0 }, 0, 2) == 0xffff) {
            log_info("pci: no configuration windows and no host bridge; no PCI");
            return;
        }
        log_info("pci: no ECAM window in the firmware tables; using the legacy configuration mechanism");
        found = pci_enumerate(&g_pci_bus, config, 0, 0, 255);
    }
    log_info("pci: %zu function(s)", found);
}

} // namespace keel
