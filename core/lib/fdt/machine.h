// What a kernel needs from a device tree to boot, read in one walk: RAM,
// reserved ranges, the command line and the initramfs from /chosen, and the
// few devices an architecture brings up itself (console UART, interrupt
// controller, timer, PSCI, the PCIe host bridge with its windows and
// interrupt routing).
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
#include "lib/fdt/interrupt.h"
#include "lib/fdt/pci_host.h"

namespace keel::fdt {

struct Range {
    uint64_t base;
    uint64_t size;
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

    // "arm,gic-v2m-frame": GICv2m's MSI frame (a child of the GIC). The SPIs
    // it turns messages into are read from its MSI_TYPER register unless
    // the node says (arm,msi-base-spi, arm,msi-num-spis).
    struct {
        bool present;
        Range registers;
        uint32_t phandle;
        uint32_t base_spi, spi_count; // 0: from the frame's register
    } gic_v2m;

    // "arm,gic-v3-its": a GICv3 Interrupt Translation Service (a child of
    // the GIC), whose GITS_TRANSLATER turns a device's message into an LPI.
    // The first one.
    struct {
        bool present;
        Range registers; // the control frame, then the translation frame 64 KiB on
        uint32_t phandle;
    } gic_its;

    // "pci-host-ecam-generic" (pci_host.h): the first one.
    PciHost pcie;

    // Nodes named by phandle as interrupt parents (the GIC, GICv2m frames).
    static constexpr size_t kMaxInterruptParents = 8;
    InterruptParent interrupt_parents[kMaxInterruptParents];
    size_t interrupt_parent_count;
};

// Fills `machine` (cleared first) from the blob.
Result<void> read_machine(const Blob& blob, Machine& machine, Diagnostic& diagnostic);

} // namespace keel::fdt
