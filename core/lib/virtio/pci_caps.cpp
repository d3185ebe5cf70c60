#include "lib/virtio/pci_caps.h"

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/utility.h"

namespace keel::virtio {

PciCapabilityWalker::PciCapabilityWalker(const PciConfigAccess& access, Diagnostic* diagnostic)
    : m_access(access)
    , m_diagnostic(diagnostic)
{
}

Err PciCapabilityWalker::fail(const char* fmt, ...)
{
    m_done = true;
    m_error = Error::EINVAL;
    if (m_diagnostic) {
        va_list args;
        va_start(args, fmt);
        vformat(m_diagnostic->message, sizeof(m_diagnostic->message), fmt, args);
        va_end(args);
    }
    return Err(m_error);
}

Result<PciCapability> PciCapabilityWalker::next()
{
    if (m_done)
        return Err(m_error == Error(0) ? Error::ENODATA : m_error);
    if (!m_started) {
        m_started = true;
        if (m_access.size < PCI_CFG_SPACE_SIZE)
            return fail("configuration space of %u bytes is smaller than the 256-byte header", m_access.size);
        if (!(m_access.read16(m_access.context, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
            m_done = true;
            return Err(Error::ENODATA);
        }
        uint8_t header_type = m_access.read8(m_access.context, PCI_HEADER_TYPE) & 0x7f;
        m_pointer_at = header_type == 2 ? PCI_CB_CAPABILITY_LIST : PCI_CAPABILITY_LIST;
        // The two low bits of every capability pointer are reserved.
        m_next = m_access.read8(m_access.context, m_pointer_at) & 0xfc;
    }
    if (m_next == 0) {
        m_done = true;
        return Err(Error::ENODATA);
    }
    uint8_t position = m_next;
    if (position < PCI_STD_HEADER_SIZEOF)
        return fail("capability pointer 0x%02x (read at 0x%02x) points into the standard header (below 0x40)", position,
            m_pointer_at);
    uint64_t bit = uint64_t(1) << (position / 4);
    if (m_visited & bit)
        return fail(
            "capability list loops: the capability at 0x%02x points back to 0x%02x", m_pointer_at - 1, position);
    m_visited |= bit;
    uint8_t id = m_access.read8(m_access.context, position);
    if (id == 0xff)
        return fail("capability at 0x%02x has id 0xff (what a device that is gone reads)", position);
    m_pointer_at = uint16_t(position + 1);
    m_next = m_access.read8(m_access.context, m_pointer_at) & 0xfc;
    return PciCapability { id, position };
}

namespace {

constexpr size_t kReasonSize = 200;

const char* structure_name(uint8_t type)
{
    switch (type) {
    case VIRTIO_PCI_CAP_COMMON_CFG: return "common configuration";
    case VIRTIO_PCI_CAP_NOTIFY_CFG: return "notification";
    case VIRTIO_PCI_CAP_ISR_CFG: return "ISR status";
    case VIRTIO_PCI_CAP_DEVICE_CFG: return "device configuration";
    }
    return "?";
}

const char* explain(char* reason, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
const char* explain(char* reason, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vformat(reason, kReasonSize, fmt, args);
    va_end(args);
    return reason;
}

// Why the capability at `position` is unusable, or null if it is usable;
// fills `region` (and the multiplier for notify) when it is.
const char* check_region(const PciConfigAccess& access, uint8_t position, uint8_t type,
    const uint64_t (&bar_sizes)[kPciBarCount], VirtioPciRegion& region, uint32_t& multiplier, char* reason)
{
    uint8_t cap_len = access.read8(access.context, uint16_t(position + 2));
    uint8_t minimum = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? kVirtioPciNotifyCapLength : kVirtioPciCapLength;
    if (cap_len < minimum)
        return explain(reason, "cap_len %u is shorter than the structure's %u bytes", cap_len, minimum);
    if (position + cap_len > PCI_CFG_SPACE_SIZE)
        return explain(reason, "cap_len %u runs past the end of the 256-byte header", cap_len);
    uint8_t bar = access.read8(access.context, uint16_t(position + 4));
    if (bar >= kPciBarCount)
        return explain(reason, "bar %u is reserved (BARs are 0-5)", bar);
    uint32_t offset = access.read32(access.context, uint16_t(position + 8));
    uint32_t length = access.read32(access.context, uint16_t(position + 12));
    uint64_t bar_size = bar_sizes[bar];
    if (bar_size == 0)
        return explain(reason, "BAR %u is not implemented", bar);
    // Both are 32-bit: the sum cannot overflow 64 bits.
    uint64_t end = uint64_t(offset) + length;
    if (end > bar_size)
        return explain(reason, "offset 0x%x + length 0x%x = 0x%llx exceeds BAR %u (0x%llx bytes)", offset, length,
            static_cast<unsigned long long>(end), bar, static_cast<unsigned long long>(bar_size));

    switch (type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
        if (offset % 4)
            return explain(reason, "offset 0x%x is not 4-byte aligned", offset);
        if (length < common_cfg::kSize)
            return explain(
                reason, "length 0x%x is shorter than the common configuration (0x%x bytes)", length, common_cfg::kSize);
        break;
    case VIRTIO_PCI_CAP_NOTIFY_CFG: {
        if (offset % 2)
            return explain(reason, "offset 0x%x is not 2-byte aligned", offset);
        if (length < 2)
            return explain(reason, "length 0x%x cannot hold a 2-byte notification register", length);
        // The specification asks for "an even power of 2" or 0 (QEMU uses
        // 4, or 4096 with page-per-vq). Any power of two from 2 keeps the
        // 16-bit registers apart and aligned; 1 or 3 would not.
        uint32_t value = access.read32(access.context, uint16_t(position + 16));
        if (value != 0 && (value < 2 || !is_power_of_two(value)))
            return explain(reason, "notify_off_multiplier %u is neither 0 nor a power of two from 2", value);
        multiplier = value;
        break;
    }
    case VIRTIO_PCI_CAP_ISR_CFG:
        if (length < 1)
            return explain(reason, "length 0 cannot hold the ISR status byte");
        break;
    case VIRTIO_PCI_CAP_DEVICE_CFG:
        if (offset % 4)
            return explain(reason, "offset 0x%x is not 4-byte aligned", offset);
        break;
    }
    region = VirtioPciRegion { true, position, bar, offset, length };
    return nullptr;
}

} // namespace

Result<VirtioPciLayout> find_virtio_pci_layout(
    const PciConfigAccess& access, const uint64_t (&bar_sizes)[kPciBarCount], Diagnostic* diagnostic)
{
    VirtioPciLayout layout;
    // Per structure type 1-4: the first rejected capability and why.
    uint8_t rejected_at[5] = {};
    char reasons[5][kReasonSize];
    char scratch[kReasonSize];
    uint32_t multiplier = 0;

    PciCapabilityWalker walker(access, diagnostic);
    for (;;) {
        auto capability = walker.next();
        if (capability.is_error()) {
            if (capability.error() != Error::ENODATA)
                return Err(capability.error());
            break;
        }
        if (capability.value().id != PCI_CAP_ID_VNDR)
            continue;
        uint8_t position = capability.value().offset;
        ++layout.virtio_capabilities;
        uint8_t type = access.read8(access.context, uint16_t(position + 3));
        if (type == VIRTIO_PCI_CAP_PCI_CFG) {
            uint8_t cap_len = access.read8(access.context, uint16_t(position + 2));
            if (!layout.pci_cfg_capability && cap_len >= kVirtioPciCfgCapLength
                && position + kVirtioPciCfgCapLength <= PCI_CFG_SPACE_SIZE)
                layout.pci_cfg_capability = position;
            continue;
        }
        VirtioPciRegion* slot = nullptr;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG: slot = &layout.common; break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG: slot = &layout.notify; break;
        case VIRTIO_PCI_CAP_ISR_CFG: slot = &layout.isr; break;
        case VIRTIO_PCI_CAP_DEVICE_CFG: slot = &layout.device; break;
        default: continue; // shared memory, vendor data, reserved types: ignored, as the specification asks
        }
        // The first usable capability of each type wins.
        if (slot->present)
            continue;
        char* reason = rejected_at[type] ? scratch : reasons[type];
        uint32_t value = 0;
        if (check_region(access, position, type, bar_sizes, *slot, value, reason)) {
            if (!rejected_at[type])
                rejected_at[type] = position;
            continue;
        }
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
            multiplier = value;
    }
    layout.notify_off_multiplier = multiplier;

    struct Required {
        uint8_t type;
        const VirtioPciRegion& region;
    };
    const Required required[] = {
        { VIRTIO_PCI_CAP_COMMON_CFG, layout.common },
        { VIRTIO_PCI_CAP_NOTIFY_CFG, layout.notify },
        { VIRTIO_PCI_CAP_ISR_CFG, layout.isr },
    };
    for (const Required& r : required) {
        if (r.region.present)
            continue;
        if (rejected_at[r.type])
            diagnose(diagnostic, "no usable %s capability: the one at 0x%02x: %s", structure_name(r.type),
                rejected_at[r.type], reasons[r.type]);
        else
            diagnose(diagnostic, "no %s capability (cfg_type %u) among %u virtio capabilities", structure_name(r.type),
                r.type, layout.virtio_capabilities);
        return Err(Error::ENODEV);
    }
    return layout;
}

Result<uint64_t> virtio_pci_notify_offset(
    const VirtioPciLayout& layout, uint16_t queue_notify_off, bool notification_data, Diagnostic* diagnostic)
{
    const VirtioPciRegion& notify = layout.notify;
    if (!notify.present) {
        diagnose(diagnostic, "no notification structure");
        return Err(Error::EINVAL);
    }
    uint32_t width = notification_data ? 4 : 2;
    uint32_t multiplier = layout.notify_off_multiplier;
    if (notification_data && multiplier != 0 && multiplier < 4) {
        diagnose(diagnostic, "notify_off_multiplier %u overlaps the 4-byte registers of VIRTIO_F_NOTIFICATION_DATA",
            multiplier);
        return Err(Error::ERANGE);
    }
    uint64_t relative = uint64_t(queue_notify_off) * multiplier;
    if (relative + width > notify.length) {
        diagnose(diagnostic,
            "queue_notify_off %u * notify_off_multiplier %u + %u exceeds the notification structure's length 0x%x",
            queue_notify_off, multiplier, width, notify.length);
        return Err(Error::ERANGE);
    }
    uint64_t offset = notify.offset + relative;
    if (offset % width) {
        diagnose(diagnostic, "notification register at 0x%llx is not %u-byte aligned",
            static_cast<unsigned long long>(offset), width);
        return Err(Error::ERANGE);
    }
    return offset;
}

Result<VirtioPciIdentity> identify_virtio_pci(
    uint16_t vendor, uint16_t device, uint16_t subsystem_device, Diagnostic* diagnostic)
{
    if (vendor != PCI_VENDOR_ID_REDHAT_QUMRANET) {
        diagnose(diagnostic, "vendor 0x%04x is not virtio's 0x1af4", vendor);
        return Err(Error::ENODEV);
    }
    if (device < 0x1000 || device > 0x107f) {
        diagnose(diagnostic, "device 0x%04x is outside virtio's 0x1000-0x107f", device);
        return Err(Error::ENODEV);
    }
    if (device < 0x1040) {
        // Transitional: the subsystem device ID carries the type, as it
        // did for legacy drivers.
        if (subsystem_device == 0) {
            diagnose(diagnostic, "transitional device 0x%04x has subsystem device ID 0, no virtio type", device);
            return Err(Error::ENODEV);
        }
        return VirtioPciIdentity { subsystem_device, true };
    }
    if (device == 0x1040) {
        diagnose(diagnostic, "device 0x1040 would be virtio type 0, which is reserved");
        return Err(Error::ENODEV);
    }
    return VirtioPciIdentity { uint32_t(device - 0x1040), false };
}

} // namespace keel::virtio
