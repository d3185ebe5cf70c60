// PCI in the core: configuration space access, enumeration of every bus
// behind the host bridge and its bridges, BARs, capabilities, and the
// functions' interrupts (MSI-X, MSI, INTx). A function's configuration
// space is device-provided input: every pointer and size in it is checked,
// and a function that breaks a rule is registered without what is broken
// (a BAR, a capability), with a log line saying why.
//
// The decoding (this header down to enumeration) builds for the host too,
// where tests run it against synthetic configuration spaces; configuration
// access is injected (PciConfigOps).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "device/device.h"
#include "lib/devmatch/pci.h"
#include "lib/pci/window.h"

namespace keel {

struct PciAddress {
    uint16_t segment;
    uint8_t bus;
    uint8_t device;
    uint8_t function;
};

// How configuration space is reached: accesses of 1, 2 or 4 bytes,
// naturally aligned, inside the function's space (size: 256, or 4096 with
// ECAM). Reads of nothing return all ones, as the hardware does.
struct PciConfigOps {
    uint32_t (*read)(void* context, PciAddress address, uint16_t offset, unsigned width);
    void (*write)(void* context, PciAddress address, uint16_t offset, unsigned width, uint32_t value);
    uint16_t (*size)(void* context, PciAddress address);
    void* context;
};

// Registers of the configuration header.
enum PciRegister : uint16_t {
    kPciVendorId = 0x00,
    kPciDeviceId = 0x02,
    kPciCommand = 0x04,
    kPciStatus = 0x06,
    kPciRevision = 0x08,
    kPciClassCode = 0x09, // 3 bytes: interface, subclass, base class
    kPciHeaderType = 0x0e,
    kPciBar0 = 0x10,
    kPciSecondaryBus = 0x19,
    kPciSubordinateBus = 0x1a,
    kPciSubsystemVendor = 0x2c,
    kPciSubsystemId = 0x2e,
    kPciCapabilities = 0x34,
    kPciInterruptLine = 0x3c,
    kPciInterruptPin = 0x3d,
};

enum PciCommand : uint16_t {
    kPciCommandIo = 1 << 0,
    kPciCommandMemory = 1 << 1,
    kPciCommandMaster = 1 << 2,
    kPciCommandIntxDisable = 1 << 10,
};

inline constexpr uint16_t kPciStatusCapabilities = 1 << 4;
inline constexpr uint32_t kPciCapabilityMsi = 0x05;
inline constexpr uint32_t kPciCapabilityExpress = 0x10;
inline constexpr uint32_t kPciCapabilityMsix = 0x11;
inline constexpr uint16_t kPciExtendedStart = 0x100;
inline constexpr uint32_t kPciMaxVectors = 32;

struct PciFunction {
    PciAddress address {};
    PciConfigOps config {};
    devmatch::PciId identity {};
    uint8_t revision = 0;
    uint8_t header_type = 0; // without the multi-function bit
    uint8_t irq_pin = 0;     // 1 = INTA .. 4 = INTD, 0 none
    uint16_t config_size = 256;
    uint8_t secondary_bus = 0; // bridges
    uint8_t subordinate_bus = 0;
    uint16_t msi = 0; // capability offsets, 0 when absent or unusable
    uint16_t msix = 0;
    uint16_t express = 0;
    // MSI-X table: BAR and offset, entries (checked against the BAR).
    uint8_t msix_bar = 0;
    uint32_t msix_offset = 0;
    uint16_t msix_entries = 0;
    // BARs: how many the header has, and whether sizing them waits for
    // first use (PciBarSizing::Deferred).
    uint8_t bar_count = 0;
    bool bars_deferred = false;
    // Where INTx ends up at the root bus: the slot and pin after swizzling
    // through the bridges above, and the host bridge's ids (for the arch's
    // routing table).
    uint8_t root_slot = 0;
    uint8_t root_pin = 0;
    uint8_t child_rotation = 0; // bridges: what their functions' pins turn by above them
    uint16_t host_vendor = 0;
    uint16_t host_device = 0;
    Device* device = nullptr;
    // Interrupts set up for the binding (msi.cpp): type and lines.
    uint32_t irq_type = 0;
    uint32_t irq_count = 0;
    IrqLine* lines[kPciMaxVectors] = {};
    void* msix_table = nullptr; // mapped while MSI-X is in use
};

inline PciFunction& pci_function(const Device& device) { return *static_cast<PciFunction*>(device.bus_data); }
bool is_pci_device(const Device& device);

uint32_t pci_read(const PciFunction& function, uint16_t offset, unsigned width);
void pci_write(const PciFunction& function, uint16_t offset, unsigned width, uint32_t value);

// When a function's BARs are sized. Sizing turns decoding off and on again,
// and where the firmware left decoding on, each of those writes moves the
// function's windows in the platform's address map (under QEMU, half a
// millisecond each). Where the kernel keeps the firmware's assignment (no
// host bridge windows to place BARs in), nothing needs the sizes before a
// driver binds or `lspci` asks, so enumeration can leave them for then.
enum class PciBarSizing { Now, Deferred };

// Reads the function's identity, BARs (sized with decoding off, then
// restored) and capabilities into `function` and `regions`. Problems with
// one part are logged and that part left out; only a function that is not
// there (vendor 0xffff) fails, with ENODEV. Deferred: `regions` stay empty
// (region_count 0) and the MSI-X table is not checked yet, until
// pci_size_deferred_bars.
Result<void> pci_read_function(
    PciFunction& function, DeviceRegion* regions, size_t& region_count, PciBarSizing sizing = PciBarSizing::Now);

// Sizes the BARs of a function read with PciBarSizing::Deferred into
// `regions` and checks its MSI-X table against them; does nothing for a
// function whose BARs are sized already.
void pci_size_deferred_bars(PciFunction& function, DeviceRegion* regions, size_t& region_count);

// The same for a device on the pci bus: its regions are right afterwards.
// The bus calls it before every probe; `lspci` before it prints.
void pci_settle_regions(Device& device) REQUIRES(g_device_lock);

// The offset of the first capability `id` that comes after the one at
// `after` in the function's list (after 0: from the start), or ENOENT. The
// extended list is walked the same way. Malformed lists end the walk.
Result<uint16_t> pci_find_capability(const PciFunction& function, uint32_t id, uint16_t after);
Result<uint16_t> pci_find_ext_capability(const PciFunction& function, uint32_t id, uint16_t after);

// Where BARs live: the host bridge's windows (a device tree's `ranges`).
// With windows, a BAR the firmware left unassigned (0, or outside every
// window of its kind, or over one placed already) is given space in one
// and written; every BAR's bus address becomes the CPU's address in its
// region. Without windows (PCs: the firmware assigns, bus addresses are
// CPU addresses) BARs are used as they are. Host-tested (assign.cpp).
using PciBarWindow = pci::Window;

class PciBarPlacer {
public:
    static constexpr size_t kMaxWindows = 8;
    static constexpr size_t kMaxPlaced = 128;
    // I/O space below this is left alone (a PC's legacy ports), as Linux does.
    static constexpr uint64_t kIoStart = 0x1000;

