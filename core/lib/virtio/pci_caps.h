// The virtio-over-PCI facts a transport needs before it touches a BAR
// (virtio 1.x, "Virtio Over PCI Bus"): which PCI IDs are virtio devices
// and of which type, and where the modern interface's structures are,
// from the vendor-specific capabilities in configuration space.
//
// Configuration space is read through callbacks (a test gives a synthetic
// 256- or 4096-byte array), and every value read is hostile: the list
// walk stops at a loop or a pointer out of bounds, and each virtio
// capability is checked (BAR index, BAR present, offset + length inside
// the BAR, alignment, minimum length, notify multiplier). As the
// specification asks, a capability the driver cannot use is skipped for a
// later one of the same type; when none is usable, the error says what was
// wrong with the first, e.g.
//
//   no usable notification capability: the one at 0x50: offset 0x3000 + length 0x2000 = 0x5000 exceeds BAR 4 (0x4000
//   bytes) no common configuration capability (cfg_type 1) among 3 virtio capabilities capability list loops: the
//   capability at 0x60 points back to 0x40
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::virtio {

// PCI configuration space.
constexpr uint16_t PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1af4;
constexpr uint16_t PCI_STATUS = 0x06;
constexpr uint16_t PCI_STATUS_CAP_LIST = 0x10;
constexpr uint16_t PCI_HEADER_TYPE = 0x0e;
constexpr uint16_t PCI_CAPABILITY_LIST = 0x34;
constexpr uint16_t PCI_CB_CAPABILITY_LIST = 0x14; // header type 2 (CardBus bridges)
constexpr uint16_t PCI_STD_HEADER_SIZEOF = 0x40;
constexpr uint16_t PCI_CFG_SPACE_SIZE = 256;
constexpr uint16_t PCI_CFG_SPACE_EXP_SIZE = 4096;
constexpr uint8_t PCI_CAP_ID_VNDR = 0x09;
constexpr unsigned kPciBarCount = 6;

// Reads of configuration space at an offset below `size`, naturally
// aligned (the walker never asks otherwise).
struct PciConfigAccess {
    void* context = nullptr;
    uint8_t (*read8)(void* context, uint16_t offset) = nullptr;
    uint16_t (*read16)(void* context, uint16_t offset) = nullptr;
    uint32_t (*read32)(void* context, uint16_t offset) = nullptr;
    uint16_t size = PCI_CFG_SPACE_SIZE; // 256, or 4096 for PCI Express
};

struct PciCapability {
    uint8_t id;
    uint8_t offset; // in configuration space
};

// The standard capability list, one entry at a time. next() returns
// ENODATA at the end of the list, EINVAL (with a message) when the list
// is malformed: a pointer into the standard header or past the end, a
// loop, an id of 0xff (what a missing device reads). The first error ends
// the walk.
class PciCapabilityWalker {
public:
    PciCapabilityWalker(const PciConfigAccess& access, Diagnostic* diagnostic = nullptr);
    Result<PciCapability> next();

private:
    Err fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    const PciConfigAccess& m_access;
    Diagnostic* m_diagnostic;
    uint64_t m_visited = 0;    // a bit per dword of the 256-byte header
    uint16_t m_pointer_at = 0; // where the pointer to follow was read
    uint8_t m_next = 0;
    bool m_started = false;
    bool m_done = false;
    Error m_error = Error(0);
};

// The virtio structure types (cfg_type).
constexpr uint8_t VIRTIO_PCI_CAP_COMMON_CFG = 1;
constexpr uint8_t VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
constexpr uint8_t VIRTIO_PCI_CAP_ISR_CFG = 3;
constexpr uint8_t VIRTIO_PCI_CAP_DEVICE_CFG = 4;
constexpr uint8_t VIRTIO_PCI_CAP_PCI_CFG = 5;
constexpr uint8_t VIRTIO_PCI_CAP_SHARED_MEMORY_CFG = 8;
constexpr uint8_t VIRTIO_PCI_CAP_VENDOR_CFG = 9;

// struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type, bar, id,
// padding[2], le32 offset, le32 length; the notify capability adds le32
// notify_off_multiplier, the PCI access capability u8 pci_cfg_data[4].
constexpr uint8_t kVirtioPciCapLength = 16;
constexpr uint8_t kVirtioPciNotifyCapLength = 20;
constexpr uint8_t kVirtioPciCfgCapLength = 20;

// struct virtio_pci_common_cfg: offsets of its fields in the common
// configuration structure. The 1.0 layout is 56 bytes; 1.2 adds
// queue_notify_data and queue_reset.
namespace common_cfg {
constexpr uint16_t device_feature_select = 0x00; // le32
constexpr uint16_t device_feature = 0x04;        // le32
constexpr uint16_t driver_feature_select = 0x08; // le32
constexpr uint16_t driver_feature = 0x0c;        // le32
constexpr uint16_t config_msix_vector = 0x10;    // le16
constexpr uint16_t num_queues = 0x12;            // le16
constexpr uint16_t device_status = 0x14;         // u8
constexpr uint16_t config_generation = 0x15;     // u8
constexpr uint16_t queue_select = 0x16;          // le16
constexpr uint16_t queue_size = 0x18;            // le16
constexpr uint16_t queue_msix_vector = 0x1a;     // le16
constexpr uint16_t queue_enable = 0x1c;          // le16
constexpr uint16_t queue_notify_off = 0x1e;      // le16
constexpr uint16_t queue_desc = 0x20;            // le64
constexpr uint16_t queue_driver = 0x28;          // le64
constexpr uint16_t queue_device = 0x30;          // le64
constexpr uint16_t queue_notify_data = 0x38;     // le16 (1.2)
constexpr uint16_t queue_reset = 0x3a;           // le16 (1.2)
constexpr uint32_t kSize = 0x38;                 // the 1.0 layout every device provides
} // namespace common_cfg

// Where one structure lives: BAR `bar`, bytes [offset, offset + length).
struct VirtioPciRegion {
    bool present = false;
    uint8_t capability = 0; // offset of its capability in configuration space
    uint8_t bar = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
};

struct VirtioPciLayout {
    VirtioPciRegion common; // required
    VirtioPciRegion notify; // required
    VirtioPciRegion isr;    // required
    VirtioPciRegion device; // only devices with a configuration have one
    uint32_t notify_off_multiplier = 0;
    uint8_t pci_cfg_capability = 0;   // offset of the PCI access capability; 0 if none
    unsigned virtio_capabilities = 0; // vendor-specific capabilities seen
};

// Finds and checks the modern interface's structures. `bar_sizes[i]` is
// the size of BAR i in bytes, 0 when it is not implemented (or is the
// upper half of a 64-bit BAR). ENODEV when a required structure is
// missing or unusable, EINVAL when the capability list is malformed.
Result<VirtioPciLayout> find_virtio_pci_layout(
    const PciConfigAccess& access, const uint64_t (&bar_sizes)[kPciBarCount], Diagnostic* diagnostic = nullptr);

// The offset in the notify structure's BAR of queue `queue_notify_off`'s
// notification register: notify.offset + queue_notify_off *
// notify_off_multiplier. ERANGE when the register (2 bytes, 4 with
// VIRTIO_F_NOTIFICATION_DATA) does not fit in the structure's length. With
// a multiplier of 0 every queue shares one register, as the specification
// allows.
Result<uint64_t> virtio_pci_notify_offset(
    const VirtioPciLayout& layout, uint16_t queue_notify_off, bool notification_data, Diagnostic* diagnostic = nullptr);

// What a PCI function is to virtio. Modern devices have device IDs
// 0x1040 + type; transitional ones 0x1000-0x103f, with the type in the
// subsystem device ID. Vendor 0x1af4 always.
struct VirtioPciIdentity {
    uint32_t device_type;
    bool transitional;
};
// ENODEV (with a message) for a function that is not a virtio device.
Result<VirtioPciIdentity> identify_virtio_pci(
    uint16_t vendor, uint16_t device, uint16_t subsystem_device, Diagnostic* diagnostic = nullptr);

} // namespace keel::virtio
