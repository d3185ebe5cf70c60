// What a kernel needs from a device tree to boot, read in one walk: RAM,
// reserved ranges, the command line and the initramfs from /chosen, and the
// few devices an architecture brings up itself (console UART, interrupt
// controller, timer, PSCI, the PCIe host bridge).
//
// Addresses are taken from `reg` as the parent's #address-cells and
// #size-cells say (root defaults 2 and 1). Devices are read where QEMU's
// virt machine and U-Boot put them: anywhere in the tree, with `reg` in CPU
// physical addresses (a parent's `ranges` are not applied; a node under a
// bus whose `ranges` is not empty is skipped rather than misread). Bad
// entries (a `reg` of the wrong length, a range that overflows, more than
// fits) are dropped and counted, never fatal; a malformed blob fails.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/fdt/fdt.h"

namespace keel::fdt {

struct Range {
    uint64_t base;
    uint64_t size;
};

// A GIC interrupt specifier (#interrupt-cells = 3).
struct GicInterrupt {
    static constexpr uint32_t kSpi = 0;
    static constexpr uint32_t kPpi = 1;
    uint32_t type;   // kSpi or kPpi
    uint32_t number; // SPI n is INTID 32 + n, PPI n is INTID 16 + n
    uint32_t flags;  // trigger: 1 edge rising, 4 level high, ...

    uint32_t intid() const { return type == kPpi ? 16 + number : 32 + number; }
};

struct Machine {
    static constexpr size_t kMaxMemory = 16;
    static constexpr size_t kMaxReserved = 32;

    Range memory[kMaxMemory];
    size_t memory_count;
    // /memreserve/ entries and the children of /reserved-memory.
    Range reserved[kMaxReserved];
    size_t reserved_count;
    size_t dropped; // malformed or surplus entries

    // /chosen: bootargs (into the blob; not NUL-terminated past length).
    const char* bootargs;
    size_t bootargs_length;
    bool has_initrd;
    uint64_t initrd_start, initrd_end;

    struct {
        bool present;
        Range registers;
        GicInterrupt interrupt;
        bool has_interrupt;
    } uart; // "arm,pl011": the one /chosen's stdout-path names, else the first

    struct {
        unsigned version; // 2 or 3; 0: none found
        Range distributor;
        // GICv2: the CPU interface; GICv3: the redistributors.
        Range cpu_or_redistributor;
    } gic;

    struct {
        bool present;
        // Secure physical, non-secure physical, virtual, hypervisor (PPIs).
        GicInterrupt interrupts[4];
        size_t interrupt_count;
    } timer; // "arm,armv8-timer"

    struct {
        bool present;
        bool use_smc; // method "smc"; otherwise "hvc"
    } psci;

    struct {
        bool present;
        Range ecam;
        uint32_t bus_start, bus_end;
    } pcie; // "pci-host-ecam-generic"
};

// Fills `machine` (cleared first) from the blob.
Result<void> read_machine(const Blob& blob, Machine& machine, Diagnostic& diagnostic);

} // namespace keel::fdt
