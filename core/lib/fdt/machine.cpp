#include "lib/fdt/machine.h"

#include "lib/base/string.h"

namespace keel::fdt {

namespace {

constexpr size_t kMaxUarts = 4;

struct Node {
    const char* name;
    // What this node's children's `reg` is made of.
    uint32_t address_cells;
    uint32_t size_cells;
    // This node's own `reg` is a CPU physical address.
    bool mapped;
    bool has_ranges;
    bool empty_ranges;
    bool has_address_cells;
    uint32_t interrupt_cells;
    uint32_t phandle;
    Property compatible, reg, interrupts, device_type, status, bus_range, method, ranges;
    Property interrupt_map, interrupt_map_mask, msi_parent, msi_map, msi_base_spi, msi_num_spis;
};

struct UartCandidate {
    const char* name;
    Range registers;
    GicInterrupt interrupt;
    bool has_interrupt;
};

bool node_is(const char* name, const char* base)
{
    // "memory" matches "memory" and "memory@40000000".
    size_t length = strlen(base);
    return strncmp(name, base, length) == 0 && (name[length] == '\0' || name[length] == '@');
}

class MachineReader final : public Visitor {
public:
    explicit MachineReader(Machine& machine)
        : m_machine(machine)
    {
    }

    void begin_node(const char* name, unsigned depth) override
    {
        Node& node = m_nodes[depth];
        node = {};
        node.name = name;
        node.address_cells = 2;
        node.size_cells = 1;
        if (depth == 0) {
            node.mapped = true;
        } else {
            const Node& parent = m_nodes[depth - 1];
            // Under the root, reg is physical; deeper, only through a bus
            // whose empty `ranges` maps its addresses one to one.
            node.mapped = parent.mapped && (depth == 1 || (parent.has_ranges && parent.empty_ranges));
        }
    }

    void property(const Property& property, unsigned depth) override
    {
        Node& node = m_nodes[depth];
        const char* name = property.name;
        if (strcmp(name, "#address-cells") == 0)
            node.has_address_cells = property.cell(0, node.address_cells);
        else if (strcmp(name, "#size-cells") == 0)
            property.cell(0, node.size_cells);
        else if (strcmp(name, "#interrupt-cells") == 0)
            property.cell(0, node.interrupt_cells);
        else if (strcmp(name, "phandle") == 0 || strcmp(name, "linux,phandle") == 0)
            property.cell(0, node.phandle);
        else if (strcmp(name, "ranges") == 0) {
            node.has_ranges = true;
            node.empty_ranges = property.length == 0;
            node.ranges = property;
        } else if (strcmp(name, "interrupt-map") == 0)
            node.interrupt_map = property;
        else if (strcmp(name, "interrupt-map-mask") == 0)
            node.interrupt_map_mask = property;
        else if (strcmp(name, "msi-parent") == 0)
            node.msi_parent = property;
        else if (strcmp(name, "msi-map") == 0)
            node.msi_map = property;
        else if (strcmp(name, "arm,msi-base-spi") == 0)
            node.msi_base_spi = property;
        else if (strcmp(name, "arm,msi-num-spis") == 0)
            node.msi_num_spis = property;
        else if (strcmp(name, "compatible") == 0)
            node.compatible = property;
        else if (strcmp(name, "reg") == 0)
            node.reg = property;
        else if (strcmp(name, "interrupts") == 0)
            node.interrupts = property;
        else if (strcmp(name, "device_type") == 0)
            node.device_type = property;
        else if (strcmp(name, "status") == 0)
            node.status = property;
        else if (strcmp(name, "bus-range") == 0)
            node.bus_range = property;
        else if (strcmp(name, "method") == 0)
            node.method = property;
        if (depth == 1 && strcmp(node.name, "chosen") == 0)
            chosen_property(property);
    }

    void end_node(unsigned depth) override
    {
        if (depth == 0)
            return;
        end_device_node(m_nodes[depth], m_nodes[depth - 1], depth);
        // A bridge's disabled children are its own, whether it was taken or not.
        if (m_nodes[depth].compatible.contains_string("pci-host-ecam-generic"))
            m_disabled_count = 0;
    }

