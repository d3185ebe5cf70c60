#include "lib/fdt/pci_host.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel::fdt {

namespace {

constexpr uint32_t kSpaceShift = 24;
constexpr uint32_t kSpaceMask = 3;
constexpr uint32_t kPrefetchable = 1u << 30;
constexpr uint64_t k4GiB = 1ull << 32;

const InterruptParent* find_parent(const InterruptParent* parents, size_t count, uint32_t phandle)
{
    for (size_t i = 0; i < count; i++) {
        if (parents[i].phandle == phandle)
            return &parents[i];
    }
    return nullptr;
}

Result<void> read_reg(const PciHostNode& node, PciHost& host, Diagnostic& diagnostic)
{
    unsigned address_cells = node.parent_address_cells, size_cells = node.parent_size_cells;
    if (address_cells < 1 || address_cells > 2 || size_cells < 1 || size_cells > 2)
        return diagnostic.fail(Error::EINVAL, "reg: the parent's #address-cells %u / #size-cells %u are not 1 or 2",
            address_cells, size_cells);
    if (node.reg.length < 4 * (address_cells + size_cells) || node.reg.length % 4)
        return diagnostic.fail(Error::EINVAL, "reg: %u bytes; the ECAM window takes %u", node.reg.length,
            4 * (address_cells + size_cells));
    uint64_t base, size, end;
    node.reg.number(0, address_cells, base);
    node.reg.number(address_cells, size_cells, size);
    if (size < (1u << 20) || __builtin_add_overflow(base, size, &end))
        return diagnostic.fail(Error::EINVAL, "reg: ECAM window %#llx + %#llx is under one bus (1 MiB) or wraps",
            (unsigned long long)base, (unsigned long long)size);
    host.ecam.base = base;
    host.ecam.size = size;
    host.bus_start = 0;
    host.bus_end = uint32_t(min<uint64_t>((size >> 20) - 1, 255));
    if (node.bus_range.name) {
        if (node.bus_range.length != 8)
            return diagnostic.fail(Error::EINVAL, "bus-range: %u bytes, not two cells", node.bus_range.length);
        node.bus_range.cell(0, host.bus_start);
        node.bus_range.cell(1, host.bus_end);
        if (host.bus_start > host.bus_end || host.bus_end > 255
            || (uint64_t(host.bus_end - host.bus_start) + 1) << 20 > size)
            return diagnostic.fail(Error::EINVAL, "bus-range: buses %u-%u do not fit 0-255 or the %#llx-byte window",
                host.bus_start, host.bus_end, (unsigned long long)size);
        if (base < uint64_t(host.bus_start) << 20)
            return diagnostic.fail(Error::EINVAL,
                "reg: an ECAM window at %#llx cannot start with bus %u: bus 0 would lie below address 0",
                (unsigned long long)base, host.bus_start);
    }
    return {};
}

Result<void> read_ranges(const PciHostNode& node, PciHost& host, Diagnostic& diagnostic)
{
    unsigned parent_cells = node.parent_address_cells, size_cells = node.size_cells;
    if (!node.ranges.name)
        return {};
    if (node.address_cells != 3 || size_cells < 1 || size_cells > 2)
        return diagnostic.fail(Error::EINVAL, "#address-cells %u / #size-cells %u: a PCI bus has 3 and 1 or 2",
            node.address_cells, size_cells);
    size_t stride = 3 + parent_cells + size_cells;
    if (node.ranges.length % (4 * stride))
        return diagnostic.fail(
            Error::EINVAL, "ranges: %u bytes is not a whole number of %zu-cell entries", node.ranges.length, stride);
    size_t entries = node.ranges.length / (4 * stride);
    for (size_t i = 0; i < entries; i++) {
        size_t first = i * stride;
        uint32_t high;
        uint64_t pci, cpu, size, end;
        node.ranges.cell(first, high);
        node.ranges.number(first + 1, 2, pci);
        node.ranges.number(first + 3, parent_cells, cpu);
        node.ranges.number(first + 3 + parent_cells, size_cells, size);
        uint32_t space = (high >> kSpaceShift) & kSpaceMask;
        if (space == 0)
            return diagnostic.fail(Error::EINVAL, "ranges: entry %zu maps configuration space (phys.hi %#x)", i, high);
        if (size == 0 || __builtin_add_overflow(pci, size, &end) || __builtin_add_overflow(cpu, size, &end))
            return diagnostic.fail(Error::EINVAL, "ranges: entry %zu: PCI %#llx / CPU %#llx + %#llx is empty or wraps",
                i, (unsigned long long)pci, (unsigned long long)cpu, (unsigned long long)size);
        if ((space == 1 || space == 2) && pci + size > k4GiB)
            return diagnostic.fail(Error::EINVAL,
                "ranges: entry %zu: a %s window at PCI %#llx + %#llx reaches past 4 GiB", i,
                space == 1 ? "I/O" : "32-bit memory", (unsigned long long)pci, (unsigned long long)size);
        if (host.window_count == PciHost::kMaxWindows)
            return diagnostic.fail(Error::EINVAL, "ranges: more than %zu windows", PciHost::kMaxWindows);
        PciWindow::Kind kind = space == 1 ? PciWindow::kIo : space == 2 ? PciWindow::kMemory32 : PciWindow::kMemory64;
        host.windows[host.window_count++] = { kind, (high & kPrefetchable) != 0, pci, cpu, size };
    }
    return {};
}

Result<void> read_interrupt_map(
    const PciHostNode& node, const InterruptParent* parents, size_t parent_count, PciHost& host, Diagnostic& diagnostic)
{
    host.intx_mask[0] = host.intx_mask[1] = host.intx_mask[2] = host.intx_mask_pin = 0xffffffff;
    if (node.interrupt_map_mask.name) {
        if (node.interrupt_map_mask.length != 16)
            return diagnostic.fail(Error::EINVAL, "interrupt-map-mask: %u bytes, not 4 cells (address and pin)",
                node.interrupt_map_mask.length);
        for (size_t i = 0; i < 3; i++)
            node.interrupt_map_mask.cell(i, host.intx_mask[i]);
        node.interrupt_map_mask.cell(3, host.intx_mask_pin);
    }
    if (!node.interrupt_map.name)
        return {};
    if (node.interrupt_cells != 1)
        return diagnostic.fail(
            Error::EINVAL, "#interrupt-cells %u: a PCI bus's INTx specifier is 1 cell", node.interrupt_cells);
    const Property& map = node.interrupt_map;
    if (map.length % 4)
        return diagnostic.fail(Error::EINVAL, "interrupt-map: %u bytes is not whole cells", map.length);
    size_t cells = map.cell_count();
    for (size_t at = 0, index = 0; at < cells; index++) {
        // child address (3), pin (1), parent phandle (1), parent address, parent specifier
        if (cells - at < 5)
            return diagnostic.fail(Error::EINVAL, "interrupt-map: entry %zu is cut short", index);
        uint32_t address[3], pin, phandle;
        for (size_t i = 0; i < 3; i++)
            map.cell(at + i, address[i]);
        map.cell(at + 3, pin);
        map.cell(at + 4, phandle);
        const InterruptParent* parent = find_parent(parents, parent_count, phandle);
        if (!parent || !parent->is_gic || parent->interrupt_cells != 3)
            return diagnostic.fail(Error::EINVAL,
                "interrupt-map: entry %zu: interrupt parent %#x is not a GIC with 3 interrupt cells", index, phandle);
        if (parent->address_cells > 3)
            return diagnostic.fail(
                Error::EINVAL, "interrupt-map: entry %zu: parent #address-cells %u", index, parent->address_cells);
        size_t specifier = at + 5 + parent->address_cells;
        if (cells < specifier + 3)
            return diagnostic.fail(Error::EINVAL, "interrupt-map: entry %zu is cut short", index);
        uint32_t type, number, flags;
        map.cell(specifier, type);
        map.cell(specifier + 1, number);
        map.cell(specifier + 2, flags);
        GicInterrupt interrupt;
        if (!read_gic_interrupt(type, number, flags, interrupt) || interrupt.type != GicInterrupt::kSpi)
            return diagnostic.fail(
                Error::EINVAL, "interrupt-map: entry %zu: <%u %u %#x> is not a GIC SPI", index, type, number, flags);
        if (host.intx_count == PciHost::kMaxIntx)
            return diagnostic.fail(Error::EINVAL, "interrupt-map: more than %zu entries", PciHost::kMaxIntx);
        PciIntxRoute& route = host.intx[host.intx_count++];
        for (size_t i = 0; i < 3; i++)
            route.address[i] = address[i] & host.intx_mask[i];
        route.pin = pin & host.intx_mask_pin;
        route.interrupt = interrupt;
        at = specifier + 3;
    }
    return {};
}

Result<void> read_msi(const PciHostNode& node, PciHost& host, Diagnostic& diagnostic)
{
    if (node.msi_parent.name) {
        if (!node.msi_parent.cell(0, host.msi_controller))
            return diagnostic.fail(Error::EINVAL, "msi-parent: %u bytes, no phandle", node.msi_parent.length);
        return {};
    }
    if (!node.msi_map.name)
        return {};
    // (rid-base, msi-controller, msi-base, length) per entry: one
    // controller for every requester is all this kernel uses.
    if (node.msi_map.length == 0 || node.msi_map.length % 16)
        return diagnostic.fail(
            Error::EINVAL, "msi-map: %u bytes is not a whole number of 4-cell entries", node.msi_map.length);
    size_t entries = node.msi_map.cell_count() / 4;
    if (entries > PciHost::kMaxMsiMap)
        return diagnostic.fail(
            Error::EINVAL, "msi-map: %zu entries, at most %zu are read", entries, PciHost::kMaxMsiMap);
    for (size_t i = 0; i < entries; i++) {
        uint32_t phandle;
        PciHost::MsiMap map;
        node.msi_map.cell(i * 4, map.rid_base);
        node.msi_map.cell(i * 4 + 1, phandle);
        node.msi_map.cell(i * 4 + 2, map.msi_base);
        node.msi_map.cell(i * 4 + 3, map.length);
        if (i > 0 && phandle != host.msi_controller)
            return diagnostic.fail(
                Error::EINVAL, "msi-map: entry %zu names controller %#x, entry 0 %#x", i, phandle, host.msi_controller);
        // Requester IDs are 16 bits; device IDs 32.
        if (map.length == 0 || map.rid_base > 0xffff || map.length > 0x10000 - map.rid_base
            || map.length - 1 > 0xffffffffu - map.msi_base)
            return diagnostic.fail(Error::EINVAL, "msi-map: entry %zu maps %#x+%#x to %#x, outside the ID spaces", i,
                map.rid_base, map.length, map.msi_base);
        host.msi_controller = phandle;
        host.msi_map[host.msi_map_count++] = map;
    }
    return {};
}

// A disabled child's `reg`: its first entry's phys.hi names the function.
// Only a root-bus function is matched (as Linux matches a host bridge's
// children), by device and function; a child whose `reg` is not whole
// (phys.hi, mid, lo, size) entries names nothing and is skipped, counted in
// `disabled_ignored`, as it would not be a reason to lose the whole bridge.
void read_disabled(const PciHostNode& node, PciHost& host)
{
    // The cells were checked with `ranges`; a bridge without them has no
    // BAR windows, and its disabled children are read all the same.
    if (node.address_cells != 3 || node.size_cells < 1 || node.size_cells > 2) {
        host.disabled_ignored += node.disabled_count;
        return;
    }
    size_t entry = (3 + size_t(node.size_cells)) * 4;
    for (size_t i = 0; i < node.disabled_count; i++) {
        const Property& reg = node.disabled[i];
        uint32_t phys_hi = 0;
        if (reg.length == 0 || reg.length % entry != 0 || !reg.cell(0, phys_hi)) {
            host.disabled_ignored++;
            continue;
        }
        host.disabled[host.disabled_count++] = uint8_t(phys_hi >> 8);
    }
}

} // namespace

