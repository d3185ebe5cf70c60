// KABI_VIRTIO_1.0's help for the virtio-pci transport: the function's
// identity and its modern interface's structures, found by the core's
// capability parser (core/lib/virtio/pci_caps.h) over configuration space,
// each checked against its BAR's size.
#include "device/pci/pci.h"
#include "kabi/errno.h"
#include "kabi_impl.h"
#include "lib/virtio/pci_caps.h"
#include "log/log.h"

using namespace keel;

namespace {

// The capability walk reads a byte or a word at a time (a capability's
// id, next pointer, type, BAR, ...), and each configuration access is an
// exit to the hypervisor under emulation: the 256-byte header is read a
// dword at a time, each dword once, for the one walk this is made for.
// Configuration reads have no side effects.
struct HeaderReads {
    const PciFunction* function;
    uint32_t dwords[64];
    uint64_t read = 0; // bit i: dwords[i] holds dword i
};

uint32_t read_dword(HeaderReads& header, uint16_t offset)
{
    unsigned index = offset / 4;
    if (!(header.read & (uint64_t(1) << index))) {
        header.dwords[index] = pci_read(*header.function, uint16_t(index * 4), 4);
        header.read |= uint64_t(1) << index;
    }
    return header.dwords[index];
}

uint32_t read(void* context, uint16_t offset, unsigned width)
{
    auto& header = *static_cast<HeaderReads*>(context);
    // Beyond the header, or not naturally aligned: as asked (pci_read
    // refuses the latter).
    if (offset >= 256 || offset % width)
        return pci_read(*header.function, offset, width);
    uint32_t value = read_dword(header, offset) >> (8 * (offset % 4));
    return width == 4 ? value : value & ((uint32_t(1) << (8 * width)) - 1);
}

uint8_t read8(void* context, uint16_t offset) { return uint8_t(read(context, offset, 1)); }
uint16_t read16(void* context, uint16_t offset) { return uint16_t(read(context, offset, 2)); }
uint32_t read32(void* context, uint16_t offset) { return read(context, offset, 4); }

keel_virtio_pci_region region_of(const virtio::VirtioPciRegion& region)
{
    return { region.present ? 1u : 0u, region.bar, region.offset, region.length };
}

} // namespace

extern "C" int32_t keel_virtio_pci_find_layout(const keel_device* device, keel_virtio_pci_layout* out)
{
    auto* d = reinterpret_cast<const Device*>(device);
    if (!d || !out || !is_pci_device(*d))
        return kabi_error(Error::EINVAL);
    const PciFunction& function = pci_function(*d);
    Diagnostic problem;
    auto identity = virtio::identify_virtio_pci(
        function.identity.vendor, function.identity.device, function.identity.subdevice, &problem);
    if (identity.is_error()) {
        log_info("virtio-pci: %s: %s", d->name, problem.message);
        return kabi_error(identity.error());
    }
    HeaderReads header { &function, {} };
    virtio::PciConfigAccess access;
    access.context = &header;
    access.read8 = read8;
    access.read16 = read16;
    access.read32 = read32;
    access.size = function.config_size;
    uint64_t bar_sizes[virtio::kPciBarCount] = {};
    for (size_t i = 0; i < virtio::kPciBarCount && i < d->region_count; i++)
        bar_sizes[i] = (d->regions[i].flags & KEEL_REGION_MEMORY) ? d->regions[i].length : 0;
    auto layout = virtio::find_virtio_pci_layout(access, bar_sizes, &problem);
    if (layout.is_error()) {
        log_err("virtio-pci: %s: %s", d->name, problem.message);
        return kabi_error(layout.error());
    }
    const virtio::VirtioPciLayout& found = layout.value();
    *out = {};
    out->device_type = identity.value().device_type;
    out->transitional = identity.value().transitional ? 1 : 0;
    out->common = region_of(found.common);
    out->notify = region_of(found.notify);
    out->isr = region_of(found.isr);
    out->device = region_of(found.device);
    out->notify_off_multiplier = found.notify_off_multiplier;
    return 0;
}