    // Windows that are empty or wrap are dropped (logged).
    void add_window(const PciBarWindow& window);
    size_t window_count() const { return m_window_count; }

    // The function's regions (as pci_read_function read them, bus
    // addresses) placed: kept or assigned (the BARs written with decoding
    // off), phys made a CPU address. A BAR no window can take is left out,
    // logged. Returns how many BARs were assigned.
    size_t place(PciFunction& function, DeviceRegion* regions, size_t count);

private:
    struct Placed {
        uint64_t pci, end; // [pci, end)
        bool io;
    };
    const PciBarWindow* window_holding(bool io, bool wide, uint64_t pci, uint64_t size) const;
    bool overlaps(bool io, uint64_t pci, uint64_t end) const;
    bool allocate(bool io, bool wide, bool prefetchable, uint64_t size, uint64_t& pci, const PciBarWindow*& window);
    bool allocate_in(const PciBarWindow& window, uint64_t size, uint64_t& pci) const;
    void note(bool io, uint64_t pci, uint64_t size);

    PciBarWindow m_windows[kMaxWindows] {};
    size_t m_window_count = 0;
    Placed m_placed[kMaxPlaced] {};
    size_t m_placed_count = 0;
};

// Enumerates one segment's buses [bus_start, bus_end] from the host bridge
// at bus_start: a root device "pciSSSS:BB", then every function, each a
// child of the bridge it sits behind, registered (and bound to a driver)
// as it is found. Bridges whose bus numbers point backwards or at a bus
// already seen are logged and not followed. BARs go through `placer` when
// there is one. A function `disabled` names (the firmware's description
// says to leave it alone) is logged and skipped: no device, no BARs placed.
// Returns the functions found.
using PciDisabledFunction = bool (*)(PciAddress address);
size_t pci_enumerate(const BusType* bus, const PciConfigOps& config, uint16_t segment, uint8_t bus_start,
    uint8_t bus_end, PciBarPlacer* placer = nullptr, PciDisabledFunction disabled = nullptr) REQUIRES(g_device_lock);

// ---- kernel only
// Finds the configuration windows and enumerates every segment.
void pci_init();
// keel_pci_alloc_irq_vectors / keel_pci_free_irq_vectors.
Result<uint32_t> pci_alloc_irq_vectors(Device& device, uint32_t min, uint32_t max, uint32_t types)
    REQUIRES(g_device_lock);
Result<void> pci_free_irq_vectors(Device& device) REQUIRES(g_device_lock);

// The PCI bus's release callback: frees the device's PciFunction.
void pci_release_function(Device& device);

// Class names for lspci ("Ethernet controller"); nullptr when unknown.
const char* pci_class_name(uint32_t class_code);

} // namespace keel
