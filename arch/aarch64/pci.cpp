// PCI on the device tree's generic host bridge: what platform() read from
// its node (core/lib/fdt/pci_host.h). One bridge, segment 0.
#include "arch/pci.h"

#include "log/log.h"
#include "platform.h"

namespace keel::arch {

namespace {

// The bridge, when its node was read whole; says once why not otherwise.
const fdt::PciHost* host()
{
    const fdt::PciHost& pcie = platform().pcie;
    if (!pcie.present)
        return nullptr;
    if (!pcie.usable) {
        static bool said = false;
        if (!said)
            log_err("pci: the device tree's host bridge is unusable: %s", pcie.problem);
        said = true;
        return nullptr;
    }
    return &pcie;
}

} // namespace

size_t pci_ecam_windows(PciEcamWindow* out, size_t capacity)
{
    const fdt::PciHost* pcie = host();
    if (!pcie || capacity == 0)
        return 0;
    // The window's start is bus_start's configuration space.
    out[0]
        = { pcie->ecam.base - (uint64_t(pcie->bus_start) << 20), 0, uint8_t(pcie->bus_start), uint8_t(pcie->bus_end) };
    return 1;
}

bool pci_intx_route(uint16_t, uint16_t, uint8_t slot, uint8_t pin, IntxRoute& route, const char*& why)
{
    const fdt::PciHost* pcie = host();
    fdt::GicInterrupt interrupt;
    if (!pcie || pcie->intx_count == 0) {
        why = "the device tree's host bridge has no interrupt-map";
        return false;
    }
    if (!fdt::pci_host_intx(*pcie, slot, pin, interrupt)) {
        why = "no interrupt-map entry for this slot and pin";
        return false;
    }
    route = { interrupt.intid(), interrupt.level_triggered(), interrupt.active_low() };
    return true;
}

bool pci_function_disabled(uint16_t segment, uint8_t bus, uint8_t devfn)
{
    const fdt::PciHost* pcie = host();
    return pcie && segment == 0 && fdt::pci_host_function_disabled(*pcie, bus, devfn);
}

size_t pci_bar_windows(uint16_t segment, PciBarWindow* out, size_t capacity)
{
    const fdt::PciHost* pcie = host();
    if (!pcie || segment != 0)
        return 0;
    size_t count = 0;
    for (; count < pcie->window_count && count < capacity; count++)
        out[count] = pcie->windows[count];
    return count;
}

} // namespace keel::arch
