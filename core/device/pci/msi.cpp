// A PCI function's interrupts for a binding: MSI-X (up to the table's
// size), MSI (one vector) or INTx (the shared line its pin is routed to),
// tried in that order; and what the core undoes when the binding ends.
#include "arch/irq.h"
#include "arch/memory_layout.h"
#include "arch/pci.h"
#include "device/pci/pci.h"
#include "device/resources.h"
#include "lib/base/format.h"
#include "log/log.h"
#include "mm/vmalloc.h"

namespace keel {

namespace {

// MSI capability: control at +2; 64-bit (bit 7) and per-vector masking
// (bit 8) decide where the data and mask registers are.
uint16_t msi_control(const PciFunction& function)
{
    return uint16_t(pci_read(function, uint16_t(function.msi + 2), 2));
}
uint16_t msi_data_offset(uint16_t control) { return (control & (1 << 7)) ? 0x0c : 0x08; }
uint16_t msi_mask_offset(uint16_t control) { return (control & (1 << 7)) ? 0x10 : 0x0c; }

void mask_msi(IrqLine& line, bool masked)
{
    auto* function = static_cast<PciFunction*>(line.mask_context);
    uint16_t control = msi_control(*function);
    if (control & (1 << 8)) {
        uint16_t mask = uint16_t(function->msi + msi_mask_offset(control));
        uint32_t bits = pci_read(*function, mask, 4);
        pci_write(*function, mask, 4, masked ? bits | 1 : bits & ~1u);
    } else {
        // No mask bit: the enable bit is all there is.
        pci_write(*function, uint16_t(function->msi + 2), 2, masked ? control & ~1u : control | 1u);
    }
}

volatile uint32_t* msix_entry(const PciFunction& function, uint32_t index)
{
    return reinterpret_cast<volatile uint32_t*>(static_cast<uint8_t*>(function.msix_table) + 16 * index);
}

void mask_msix(IrqLine& line, bool masked)
{
    auto* function = static_cast<PciFunction*>(line.mask_context);
    if (!function->msix_table)
        return;
    volatile uint32_t* entry = msix_entry(*function, line.mask_index);
    entry[3] = masked ? (entry[3] | 1) : (entry[3] & ~1u);
}

// The requester ID the function's messages carry (bus << 8 | devfn).
uint32_t requester_id(const PciFunction& function)
{
    const PciAddress& address = function.address;
    return uint32_t(address.bus) << 8 | uint32_t(address.device) << 3 | address.function;
}

// A message-signalled line the function no longer sends: the
// architecture's part undone (arch::msi_release), then the line.
void put_message_line(const PciFunction& function, IrqLine* line)
{
    arch::msi_release(line->vector, requester_id(function));
    irq_line_put(line);
}

void set_command(const PciFunction& function, uint16_t set, uint16_t clear)
{
    uint16_t command = uint16_t(pci_read(function, kPciCommand, 2));
    pci_write(function, kPciCommand, 2, uint16_t((command | set) & ~clear));
}

Result<uint32_t> setup_msix(PciFunction& function, uint32_t min, uint32_t max)
{
    uint32_t count = max < function.msix_entries ? max : function.msix_entries;
    if (count > kPciMaxVectors)
        count = kPciMaxVectors;
    if (count < min)
        return Err(Error::ENOSPC);
    const DeviceRegion& bar = function.device->regions[function.msix_bar];
    auto mapping = map_mmio(bar.phys + function.msix_offset, size_t(function.msix_entries) * 16);
    if (mapping.is_error())
        return Err(mapping.error());
    function.msix_table = mapping.value();
    // Function-masked and enabled while the entries are written.
    uint16_t control_offset = uint16_t(function.msix + 2);
    uint16_t control = uint16_t(pci_read(function, control_offset, 2));
    pci_write(function, control_offset, 2, control | (1 << 15) | (1 << 14));
    for (uint32_t i = 0; i < function.msix_entries; i++)
        msix_entry(function, i)[3] = 1; // every entry masked
    uint32_t made = 0;
    for (; made < count; made++) {
        char name[IrqLine::kNameSize];
        format(name, sizeof(name), "%s msix%u", function.device->name, made);
        auto line = irq_line_create(IrqKind::MsiX, name, mask_msix, &function, made);
        if (line.is_error())
            break;
        arch::MsiMessage message = arch::msi_message(line.value()->vector, requester_id(function));
        if (!message.address) {
            irq_line_put(line.value());
            break;
        }
        function.lines[made] = line.value();
        volatile uint32_t* entry = msix_entry(function, made);
        entry[0] = uint32_t(message.address);
        entry[1] = uint32_t(message.address >> 32);
        entry[2] = message.data;
    }
    if (made < min) {
        for (uint32_t i = 0; i < made; i++) {
            put_message_line(function, function.lines[i]);
            function.lines[i] = nullptr;
        }
        pci_write(function, control_offset, 2, control & ~((1 << 15) | (1 << 14)));
        vfree(function.msix_table);
        function.msix_table = nullptr;
        return Err(Error::ENOSPC);
    }
    pci_write(function, control_offset, 2, (control | (1 << 15)) & ~(1 << 14));
    return made;
}

Result<uint32_t> setup_msi(PciFunction& function)
{
    char name[IrqLine::kNameSize];
    format(name, sizeof(name), "%s msi", function.device->name);
    IrqLine* line = TRY(irq_line_create(IrqKind::Msi, name, mask_msi, &function, 0));
    uint16_t control = msi_control(function);
    arch::MsiMessage message = arch::msi_message(line->vector, requester_id(function));
    if (!message.address) {
        irq_line_put(line);
        return Err(Error::ENOSPC);
    }
    pci_write(function, uint16_t(function.msi + 4), 4, uint32_t(message.address));
    if (control & (1 << 7))
        pci_write(function, uint16_t(function.msi + 8), 4, uint32_t(message.address >> 32));
    pci_write(function, uint16_t(function.msi + msi_data_offset(control)), 2, message.data);
    // One message (MME 0). With a mask bit: enabled and masked until a
    // handler is requested; without one, enabling is the unmasking.
    bool maskable = control & (1 << 8);
    if (maskable)
        pci_write(function, uint16_t(function.msi + msi_mask_offset(control)), 4, 1);
    pci_write(function, uint16_t(function.msi + 2), 2, uint16_t((control & ~((7u << 4) | 1u)) | (maskable ? 1u : 0u)));
    function.lines[0] = line;
    return 1u;
}

Result<uint32_t> setup_intx(PciFunction& function)
{
    if (!function.irq_pin)
        return Err(Error::ENOENT);
    arch::IntxRoute route;
    const char* why = "";
    if (!arch::pci_intx_route(
            function.host_vendor, function.host_device, function.root_slot, function.root_pin, route, why)) {
        log_warn("pci %s: INTx%c: %s", function.device->name, 'A' + function.irq_pin - 1, why);
        return Err(Error::ENXIO);
    }
    IrqLine* line = TRY(irq_line_get_gsi(route.gsi, route.level_triggered, route.active_low));
    function.lines[0] = line;
    set_command(function, 0, kPciCommandIntxDisable);
    return 1u;
}

void free_vectors(PciFunction& function)
{
    for (uint32_t i = 0; i < function.irq_count; i++) {
        if (function.irq_type == KEEL_PCI_IRQ_INTX)
            irq_line_put(function.lines[i]);
        else
            put_message_line(function, function.lines[i]);
        function.lines[i] = nullptr;
    }
    if (function.irq_type == KEEL_PCI_IRQ_MSIX) {
        uint16_t control_offset = uint16_t(function.msix + 2);
        uint16_t control = uint16_t(pci_read(function, control_offset, 2));
        pci_write(function, control_offset, 2, control & ~((1 << 15) | (1 << 14)));
        vfree(function.msix_table);
        function.msix_table = nullptr;
    } else if (function.irq_type == KEEL_PCI_IRQ_MSI) {
        pci_write(function, uint16_t(function.msi + 2), 2, msi_control(function) & ~1u);
    } else if (function.irq_type == KEEL_PCI_IRQ_INTX) {
        set_command(function, kPciCommandIntxDisable, 0);
    }
    function.irq_type = 0;
    function.irq_count = 0;
    function.device->irq_lines = nullptr;
    function.device->irq_count = 0;
}

} // namespace

Result<uint32_t> pci_alloc_irq_vectors(Device& device, uint32_t min, uint32_t max, uint32_t types)
{
    PciFunction& function = pci_function(device);
    if (min == 0 || max < min || (types & ~(KEEL_PCI_IRQ_INTX | KEEL_PCI_IRQ_MSI | KEEL_PCI_IRQ_MSIX)) || !types)
        return Err(Error::EINVAL);
    if (function.irq_type)
        return Err(Error::EBUSY);
    uint32_t type = 0;
    uint32_t count = 0;
    auto attempt = [&](uint32_t kind, Result<uint32_t> made) {
        if (made.is_ok()) {
            type = kind;
            count = made.value();
        }
    };
    if ((types & KEEL_PCI_IRQ_MSIX) && function.msix)
        attempt(KEEL_PCI_IRQ_MSIX, setup_msix(function, min, max));
    if (!type && (types & KEEL_PCI_IRQ_MSI) && function.msi && min == 1)
        attempt(KEEL_PCI_IRQ_MSI, setup_msi(function));
    if (!type && (types & KEEL_PCI_IRQ_INTX) && min == 1)
        attempt(KEEL_PCI_IRQ_INTX, setup_intx(function));
    if (!type)
        return Err(Error::ENOSPC);
    // Message-signalled: INTx off.
    if (type != KEEL_PCI_IRQ_INTX)
        set_command(function, kPciCommandIntxDisable, 0);
    function.irq_type = type;
    function.irq_count = count;
    device.irq_lines = function.lines;
    device.irq_count = function.irq_count;
    log_info("pci %s: %u %s interrupt(s)", device.name, function.irq_count,
        type == KEEL_PCI_IRQ_MSIX      ? "MSI-X"
            : type == KEEL_PCI_IRQ_MSI ? "MSI"
                                       : "INTx");
    return function.irq_count;
}

Result<void> pci_free_irq_vectors(Device& device)
{
    PciFunction& function = pci_function(device);
    for (uint32_t i = 0; i < function.irq_count; i++) {
        if (irq_line_has_handlers(*function.lines[i]))
            return Err(Error::EBUSY);
    }
    free_vectors(function);
    return {};
}

// After remove(), before the binding's buffers are released: no DMA from
// here on (a driver whose remove() left the device running must not see it
// write memory that is being freed).
void pci_quiesce(Device& device) { set_command(pci_function(device), 0, kPciCommandMaster); }

// The binding has ended (after remove() and the resource release, so no
// handler is left): interrupts off (bus mastering went off in pci_quiesce,
// before the release). Decoding stays as it is,
// as Linux's pci_disable_device leaves it: the BARs keep their addresses,
// and turning it off made QEMU rebuild its memory map twice per rebind
// (once here, once at the next keel_pci_enable_device): 0.35 ms of each
// reload of virtio_pci.
void pci_unbound(Device& device)
{
    PciFunction& function = pci_function(device);
    if (function.irq_type)
        free_vectors(function);
    set_command(function, kPciCommandIntxDisable, 0);
}

} // namespace keel
