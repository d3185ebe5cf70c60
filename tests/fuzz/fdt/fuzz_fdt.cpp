// Fuzzes the device-tree reader: the blob comes from the boot loader and
// is input we do not control. Beyond the sanitizers, checks that every name
// and value a walk reports lies inside the blob, that nesting balances on a
// successful walk, and that what read_machine keeps is self-consistent.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fdt/fdt.h"
#include "lib/fdt/machine.h"

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
    if (machine.pcie.present)
        check(machine.pcie.bus_start <= machine.pcie.bus_end && machine.pcie.bus_end <= 255);
    check(machine.gic.version == 0 || machine.gic.version == 2 || machine.gic.version == 3);
    return 0;
}
