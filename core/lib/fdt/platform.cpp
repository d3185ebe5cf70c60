#include "lib/fdt/platform.h"

#include "lib/base/string.h"

namespace keel::fdt {

namespace {

constexpr size_t kMaxParents = 16;

// First walk: the nodes named by phandle, and whether each is a GIC.
class ParentFinder final : public Visitor {
public:
    void begin_node(const char*, unsigned depth) override { m_nodes[depth] = {}; }
    void property(const Property& property, unsigned depth) override
    {
        Entry& node = m_nodes[depth];
        if (strcmp(property.name, "phandle") == 0 || strcmp(property.name, "linux,phandle") == 0)
            property.cell(0, node.phandle);
        else if (strcmp(property.name, "#interrupt-cells") == 0)
            property.cell(0, node.interrupt_cells);
        else if (strcmp(property.name, "compatible") == 0)
            node.is_gic = is_gic_compatible(property);
    }
    void end_node(unsigned depth) override
    {
        const Entry& node = m_nodes[depth];
        if (node.phandle && m_count < kMaxParents)
            m_parents[m_count++] = node;
    }
    // A GIC with three interrupt cells.
    bool is_gic(uint32_t phandle) const
    {
        for (size_t i = 0; i < m_count; i++) {
            if (m_parents[i].phandle == phandle)
                return m_parents[i].is_gic && m_parents[i].interrupt_cells == 3;
        }
        return false;
    }

private:
    struct Entry {
        uint32_t phandle;
        uint32_t interrupt_cells;
        bool is_gic;
    };
    Entry m_nodes[kMaxDepth] {};
    Entry m_parents[kMaxParents] {};
    size_t m_count = 0;
};

struct Node {
    const char* name;
    uint32_t address_cells, size_cells;
    uint32_t interrupt_parent; // own or inherited; 0 none
    bool simple_bus;
    bool empty_ranges;
    Property compatible, reg, interrupts, device_type, status;
};

class PlatformReader final : public Visitor {
public:
    PlatformReader(const ParentFinder& parents, PlatformVisitor& visitor)
        : m_parents(parents)
        , m_visitor(visitor)
    {
    }

    void begin_node(const char* name, unsigned depth) override
    {
        Node& node = m_nodes[depth];
        node = {};
        node.name = name;
        node.address_cells = 2;
        node.size_cells = 1;
        node.interrupt_parent = depth ? m_nodes[depth - 1].interrupt_parent : 0;
    }

    void property(const Property& property, unsigned depth) override
    {
        Node& node = m_nodes[depth];
        const char* name = property.name;
        if (strcmp(name, "#address-cells") == 0)
            property.cell(0, node.address_cells);
        else if (strcmp(name, "#size-cells") == 0)
            property.cell(0, node.size_cells);
        else if (strcmp(name, "interrupt-parent") == 0)
            property.cell(0, node.interrupt_parent);
        else if (strcmp(name, "ranges") == 0)
            node.empty_ranges = property.length == 0;
        else if (strcmp(name, "compatible") == 0) {
            node.compatible = property;
            node.simple_bus = property.contains_string("simple-bus");
        } else if (strcmp(name, "reg") == 0)
            node.reg = property;
        else if (strcmp(name, "interrupts") == 0)
            node.interrupts = property;
        else if (strcmp(name, "device_type") == 0)
            node.device_type = property;
        else if (strcmp(name, "status") == 0)
            node.status = property;
    }

    void end_node(unsigned depth) override
    {
        if (depth == 0)
            return;
        const Node& node = m_nodes[depth];
        const Node& parent = m_nodes[depth - 1];
        bool on_bus = depth == 1 || (depth == 2 && parent.simple_bus && parent.empty_ranges && !disabled(parent));
        if (!on_bus || disabled(node) || !node.compatible.name || node.compatible.length == 0
            || node.compatible.value[node.compatible.length - 1] != '\0')
            return;
        PlatformNode out {};
        out.name = node.name;
        out.type = node.device_type.is_string() ? reinterpret_cast<const char*>(node.device_type.value) : nullptr;
        out.compatible = reinterpret_cast<const char*>(node.compatible.value);
        out.compatible_size = node.compatible.length;
        read_regs(node, parent, out);
        read_interrupts(node, out);
        m_count++;
        m_visitor.platform_node(out);
    }

    size_t count() const { return m_count; }

private:
    static bool disabled(const Node& node)
    {
        return node.status.name && !node.status.equals("okay") && !node.status.equals("ok");
    }

    static void read_regs(const Node& node, const Node& parent, PlatformNode& out)
    {
        if (!node.reg.name)
            return;
        unsigned address_cells = parent.address_cells, size_cells = parent.size_cells;
        size_t stride = address_cells + size_cells;
        if (address_cells < 1 || address_cells > 2 || size_cells > 2 || node.reg.length % (4 * stride) != 0) {
            out.skipped++;
            return;
        }
        for (size_t i = 0; i < node.reg.length / (4 * stride); i++) {
            uint64_t base, size = 0, end;
            node.reg.number(i * stride, address_cells, base);
            if (size_cells)
                node.reg.number(i * stride + address_cells, size_cells, size);
            if (size == 0 || __builtin_add_overflow(base, size, &end) || out.reg_count == PlatformNode::kMaxRegs) {
                out.skipped++;
                continue;
            }
            out.regs[out.reg_count++] = { base, size };
        }
    }

    void read_interrupts(const Node& node, PlatformNode& out) const
    {
        if (!node.interrupts.name)
            return;
        if (!m_parents.is_gic(node.interrupt_parent) || node.interrupts.length % 12 != 0) {
            out.skipped++;
            return;
        }
        for (size_t i = 0; i < node.interrupts.length / 12; i++) {
            uint32_t type, number, flags;
            node.interrupts.cell(i * 3, type);
            node.interrupts.cell(i * 3 + 1, number);
            node.interrupts.cell(i * 3 + 2, flags);
            GicInterrupt interrupt;
            if (!read_gic_interrupt(type, number, flags, interrupt)
                || out.interrupt_count == PlatformNode::kMaxInterrupts) {
                out.skipped++;
                continue;
            }
            out.interrupts[out.interrupt_count++] = interrupt;
        }
    }

    const ParentFinder& m_parents;
    PlatformVisitor& m_visitor;
    Node m_nodes[kMaxDepth] {};
    size_t m_count = 0;
};

} // namespace

Result<size_t> for_each_platform_node(const Blob& blob, PlatformVisitor& visitor, Diagnostic& diagnostic)
{
    ParentFinder parents;
    TRY(blob.walk(parents, diagnostic));
    PlatformReader reader(parents, visitor);
    TRY(blob.walk(reader, diagnostic));
    return reader.count();
}

} // namespace keel::fdt
