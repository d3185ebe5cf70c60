// The generic PCIe host bridge binding (core/lib/fdt/pci_host.h): QEMU
// virt's bridge with GICv3 and with GICv2 and its GICv2m frame, and every
// refusal of a malformed property, on synthetic nodes.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "lib/fdt/machine.h"
#include "lib/fdt/pci_host.h"

using namespace keel;
using namespace keel::fdt;

namespace {

Machine read_tree(const char* variable)
{
    const char* path = getenv(variable);
    REQUIRE(path != nullptr);
    std::ifstream file(path, std::ios::binary);
    std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(file), {});
    Diagnostic diagnostic;
    auto blob = Blob::open(bytes.data(), bytes.size(), diagnostic);
    REQUIRE(blob.is_ok());
    Machine machine;
    REQUIRE(read_machine(blob.value(), machine, diagnostic).is_ok());
    return machine;
}

// A property's bytes, big-endian cells; kept alive by the test.
struct Cells {
    std::vector<uint8_t> bytes;
    Cells(std::initializer_list<uint32_t> cells)
    {
        for (uint32_t cell : cells) {
            for (int shift = 24; shift >= 0; shift -= 8)
                bytes.push_back(uint8_t(cell >> shift));
        }
    }
    Property as(const char* name) const { return { name, bytes.data(), uint32_t(bytes.size()) }; }
};

constexpr uint32_t kGic = 0x8002;

// QEMU virt's bridge, cut to two windows and two map entries.
struct Bridge {
    Cells reg { 0x40, 0x10000000, 0x0, 0x10000000 };
    Cells bus_range { 0, 0xff };
    Cells ranges { 0x01000000, 0, 0, 0, 0x3eff0000, 0, 0x10000,  //
        0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x2eff0000, //
        0x43000000, 0x80, 0, 0x80, 0, 0x80, 0 };
    Cells map { 0, 0, 0, 1, kGic, 0, 0, 0, 3, 4, //
        0x800, 0, 0, 1, kGic, 0, 0, 0, 4, 4 };
    Cells mask { 0x1800, 0, 0, 7 };
    Cells msi_parent { 0x8003 };
    PciHostNode node() const
    {
        return { reg.as("reg"), bus_range.as("bus-range"), ranges.as("ranges"), map.as("interrupt-map"),
            mask.as("interrupt-map-mask"), msi_parent.as("msi-parent"), Property {}, 3, 2, 1, 2, 2, {}, 0 };
    }
};

const InterruptParent kParents[] = { { kGic, 2, 3, true }, { 0x8003, 0, 0, false }, { 0x9000, 0, 2, false } };

std::string refusal(const PciHostNode& node)
{
    PciHost host;
    Diagnostic diagnostic;
    auto result = read_pci_host(node, kParents, 3, host, diagnostic);
    REQUIRE(result.is_error());
    CHECK(result.error() == Error::EINVAL);
    CHECK(host.present);
    CHECK_FALSE(host.usable);
    CHECK(std::string(host.problem) == std::string(diagnostic.message).substr(0, sizeof(host.problem) - 1));
    return diagnostic.message;
}

} // namespace

TEST_CASE("QEMU virt's host bridge with GICv3: ECAM, windows, INTx map")
{
    Machine machine = read_tree("FDT_VIRT_GICV3");
    const PciHost& host = machine.pcie;
    REQUIRE(host.usable);
    CHECK(host.ecam.base == 0x4010000000);
    CHECK(host.ecam.size == 0x10000000);
    REQUIRE(host.window_count == 3);
    CHECK(host.windows[0].kind == PciWindow::kIo);
    CHECK(host.windows[0].pci == 0);
    CHECK(host.windows[0].cpu == 0x3eff0000);
    CHECK(host.windows[0].size == 0x10000);
    CHECK(host.windows[1].kind == PciWindow::kMemory32);
    CHECK(host.windows[1].pci == 0x10000000);
    CHECK(host.windows[1].cpu == 0x10000000);
    CHECK(host.windows[1].size == 0x2eff0000);
    CHECK(host.windows[2].kind == PciWindow::kMemory64);
    CHECK(host.windows[2].pci == 0x8000000000);
    CHECK_FALSE(host.windows[2].prefetchable);
    REQUIRE(host.intx_count == 16);
    // QEMU's swizzle: slot s pin p (0 = INTA) on SPI 3 + (s + p) % 4; the
    // mask (0x1800) repeats it every four slots.
    for (uint8_t slot = 0; slot < 32; slot++) {
        for (uint8_t pin = 0; pin < 4; pin++) {
            GicInterrupt interrupt;
            REQUIRE(pci_host_intx(host, slot, pin, interrupt));
            CHECK(interrupt.type == GicInterrupt::kSpi);
            CHECK(interrupt.intid() == 32 + 3 + (slot + pin) % 4u);
            CHECK(interrupt.level_triggered());
            CHECK_FALSE(interrupt.active_low());
        }
    }
    GicInterrupt none;
    CHECK_FALSE(pci_host_intx(host, 32, 0, none));
    CHECK_FALSE(pci_host_intx(host, 0, 4, none));
    CHECK(machine.gic_v2m.present == false);
    // The ITS takes the bridge's messages, every requester ID as itself.
    REQUIRE(machine.gic_its.present);
    CHECK(machine.gic_its.registers.base == 0x08080000);
    CHECK(machine.gic_its.registers.size == 0x20000);
    CHECK(host.msi_controller == machine.gic_its.phandle);
    REQUIRE(host.msi_map_count == 1);
    for (uint32_t rid : { 0u, 0x10u, 0x0108u, 0xffffu }) {
        uint32_t device_id = ~0u;
        CHECK(pci_host_msi_device_id(host, rid, device_id));
        CHECK(device_id == rid);
    }
}