bool pci_host_function_disabled(const PciHost& host, uint8_t bus, uint8_t devfn)
{
    if (bus != host.bus_start)
        return false;
    for (size_t i = 0; i < host.disabled_count; i++) {
        if (host.disabled[i] == devfn)
            return true;
    }
    return false;
}

bool pci_host_msi_device_id(const PciHost& host, uint32_t rid, uint32_t& device_id)
{
    if (host.msi_map_count == 0) {
        device_id = rid;
        return true;
    }
    for (size_t i = 0; i < host.msi_map_count; i++) {
        const PciHost::MsiMap& map = host.msi_map[i];
        if (rid >= map.rid_base && rid - map.rid_base < map.length) {
            device_id = map.msi_base + (rid - map.rid_base);
            return true;
        }
    }
    return false;
}

Result<void> read_pci_host(
    const PciHostNode& node, const InterruptParent* parents, size_t parent_count, PciHost& host, Diagnostic& diagnostic)
{
    memset(&host, 0, sizeof(host));
    host.present = true;
    auto result = [&]() -> Result<void> {
        TRY(read_reg(node, host, diagnostic));
        TRY(read_ranges(node, host, diagnostic));
        TRY(read_interrupt_map(node, parents, parent_count, host, diagnostic));
        TRY(read_msi(node, host, diagnostic));
        read_disabled(node, host);
        return {};
    }();
    if (result.is_error()) {
        size_t length = min(strlen(diagnostic.message), sizeof(host.problem) - 1);
        memcpy(host.problem, diagnostic.message, length);
        host.problem[length] = '\0';
        return result;
    }
    host.usable = true;
    return {};
}

bool pci_host_intx(const PciHost& host, uint8_t slot, uint8_t pin, GicInterrupt& interrupt)
{
    if (!host.usable || slot > 31 || pin > 3)
        return false;
    uint32_t address[3] = { (host.bus_start << 16 | uint32_t(slot) << 11) & host.intx_mask[0], 0, 0 };
    uint32_t key_pin = uint32_t(pin + 1) & host.intx_mask_pin;
    for (size_t i = 0; i < host.intx_count; i++) {
        const PciIntxRoute& route = host.intx[i];
        if (route.address[0] == address[0] && route.address[1] == address[1] && route.address[2] == address[2]
            && route.pin == key_pin) {
            interrupt = route.interrupt;
            return true;
        }
    }
    return false;
}

} // namespace keel::fdt
