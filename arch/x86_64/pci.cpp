// PCI on x86_64 PCs: configuration windows from ACPI's MCFG, the
// 0xCF8/0xCFC mechanism as the fallback, and the INTx routing of QEMU's q35
// chipset.
#include "arch/pci.h"

#include "arch/acpi.h"
#include "arch/cpu.h"

namespace keel::arch {

namespace {

constexpr uint16_t kConfigAddress = 0xcf8;
constexpr uint16_t kConfigData = 0xcfc;

uint32_t legacy_address(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset)
{
    return 0x80000000u | uint32_t(bus) << 16 | uint32_t(device & 31) << 11 | uint32_t(function & 7) << 8
        | (offset & 0xfc);
}

} // namespace

size_t pci_ecam_windows(PciEcamWindow* out, size_t capacity)
{
    const AcpiInfo& acpi = acpi_info();
    size_t count = 0;
    for (size_t i = 0; i < acpi.ecam_count && count < capacity; i++)
        out[count++] = { acpi.ecam[i].phys, acpi.ecam[i].segment, acpi.ecam[i].bus_start, acpi.ecam[i].bus_end };
    return count;
}

// Every PC has configuration mechanism #1; the check that it answers is
// the PCI core's (a host bridge at 00:00.0).
bool pci_legacy_config_available() { return true; }

// The data port's byte lanes follow the offset's low bits.
uint32_t pci_legacy_config_read(uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width)
{
    if (offset >= 256)
        return 0xffffffff;
    outl(kConfigAddress, legacy_address(bus, device, function, offset));
    uint16_t port = uint16_t(kConfigData + (offset & 3));
    return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

void pci_legacy_config_write(
    uint8_t bus, uint8_t device, uint8_t function, uint16_t offset, unsigned width, uint32_t value)
{
    if (offset >= 256)
        return;
    outl(kConfigAddress, legacy_address(bus, device, function, offset));
    uint16_t port = uint16_t(kConfigData + (offset & 3));
    if (width == 1)
        outb(port, uint8_t(value));
    else if (width == 2)
        outw(port, uint16_t(value));
    else
        outl(port, value);
}

// QEMU's q35 (host bridge 8086:29c0, ICH9) routes INTA..INTD of root-bus
// slots to its eight PIRQ links, and in APIC mode PIRQ A..H are I/O APIC
// inputs 16..23, level-triggered and active high (what its ACPI _PRT and
// GSI link devices declare): slots 0..0x17 rotate over E..H starting at
// E + (slot & 3); slots 0x18 and 0x1e start at E; 0x19..0x1d and 0x1f
// start at A. Checked with the edu device's INTx in tests/boot.
bool pci_intx_route(
    uint16_t host_vendor, uint16_t host_device, uint8_t slot, uint8_t pin, IntxRoute& route, const char*& why)
{
    if (host_vendor != 0x8086 || host_device != 0x29c0) {
        why = "INTx routing is known only for the q35 chipset (host bridge 8086:29c0)";
        return false;
    }
    if (pin > 3 || slot > 31) {
        why = "no such slot or pin";
        return false;
    }
    unsigned link; // 0 = PIRQA
    if (slot < 0x18)
        link = 4 + ((slot + pin) & 3);
    else if (slot == 0x18 || slot == 0x1e)
        link = 4 + pin;
    else
        link = pin;
    route = { 16 + link, true, false };
    return true;
}

} // namespace keel::arch
