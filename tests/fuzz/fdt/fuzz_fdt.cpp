// Fuzzes the device-tree reader: the blob comes from the boot loader and
// is input we do not control. Beyond the sanitizers, checks that every name
// and value a walk reports lies inside the blob, that nesting balances on a
// successful walk, and that what read_machine keeps is self-consistent.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fdt/fdt.h"
#include "lib/fdt/machine.h"
#include "lib/fdt/platform.h"

using namespace keel;
using namespace keel::fdt;

namespace {

void check(bool condition)
{
    if (!condition)
        abort();
}

struct Bounds final : Visitor {
    const uint8_t* begin;
    const uint8_t* end;
    unsigned open = 0;

    bool inside(const void* pointer, size_t length) const
    {
        auto* p = static_cast<const uint8_t*>(pointer);
        return p >= begin && p <= end && length <= size_t(end - p);
    }
    void begin_node(const char* name, unsigned depth) override
    {
        check(depth == open && depth < kMaxDepth);
        check(inside(name, strlen(name) + 1));
        open++;
    }
    void property(const Property& property, unsigned depth) override
    {
        check(depth + 1 == open);
        check(inside(property.name, strlen(property.name) + 1));
        check(inside(property.value, property.length));
    }
    void end_node(unsigned depth) override
    {
        check(open > 0 && depth + 1 == open);
        open--;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Diagnostic diagnostic;
    auto blob = Blob::open(data, size, diagnostic);
    if (blob.is_error()) {
        check(!diagnostic.empty());
        return 0;
    }
    check(blob.value().total_size() <= size);
    Bounds bounds;
    bounds.begin = data;
    bounds.end = data + blob.value().total_size();
    if (blob.value().walk(bounds, diagnostic).is_ok())
        check(bounds.open == 0);
    else
        check(!diagnostic.empty());

    Machine machine;
    Diagnostic machine_diagnostic;
    if (read_machine(blob.value(), machine, machine_diagnostic).is_error())
        return 0;
    check(machine.memory_count <= Machine::kMaxMemory && machine.reserved_count <= Machine::kMaxReserved);
    for (size_t i = 0; i < machine.memory_count; i++)
        check(machine.memory[i].size > 0 && machine.memory[i].base + machine.memory[i].size >= machine.memory[i].base);
    if (machine.bootargs)
        check(bounds.inside(machine.bootargs, machine.bootargs_length + 1));
    if (machine.has_initrd)
        check(machine.initrd_end >= machine.initrd_start);
    const PciHost& pcie = machine.pcie;
    if (pcie.usable) {
        check(pcie.bus_start <= pcie.bus_end && pcie.bus_end <= 255);
        check(pcie.ecam.size >= (1u << 20) && pcie.ecam.base + pcie.ecam.size > pcie.ecam.base);
        check(pcie.ecam.base >= uint64_t(pcie.bus_start) << 20);
        check(pcie.window_count <= PciHost::kMaxWindows && pcie.intx_count <= PciHost::kMaxIntx);
        check(pcie.disabled_count <= PciHost::kMaxDisabled);
        for (size_t i = 0; i < pcie.disabled_count; i++)
            check(pci_host_function_disabled(pcie, uint8_t(pcie.bus_start), pcie.disabled[i]));
        for (size_t i = 0; i < pcie.window_count; i++) {
            const PciWindow& window = pcie.windows[i];
            check(window.size > 0 && window.pci + window.size > window.pci && window.cpu + window.size > window.cpu);
            if (window.kind != PciWindow::kMemory64)
                check(window.pci + window.size <= (1ull << 32));
        }
        for (uint8_t slot = 0; slot < 33; slot++) {
            for (uint8_t pin = 0; pin < 5; pin++) {
                GicInterrupt interrupt;
                if (pci_host_intx(pcie, slot, pin, interrupt))
                    check(slot < 32 && pin < 4 && interrupt.type == GicInterrupt::kSpi && interrupt.number < 988);
            }
        }
    } else if (pcie.present) {
        check(pcie.problem[0] != '\0');
    }
    check(machine.interrupt_parent_count <= Machine::kMaxInterruptParents);
    check(machine.gic.version == 0 || machine.gic.version == 2 || machine.gic.version == 3);

    // Platform nodes: everything they point at lies in the blob, each
    // compatible property ends with its NUL, counts stay within bounds.
    struct Nodes final : PlatformVisitor {
        const Bounds* bounds;
        size_t seen = 0;
        void platform_node(const PlatformNode& node) override
        {
            seen++;
            check(bounds->inside(node.name, strlen(node.name) + 1));
            check(node.compatible_size > 0 && bounds->inside(node.compatible, node.compatible_size));
            check(node.compatible[node.compatible_size - 1] == '\0');
            if (node.type)
                check(bounds->inside(node.type, strlen(node.type) + 1));
            check(node.reg_count <= PlatformNode::kMaxRegs && node.interrupt_count <= PlatformNode::kMaxInterrupts);
            for (size_t i = 0; i < node.reg_count; i++)
                check(node.regs[i].size > 0 && node.regs[i].base + node.regs[i].size > node.regs[i].base);
        }
    } nodes;
    nodes.bounds = &bounds;
    auto found = for_each_platform_node(blob.value(), nodes, machine_diagnostic);
    if (found.is_ok())
        check(found.value() == nodes.seen);
    return 0;
}
