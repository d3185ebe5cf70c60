// Placing BARs in the host bridge's windows. Firmware on PCs assigns every
// BAR; QEMU's virt machine started without firmware assigns none, and a
// device tree's bridge says where they may go (`ranges`). A BAR is kept
// where it is when that lies wholly inside a window of its kind and over
// nothing placed before; otherwise it gets the lowest free, size-aligned
// place in a window: I/O BARs in an I/O window from 0x1000 on, 32-bit
// memory BARs in a memory window below 4 GiB, 64-bit ones in a 64-bit
// window first (prefetchable ones in a prefetchable one first). The BAR is
// written with decoding off, and its region's address becomes the CPU's.
#include "device/pci/pci.h"
#include "lib/base/format.h"
#include "lib/base/utility.h"

namespace keel {

namespace {

constexpr uint64_t k4GiB = 1ull << 32;
constexpr uint64_t kPage = 4096;

bool is_io(const PciBarWindow& window) { return window.kind == PciBarWindow::kIo; }

void problem(const PciFunction& function, const char* what)
{
    device_log(kDeviceLogWarn, "pci %04x:%02x:%02x.%x: %s", function.address.segment, function.address.bus,
        function.address.device, function.address.function, what);
}

uint64_t align_up(uint64_t value, uint64_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

void write_bar(const PciFunction& function, unsigned index, uint64_t pci, bool wide)
{
    uint16_t offset = uint16_t(kPciBar0 + 4 * index);
    uint16_t command = uint16_t(pci_read(function, kPciCommand, 2));
    pci_write(function, kPciCommand, 2, command & ~(kPciCommandIo | kPciCommandMemory));
    uint32_t low = pci_read(function, offset, 4);
    uint32_t type_bits = (low & 1) ? (low & 3) : (low & 0xf);
    pci_write(function, offset, 4, uint32_t(pci) | type_bits);
    if (wide)
        pci_write(function, uint16_t(offset + 4), 4, uint32_t(pci >> 32));
    pci_write(function, kPciCommand, 2, command);
}

} // namespace

void PciBarPlacer::add_window(const PciBarWindow& window)
{
    uint64_t end;
    if (window.size == 0 || __builtin_add_overflow(window.pci, window.size, &end)
        || __builtin_add_overflow(window.cpu, window.size, &end) || m_window_count == kMaxWindows) {
        device_log(kDeviceLogWarn, "pci: window at bus address %#llx (%#llx bytes) is empty, wraps or is one too many",
            (unsigned long long)window.pci, (unsigned long long)window.size);
        return;
    }
    m_windows[m_window_count++] = window;
}

const PciBarWindow* PciBarPlacer::window_holding(bool io, bool wide, uint64_t pci, uint64_t size) const
{
    for (size_t i = 0; i < m_window_count; i++) {
        const PciBarWindow& window = m_windows[i];
        if (is_io(window) != io || pci < window.pci || size > window.size || pci - window.pci > window.size - size)
            continue;
        if (!io && !wide && pci + size > k4GiB)
            continue;
        return &window;
    }
    return nullptr;
}

bool PciBarPlacer::overlaps(bool io, uint64_t pci, uint64_t end) const
{
    for (size_t i = 0; i < m_placed_count; i++) {
        const Placed& placed = m_placed[i];
        if (placed.io == io && pci < placed.end && placed.pci < end)
            return true;
    }
    return false;
}

// The lowest aligned place in `window` over nothing placed: candidates are
// the window's start and the end of every placed range.
bool PciBarPlacer::allocate_in(const PciBarWindow& window, uint64_t size, uint64_t& pci) const
{
    bool io = is_io(window);
    uint64_t alignment = io ? size : max(size, kPage);
    uint64_t floor = io ? max(window.pci, kIoStart) : max(window.pci, uint64_t(1));
    uint64_t window_end = window.pci + window.size;
    bool found = false;
    for (size_t i = 0; i <= m_placed_count; i++) {
        uint64_t start = i == m_placed_count ? floor : max(floor, m_placed[i].end);
        if (i < m_placed_count && m_placed[i].io != io)
            continue;
        uint64_t candidate = align_up(start, alignment);
        if (candidate < start || candidate > window_end || size > window_end - candidate)
            continue;
        if (overlaps(io, candidate, candidate + size) || (found && candidate >= pci))
            continue;
        pci = candidate;
        found = true;
    }
    return found;
}

bool PciBarPlacer::allocate(
    bool io, bool wide, bool prefetchable, uint64_t size, uint64_t& pci, const PciBarWindow*& chosen)
{
    // Passes in order of preference; each takes the first window that has room.
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < m_window_count; i++) {
            const PciBarWindow& window = m_windows[i];
            bool usable;
            if (io)
                usable = pass == 0 && is_io(window);
            else if (is_io(window))
                usable = false;
            else if (!wide)
                usable = pass == 0 && window.pci < k4GiB;
            else if (pass == 0)
                usable = window.kind == PciBarWindow::kMemory64 && window.prefetchable == prefetchable;
            else if (pass == 1)
                usable = window.kind == PciBarWindow::kMemory64;
            else
                usable = window.kind == PciBarWindow::kMemory32;
            if (!usable)
                continue;
            // A 32-bit BAR in a window reaching past 4 GiB: only its low part.
            PciBarWindow limited = window;
            if (!io && !wide && window.pci + window.size > k4GiB)
                limited.size = k4GiB - window.pci;
            if (allocate_in(limited, size, pci)) {
                chosen = &window;
                return true;
            }
        }
    }
    return false;
}

void PciBarPlacer::note(bool io, uint64_t pci, uint64_t size)
{
    if (m_placed_count < kMaxPlaced)
        m_placed[m_placed_count++] = { pci, pci + size, io };
}

size_t PciBarPlacer::place(PciFunction& function, DeviceRegion* regions, size_t count)
{
    if (m_window_count == 0)
        return 0;
    size_t assigned = 0;
    for (size_t index = 0; index < count; index++) {
        DeviceRegion& region = regions[index];
        if (region.length == 0 || !(region.flags & (KEEL_REGION_MEMORY | KEEL_REGION_IO)))
            continue;
        bool io = region.flags & KEEL_REGION_IO;
        bool wide = region.flags & KEEL_REGION_64BIT;
        bool prefetchable = region.flags & KEEL_REGION_PREFETCHABLE;
        uint64_t pci = region.phys, size = region.length;
        const PciBarWindow* window = nullptr;
        bool keep = pci != 0 && (!io || pci >= kIoStart) && (window = window_holding(io, wide, pci, size)) != nullptr
            && !overlaps(io, pci, pci + size);
        char why[128];
        if (!keep) {
            if (m_placed_count == kMaxPlaced || !allocate(io, wide, prefetchable, size, pci, window)) {
                format(why, sizeof(why), "BAR %zu (%s, %#llx bytes): no room in the host bridge's windows; left out",
                    index, io ? "I/O" : "memory", (unsigned long long)size);
                problem(function, why);
                region = {};
                continue;
            }
            write_bar(function, unsigned(index), pci, wide);
            assigned++;
        }
        note(io, pci, size);
        region.phys = window->cpu + (pci - window->pci);
    }
    return assigned;
}

} // namespace keel
