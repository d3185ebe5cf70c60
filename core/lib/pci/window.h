// A window of a PCI host bridge: a range of bus addresses (what BARs hold)
// and where the CPU reaches it. A device tree's `ranges` describes them
// (core/lib/fdt/pci_host.h); the architecture hands them to the PCI core
// (arch/pci.h), which places BARs in them (core/device/pci/assign.cpp).
#pragma once

#include <stdint.h>

namespace keel::pci {

struct Window {
    enum Kind : uint8_t {
        kIo,
        kMemory32,
        kMemory64,
    };
    Kind kind;
    bool prefetchable;
    uint64_t pci; // bus address of the window's start
    uint64_t cpu; // the CPU's address for it
    uint64_t size;
};

} // namespace keel::pci