TEST_CASE("QEMU virt with GICv2: the GICv2m frame is the bridge's MSI controller")
{
    Machine machine = read_tree("FDT_VIRT_GICV2");
    REQUIRE(machine.pcie.usable);
    REQUIRE(machine.gic_v2m.present);
    CHECK(machine.gic_v2m.registers.base == 0x08020000);
    CHECK(machine.gic_v2m.registers.size == 0x1000);
    CHECK(machine.gic_v2m.spi_count == 0); // from its MSI_TYPER
    CHECK(machine.pcie.msi_controller == machine.gic_v2m.phandle);
    CHECK(machine.pcie.intx_count == 16);
}

TEST_CASE("a synthetic bridge: windows, the map with its mask, msi-parent")
{
    Bridge bridge;
    PciHost host;
    Diagnostic diagnostic;
    REQUIRE(read_pci_host(bridge.node(), kParents, 3, host, diagnostic).is_ok());
    CHECK(host.windows[2].prefetchable);
    CHECK(host.msi_controller == 0x8003);
    GicInterrupt interrupt;
    REQUIRE(pci_host_intx(host, 5, 0, interrupt)); // slot 5 & 3 = 1
    CHECK(interrupt.number == 4);
    CHECK_FALSE(pci_host_intx(host, 0, 1, interrupt)); // no entry for INTB

    // Without a mask every bit counts: slot 4 no longer finds slot 0's entry.
    PciHostNode unmasked = bridge.node();
    unmasked.interrupt_map_mask = {};
    REQUIRE(read_pci_host(unmasked, kParents, 3, host, diagnostic).is_ok());
    CHECK(pci_host_intx(host, 0, 0, interrupt));
    CHECK_FALSE(pci_host_intx(host, 4, 0, interrupt));

    // Nothing but reg: usable, no windows, no INTx, buses from the size.
    PciHostNode bare {};
    bare.reg = bridge.reg.as("reg");
    bare.parent_address_cells = bare.parent_size_cells = 2;
    REQUIRE(read_pci_host(bare, kParents, 3, host, diagnostic).is_ok());
    CHECK(host.window_count == 0);
    CHECK(host.bus_end == 255);
    CHECK_FALSE(pci_host_intx(host, 0, 0, interrupt));
}

TEST_CASE("disabled children: a torn reg, or cells no PCI bus has, name nothing and lose nothing")
{
    Bridge bridge;
    PciHostNode node = bridge.node();
    Cells whole { 0x1800, 0, 0, 0, 0 }, torn { 0x800, 0 };
    node.disabled[0] = whole.as("reg");
    node.disabled[1] = torn.as("reg");
    node.disabled[2] = Property { "reg", nullptr, 0 };
    node.disabled_count = 3;
    PciHost host;
    Diagnostic diagnostic;
    REQUIRE(read_pci_host(node, kParents, 3, host, diagnostic).is_ok());
    CHECK(host.usable);
    REQUIRE(host.disabled_count == 1);
    CHECK(pci_host_function_disabled(host, 0, 0x18));
    CHECK(host.disabled_ignored == 2);

    // No ranges, so nothing checked the cells before: a #size-cells that
    // would make an entry 0 bytes (or not a PCI bus's) reads no child.
    for (uint32_t size_cells : { 0xfffffffdu, 0u, 3u }) {
        node = bridge.node();
        node.ranges = Property {};
        node.size_cells = size_cells;
        node.disabled[0] = whole.as("reg");
        node.disabled_count = 1;
        REQUIRE(read_pci_host(node, kParents, 3, host, diagnostic).is_ok());
        CHECK(host.disabled_count == 0);
        CHECK(host.disabled_ignored == 1);
    }
    node = bridge.node();
    node.ranges = Property {};
    node.address_cells = 2;
    node.disabled[0] = whole.as("reg");
    node.disabled_count = 1;
    REQUIRE(read_pci_host(node, kParents, 3, host, diagnostic).is_ok());
    CHECK(host.disabled_count == 0);
}