    void end_device_node(const Node& node, const Node& parent, unsigned depth)
    {
        if (node.status.length && !node.status.equals("okay") && !node.status.equals("ok")) {
            // A PCI function the tree disables: a child of the bridge.
            if (parent.compatible.contains_string("pci-host-ecam-generic")) {
                if (m_disabled_count < PciHostNode::kMaxDisabled)
                    m_disabled[m_disabled_count++] = node.reg;
                else
                    m_machine.dropped++;
            }
            return;
        }
        if (node.phandle)
            add_interrupt_parent(node);
        if (depth == 2 && node_is(parent.name, "reserved-memory")) {
            // A child without `reg` asks for a dynamic allocation: nothing to keep out.
            if (node.reg.length)
                add_ranges(node, parent, m_machine.reserved, Machine::kMaxReserved, m_machine.reserved_count);
            return;
        }
        if (!node.mapped)
            return;
        if (node.device_type.equals("memory")) {
            add_ranges(node, parent, m_machine.memory, Machine::kMaxMemory, m_machine.memory_count);
            return;
        }
        const Property& compatible = node.compatible;
        if (compatible.contains_string("arm,pl011"))
            add_uart(node, parent);
        else if (compatible.contains_string("arm,gic-v3"))
            add_gic(node, parent, 3);
        else if (compatible.contains_string("arm,cortex-a15-gic") || compatible.contains_string("arm,gic-400"))
            add_gic(node, parent, 2);
        else if (compatible.contains_string("arm,gic-v2m-frame"))
            add_gic_v2m(node, parent);
        else if (compatible.contains_string("arm,gic-v3-its"))
            add_gic_its(node, parent);
        else if (compatible.contains_string("arm,armv8-timer"))
            add_timer(node);
        else if (compatible.contains_string("arm,psci-1.0") || compatible.contains_string("arm,psci-0.2")) {
            m_machine.psci.present = true;
            m_machine.psci.use_smc = node.method.equals("smc");
        } else if (compatible.contains_string("pci-host-ecam-generic"))
            add_pcie(node, parent);
    }

    void finish()
    {
        if (m_pcie_seen) {
            Diagnostic diagnostic;
            (void)read_pci_host(
                m_pcie, m_machine.interrupt_parents, m_machine.interrupt_parent_count, m_machine.pcie, diagnostic);
            // Disabled children that name no function are malformed entries too.
            m_machine.dropped += m_machine.pcie.disabled_ignored;
        }
        // The console: the UART /chosen's stdout-path names ("/pl011@9000000"
        // or with ":115200n8" options), else the first.
        if (m_uart_count == 0)
            return;
        const UartCandidate* chosen = &m_uarts[0];
        if (m_stdout_path && m_stdout_path[0] == '/') {
            const char* last = m_stdout_path;
            for (const char* p = m_stdout_path; *p && *p != ':'; p++) {
                if (*p == '/')
                    last = p + 1;
            }
            size_t length = 0;
            while (last[length] && last[length] != ':')
                length++;
            for (size_t i = 0; i < m_uart_count; i++) {
                if (strlen(m_uarts[i].name) == length && strncmp(m_uarts[i].name, last, length) == 0)
                    chosen = &m_uarts[i];
            }
        }
        m_machine.uart.present = true;
        m_machine.uart.registers = chosen->registers;
        m_machine.uart.interrupt = chosen->interrupt;
        m_machine.uart.has_interrupt = chosen->has_interrupt;
    }

private:
    void chosen_property(const Property& property)
    {
        if (strcmp(property.name, "bootargs") == 0 && property.is_string()) {
            m_machine.bootargs = reinterpret_cast<const char*>(property.value);
            m_machine.bootargs_length = property.length - 1;
        } else if (strcmp(property.name, "stdout-path") == 0 && property.is_string()) {
            m_stdout_path = reinterpret_cast<const char*>(property.value);
        } else if (strcmp(property.name, "linux,initrd-start") == 0) {
            m_initrd_start_seen = read_address(property, m_machine.initrd_start);
        } else if (strcmp(property.name, "linux,initrd-end") == 0) {
            m_initrd_end_seen = read_address(property, m_machine.initrd_end);
        }
        if (m_initrd_start_seen && m_initrd_end_seen) {
            m_machine.has_initrd = m_machine.initrd_end >= m_machine.initrd_start;
            if (!m_machine.has_initrd)
                m_machine.dropped++;
            m_initrd_start_seen = m_initrd_end_seen = false;
        }
    }

    // The initrd properties are one or two cells, whatever #address-cells says.
    static bool read_address(const Property& property, uint64_t& value)
    {
        if (property.length != 4 && property.length != 8)
            return false;
        return property.number(0, property.length / 4, value);
    }

    // The i-th (address, size) pair of `reg`, as the parent's cells say.
    bool reg_entry(const Node& node, const Node& parent, size_t index, Range& range)
    {
        unsigned address_cells = parent.address_cells;
        unsigned size_cells = parent.size_cells;
        size_t stride = address_cells + size_cells;
        if (address_cells == 0 || address_cells > 2 || size_cells > 2 || node.reg.length % 4 != 0
            || node.reg.cell_count() % stride != 0)
            return false;
        size_t first = index * stride;
        if (!node.reg.number(first, address_cells, range.base))
            return false;
        range.size = 0;
        if (size_cells && !node.reg.number(first + address_cells, size_cells, range.size))
            return false;
        uint64_t end;
        return !__builtin_add_overflow(range.base, range.size, &end);
    }

    size_t reg_count(const Node& node, const Node& parent) const
    {
        size_t stride = parent.address_cells + parent.size_cells;
        return stride ? node.reg.cell_count() / stride : 0;
    }

    void add_ranges(const Node& node, const Node& parent, Range* ranges, size_t capacity, size_t& count)
    {
        size_t entries = reg_count(node, parent);
        if (node.reg.length == 0 || entries == 0) {
            m_machine.dropped++;
            return;
        }
        for (size_t i = 0; i < entries; i++) {
            Range range;
            if (!reg_entry(node, parent, i, range) || range.size == 0 || count == capacity) {
                m_machine.dropped++;
                continue;
            }
            ranges[count++] = range;
        }
    }

