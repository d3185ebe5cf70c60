// KABI_PCI_1.0: a PCI function's identity, configuration space,
// capabilities, decoding, bus mastering and interrupts.
//
// The core owns what it must undo when a binding ends (the command
// register's decoding, bus-mastering and INTx bits, the BARs, the MSI and
// MSI-X capabilities): drivers reach those through calls, not config writes.
#include "device/pci/pci.h"
#include "kabi/errno.h"
#include "kabi_impl.h"

using namespace keel;

namespace {

const PciFunction* function_of(const keel_device* device)
{
    auto* d = reinterpret_cast<const Device*>(device);
    return d && is_pci_device(*d) ? &pci_function(*d) : nullptr;
}

bool aligned_access(const PciFunction& function, uint32_t offset, uint32_t width)
{
    return (width == 1 || width == 2 || width == 4) && offset % width == 0 && offset + width <= function.config_size;
}

// [offset, offset + width) overlaps [start, start + length).
bool overlaps(uint32_t offset, uint32_t width, uint32_t start, uint32_t length)
{
    return offset < start + length && start < offset + width;
}

bool core_owned(const PciFunction& function, uint32_t offset, uint32_t width)
{
    if (overlaps(offset, width, kPciCommand, 2))
        return true;
    uint32_t bars = function.header_type == 0 ? 6 : function.header_type == 1 ? 2 : 0;
    if (overlaps(offset, width, kPciBar0, 4 * bars))
        return true;
    if (function.msi && overlaps(offset, width, function.msi, 24))
        return true;
    if (function.msix && overlaps(offset, width, function.msix, 12))
        return true;
    return false;
}

bool bound_or_probing(const Device& device)
{
    return device.state == DeviceState::Probing || device.state == DeviceState::Bound;
}

} // namespace

extern "C" int32_t keel_pci_get_info(const keel_device* device, keel_pci_info* out)
{
    const PciFunction* function = function_of(device);
    if (!function || !out)
        return kabi_error(Error::EINVAL);
    *out = {};
    out->segment = function->address.segment;
    out->bus = function->address.bus;
    out->slot = function->address.device;
    out->function = function->address.function;
    out->revision = function->revision;
    out->irq_pin = function->irq_pin;
    out->vendor = function->identity.vendor;
    out->device = function->identity.device;
    out->subvendor = function->identity.subvendor;
    out->subdevice = function->identity.subdevice;
    out->class_code = function->identity.class_code;
    return 0;
}

extern "C" int32_t keel_pci_config_read(const keel_device* device, uint32_t offset, uint32_t width, uint32_t* value)
{
    const PciFunction* function = function_of(device);
    if (!function || !value || !aligned_access(*function, offset, width))
        return kabi_error(Error::EINVAL);
    *value = pci_read(*function, uint16_t(offset), width);
    return 0;
}

extern "C" int32_t keel_pci_config_write(keel_device* device, uint32_t offset, uint32_t width, uint32_t value)
{
    const PciFunction* function = function_of(device);
    if (!function || !aligned_access(*function, offset, width))
        return kabi_error(Error::EINVAL);
    if (core_owned(*function, offset, width))
        return kabi_error(Error::EPERM);
    if (!bound_or_probing(*reinterpret_cast<const Device*>(device)))
        return kabi_error(Error::ENODEV);
    pci_write(*function, uint16_t(offset), width, value);
    return 0;
}

namespace {

int32_t set_command_bits(keel_device* device, uint16_t bits)
{
    const PciFunction* function = function_of(device);
    if (!function)
        return kabi_error(Error::EINVAL);
    if (!bound_or_probing(*reinterpret_cast<const Device*>(device)))
        return kabi_error(Error::ENODEV);
    uint16_t command = uint16_t(pci_read(*function, kPciCommand, 2));
    pci_write(*function, kPciCommand, 2, command | bits);
    return 0;
}

} // namespace

extern "C" int32_t keel_pci_enable_device(keel_device* device)
{
    const PciFunction* function = function_of(device);
    if (!function)
        return kabi_error(Error::EINVAL);
    const Device& d = *reinterpret_cast<const Device*>(device);
    uint16_t bits = 0;
    for (size_t i = 0; i < d.region_count; i++) {
        if (d.regions[i].flags & KEEL_REGION_MEMORY)
            bits |= kPciCommandMemory;
        if (d.regions[i].flags & KEEL_REGION_IO)
            bits |= kPciCommandIo;
    }
    return set_command_bits(device, bits);
}

extern "C" int32_t keel_pci_set_master(keel_device* device) { return set_command_bits(device, kPciCommandMaster); }

extern "C" int32_t keel_pci_find_capability(const keel_device* device, uint32_t id, uint32_t after)
{
    const PciFunction* function = function_of(device);
    if (!function || after > 0xff)
        return kabi_error(Error::EINVAL);
    auto found = pci_find_capability(*function, id, uint16_t(after));
    return found.is_ok() ? int32_t(found.value()) : kabi_error(found.error());
}

extern "C" int32_t keel_pci_find_ext_capability(const keel_device* device, uint32_t id, uint32_t after)
{
    const PciFunction* function = function_of(device);
    if (!function || after > 0xfff)
        return kabi_error(Error::EINVAL);
    auto found = pci_find_ext_capability(*function, id, uint16_t(after));
    return found.is_ok() ? int32_t(found.value()) : kabi_error(found.error());
}

extern "C" int32_t keel_pci_alloc_irq_vectors(keel_device* device, uint32_t min, uint32_t max, uint32_t types)
{
    if (!function_of(device))
        return kabi_error(Error::EINVAL);
    Device& d = *reinterpret_cast<Device*>(device);
    DeviceLockAccess access;
    if (!bound_or_probing(d))
        return kabi_error(Error::ENODEV);
    auto count = pci_alloc_irq_vectors(d, min, max, types);
    return count.is_ok() ? int32_t(count.value()) : kabi_error(count.error());
}

extern "C" uint32_t keel_pci_irq_type(const keel_device* device)
{
    const PciFunction* function = function_of(device);
    return function ? function->irq_type : 0;
}

extern "C" int32_t keel_pci_free_irq_vectors(keel_device* device)
{
    if (!function_of(device))
        return kabi_error(Error::EINVAL);
    DeviceLockAccess access;
    auto freed = pci_free_irq_vectors(*reinterpret_cast<Device*>(device));
    return freed.is_ok() ? 0 : kabi_error(freed.error());
}