TEST_CASE("malformed bridges are refused, naming the property and entry")
{
    Bridge bridge;
    PciHostNode node = bridge.node();

    Cells short_reg { 0, 0x3f000000, 0, 0x1000 };
    node.reg = short_reg.as("reg");
    CHECK(refusal(node) == "reg: ECAM window 0x3f000000 + 0x1000 is under one bus (1 MiB) or wraps");
    node = bridge.node();
    Cells three_cells { 0, 1, 2 };
    node.reg = three_cells.as("reg");
    CHECK(refusal(node) == "reg: 12 bytes; the ECAM window takes 16");
    node = bridge.node();
    Cells wrapping { 0xffffffff, 0xfff00000, 0, 0x200000 };
    node.reg = wrapping.as("reg");
    CHECK(refusal(node).find("wraps") != std::string::npos);

    node = bridge.node();
    Cells backwards { 5, 2 };
    node.bus_range = backwards.as("bus-range");
    CHECK(refusal(node) == "bus-range: buses 5-2 do not fit 0-255 or the 0x10000000-byte window");
    Cells one { 5 };
    node.bus_range = one.as("bus-range");
    CHECK(refusal(node) == "bus-range: 4 bytes, not two cells");
    Cells high { 1, 0xff };
    Cells low_reg { 0, 0, 0, 0x10000000 };
    node.bus_range = high.as("bus-range");
    node.reg = low_reg.as("reg");
    CHECK(refusal(node) == "reg: an ECAM window at 0 cannot start with bus 1: bus 0 would lie below address 0");

    node = bridge.node();
    node.address_cells = 2;
    CHECK(refusal(node) == "#address-cells 2 / #size-cells 2: a PCI bus has 3 and 1 or 2");
    node = bridge.node();
    Cells ragged { 0x02000000, 0, 0x10000000, 0, 0x10000000, 0 };
    node.ranges = ragged.as("ranges");
    CHECK(refusal(node) == "ranges: 24 bytes is not a whole number of 7-cell entries");
    Cells config { 0x00000000, 0, 0, 0, 0x3eff0000, 0, 0x10000 };
    node.ranges = config.as("ranges");
    CHECK(refusal(node) == "ranges: entry 0 maps configuration space (phys.hi 0)");
    Cells empty { 0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0 };
    node.ranges = empty.as("ranges");
    CHECK(refusal(node) == "ranges: entry 0: PCI 0x10000000 / CPU 0x10000000 + 0 is empty or wraps");
    Cells past_4g { 0x02000000, 0, 0xf0000000, 0, 0xf0000000, 0, 0x20000000 };
    node.ranges = past_4g.as("ranges");
    CHECK(refusal(node) == "ranges: entry 0: a 32-bit memory window at PCI 0xf0000000 + 0x20000000 reaches past 4 GiB");
    Cells cpu_wraps { 0x03000000, 0, 0x1000, 0xffffffff, 0xfffff000, 0, 0x2000 };
    node.ranges = cpu_wraps.as("ranges");
    CHECK(refusal(node).find("is empty or wraps") != std::string::npos);
    std::vector<uint32_t> many;
    Cells nine_windows { 0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000,
        0, 0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0,
        0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0,
        0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0,
        0x1000, 0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x1000 };
    node.ranges = nine_windows.as("ranges");
    CHECK(refusal(node) == "ranges: more than 8 windows");

    node = bridge.node();
    Cells mask3 { 0x1800, 0, 0 };
    node.interrupt_map_mask = mask3.as("interrupt-map-mask");
    CHECK(refusal(node) == "interrupt-map-mask: 12 bytes, not 4 cells (address and pin)");
    node = bridge.node();
    node.interrupt_cells = 2;
    CHECK(refusal(node) == "#interrupt-cells 2: a PCI bus's INTx specifier is 1 cell");
    node = bridge.node();
    Cells unknown_parent { 0, 0, 0, 1, 0x1234, 0, 0, 0, 3, 4 };
    node.interrupt_map = unknown_parent.as("interrupt-map");
    CHECK(refusal(node) == "interrupt-map: entry 0: interrupt parent 0x1234 is not a GIC with 3 interrupt cells");
    Cells not_gic { 0, 0, 0, 1, 0x9000, 7, 8 };
    node.interrupt_map = not_gic.as("interrupt-map");
    CHECK(refusal(node) == "interrupt-map: entry 0: interrupt parent 0x9000 is not a GIC with 3 interrupt cells");
    Cells cut { 0, 0, 0, 1, kGic, 0, 0, 0, 3, 4, 0x800, 0, 0, 1, kGic, 0, 0, 0, 4 };
    node.interrupt_map = cut.as("interrupt-map");
    CHECK(refusal(node) == "interrupt-map: entry 1 is cut short");
    Cells address_only { 0, 0, 0 };
    node.interrupt_map = address_only.as("interrupt-map");
    CHECK(refusal(node) == "interrupt-map: entry 0 is cut short");
    Cells ppi { 0, 0, 0, 1, kGic, 0, 0, 1, 3, 4 };
    node.interrupt_map = ppi.as("interrupt-map");
    CHECK(refusal(node) == "interrupt-map: entry 0: <1 3 0x4> is not a GIC SPI");
    Cells big_spi { 0, 0, 0, 1, kGic, 0, 0, 0, 988, 4 };
    node.interrupt_map = big_spi.as("interrupt-map");
    CHECK(refusal(node) == "interrupt-map: entry 0: <0 988 0x4> is not a GIC SPI");
    uint8_t odd[] = { 0, 0, 0, 0, 1 };
    node.interrupt_map = { "interrupt-map", odd, 5 };
    CHECK(refusal(node) == "interrupt-map: 5 bytes is not whole cells");

    node = bridge.node();
    node.msi_parent = {};
    Cells two_controllers { 0, 0x8003, 0, 0x100, 0x100, 0x8004, 0x100, 0x100 };
    node.msi_map = two_controllers.as("msi-map");
    CHECK(refusal(node) == "msi-map: entry 1 names controller 0x8004, entry 0 0x8003");
    Cells three { 0, 0x8003, 0 };
    node.msi_map = three.as("msi-map");
    CHECK(refusal(node) == "msi-map: 12 bytes is not a whole number of 4-cell entries");
    Cells one_controller { 0, 0x8003, 0, 0x100, 0x100, 0x8003, 0x100, 0x100 };
    node.msi_map = one_controller.as("msi-map");
    PciHost host;
    Diagnostic diagnostic;
    REQUIRE(read_pci_host(node, kParents, 3, host, diagnostic).is_ok());
    CHECK(host.msi_controller == 0x8003);
    // Bus 0 is device IDs 0x1000-0x10ff, bus 2 is 0x2000-0x20ff; nothing
    // maps bus 1 or 3.
    Cells shifted { 0, 0x8003, 0x1000, 0x100, 0x200, 0x8003, 0x2000, 0x100 };
    node.msi_map = shifted.as("msi-map");
    REQUIRE(read_pci_host(node, kParents, 3, host, diagnostic).is_ok());
    uint32_t device_id = 0;
    CHECK(pci_host_msi_device_id(host, 0x08, device_id));
    CHECK(device_id == 0x1008);
    CHECK(pci_host_msi_device_id(host, 0x2ff, device_id));
    CHECK(device_id == 0x20ff);
    CHECK_FALSE(pci_host_msi_device_id(host, 0x100, device_id));
    CHECK_FALSE(pci_host_msi_device_id(host, 0x300, device_id));

    Cells past_requesters { 0xff00, 0x8003, 0, 0x200 };
    node.msi_map = past_requesters.as("msi-map");
    CHECK(refusal(node) == "msi-map: entry 0 maps 0xff00+0x200 to 0, outside the ID spaces");
    Cells past_device_ids { 0, 0x8003, 0xffffff00, 0x200 };
    node.msi_map = past_device_ids.as("msi-map");
    CHECK(refusal(node) == "msi-map: entry 0 maps 0+0x200 to 0xffffff00, outside the ID spaces");
    Cells no_length { 0, 0x8003, 0, 0 };
    node.msi_map = no_length.as("msi-map");
    CHECK(refusal(node) == "msi-map: entry 0 maps 0+0 to 0, outside the ID spaces");
    std::vector<uint32_t> nine_entries;
    for (uint32_t i = 0; i < 9; i++)
        nine_entries.insert(nine_entries.end(), { i * 0x10, 0x8003, i * 0x10, 0x10 });
    Cells nine { 0 };
    nine.bytes.clear();
    for (uint32_t cell : nine_entries) {
        for (int shift = 24; shift >= 0; shift -= 8)
            nine.bytes.push_back(uint8_t(cell >> shift));
    }
    node.msi_map = nine.as("msi-map");
    CHECK(refusal(node) == "msi-map: 9 entries, at most 8 are read");
}