    static bool interrupt(const Node& node, size_t index, GicInterrupt& out)
    {
        // #interrupt-cells of the GIC: 3 (type, number, flags).
        uint32_t type, number, flags;
        if (node.interrupts.length % 12 != 0)
            return false;
        return node.interrupts.cell(index * 3, type) && node.interrupts.cell(index * 3 + 1, number)
            && node.interrupts.cell(index * 3 + 2, flags) && read_gic_interrupt(type, number, flags, out);
    }

    void add_uart(const Node& node, const Node& parent)
    {
        UartCandidate candidate {};
        candidate.name = node.name;
        if (!reg_entry(node, parent, 0, candidate.registers) || candidate.registers.size == 0
            || m_uart_count == kMaxUarts) {
            m_machine.dropped++;
            return;
        }
        candidate.has_interrupt = interrupt(node, 0, candidate.interrupt);
        m_uarts[m_uart_count++] = candidate;
    }

    void add_gic(const Node& node, const Node& parent, unsigned version)
    {
        Range distributor, second;
        if (m_machine.gic.version != 0 || !reg_entry(node, parent, 0, distributor)
            || !reg_entry(node, parent, 1, second)) {
            m_machine.dropped++;
            return;
        }
        m_machine.gic.version = version;
        m_machine.gic.distributor = distributor;
        m_machine.gic.cpu_or_redistributor = second;
    }

    void add_timer(const Node& node)
    {
        auto& timer = m_machine.timer;
        timer.interrupt_count = 0;
        for (size_t i = 0; i < 4; i++) {
            if (!interrupt(node, i, timer.interrupts[i]))
                break;
            timer.interrupt_count++;
        }
        timer.present = timer.interrupt_count > 0;
        if (!timer.present)
            m_machine.dropped++;
    }

    void add_interrupt_parent(const Node& node)
    {
        if (m_machine.interrupt_parent_count == Machine::kMaxInterruptParents) {
            m_machine.dropped++;
            return;
        }
        m_machine.interrupt_parents[m_machine.interrupt_parent_count++] = { node.phandle,
            node.has_address_cells ? node.address_cells : 0, node.interrupt_cells, is_gic_compatible(node.compatible) };
    }

    void add_gic_v2m(const Node& node, const Node& parent)
    {
        auto& frame = m_machine.gic_v2m;
        Range registers;
        if (frame.present || !reg_entry(node, parent, 0, registers) || registers.size < 0x1000) {
            m_machine.dropped++;
            return;
        }
        frame = { true, registers, node.phandle, 0, 0 };
        if (node.msi_base_spi.length == 4 && node.msi_num_spis.length == 4) {
            node.msi_base_spi.cell(0, frame.base_spi);
            node.msi_num_spis.cell(0, frame.spi_count);
        }
    }

    void add_gic_its(const Node& node, const Node& parent)
    {
        auto& its = m_machine.gic_its;
        Range registers;
        // The control frame and the translation frame: 128 KiB.
        if (its.present || !reg_entry(node, parent, 0, registers) || registers.size < 0x20000) {
            m_machine.dropped++;
            return;
        }
        its = { true, registers, node.phandle };
    }

    // The bridge is decoded in finish(), once every interrupt parent is known.
    void add_pcie(const Node& node, const Node& parent)
    {
        if (m_pcie_seen) {
            m_machine.dropped++;
            return;
        }
        m_pcie_seen = true;
        PciHostNode bridge = { node.reg, node.bus_range, node.ranges, node.interrupt_map, node.interrupt_map_mask,
            node.msi_parent, node.msi_map, node.has_address_cells ? node.address_cells : 0, node.size_cells,
            node.interrupt_cells, parent.address_cells, parent.size_cells, {}, m_disabled_count };
        // Its disabled children, gathered as they ended.
        memcpy(bridge.disabled, m_disabled, sizeof(bridge.disabled));
        m_pcie = bridge;
    }

    Machine& m_machine;
    Node m_nodes[kMaxDepth] {};
    UartCandidate m_uarts[kMaxUarts] {};
    size_t m_uart_count = 0;
    const char* m_stdout_path = nullptr;
    bool m_initrd_start_seen = false;
    bool m_initrd_end_seen = false;
    bool m_pcie_seen = false;
    PciHostNode m_pcie {};
    Property m_disabled[PciHostNode::kMaxDisabled] {};
    size_t m_disabled_count = 0;
};

} // namespace

Result<void> read_machine(const Blob& blob, Machine& machine, Diagnostic& diagnostic)
{
    memset(&machine, 0, sizeof(machine));
    TRY(blob.for_each_reservation(
        [&](uint64_t base, uint64_t size) {
            if (size == 0 || machine.reserved_count == Machine::kMaxReserved)
                machine.dropped++;
            else
                machine.reserved[machine.reserved_count++] = { base, size };
        },
        diagnostic));
    MachineReader reader(machine);
    TRY(blob.walk(reader, diagnostic));
    reader.finish();
    return {};
}

} // namespace keel::fdt
