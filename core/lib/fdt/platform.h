// The device tree's platform devices: the nodes a kernel makes devices of
// for its `of` bus, as Linux's of_platform_populate does for its default
// buses: every child of the root, and of a "simple-bus" whose addresses
// are the CPU's (an empty `ranges`), that has a `compatible` property and
// is not disabled. Each comes with its `reg` ranges (the parent's cells)
// and its interrupts when its interrupt parent (its own `interrupt-parent`
// or the nearest ancestor's) is a GIC.
//
// The blob is hostile: what cannot be read whole (a `reg` of the wrong
// length, a range that wraps, more than fits) is left out and counted in
// `skipped`, never misread; a malformed blob fails the walk.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/fdt/fdt.h"
#include "lib/fdt/interrupt.h"

namespace keel::fdt {

struct PlatformNode {
    static constexpr size_t kMaxRegs = 6;
    static constexpr size_t kMaxInterrupts = 4;

    const char* name;       // "pl031@9010000", into the blob
    const char* type;       // device_type, or null
    const char* compatible; // the property's bytes (checked: NUL-terminated strings)
    size_t compatible_size;
    struct {
        uint64_t base, size;
    } regs[kMaxRegs];
    size_t reg_count;
    GicInterrupt interrupts[kMaxInterrupts];
    size_t interrupt_count;
    size_t skipped; // reg or interrupt entries left out
};

class PlatformVisitor {
public:
    virtual void platform_node(const PlatformNode& node) = 0;

protected:
    ~PlatformVisitor() = default;
};

// Reports every platform device, in tree order. Returns how many.
Result<size_t> for_each_platform_node(const Blob& blob, PlatformVisitor& visitor, Diagnostic& diagnostic);

} // namespace keel::fdt
