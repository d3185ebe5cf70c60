// Facts of the virtio 1.x specification (OASIS "Virtual I/O Device
// (VIRTIO) Version 1.2") that the transport, the queues and the drivers
// share: device types, the status byte, feature bits, the split-ring
// layout. Names are the specification's, so they can be searched for in it.
//
// Everything a device shares with the driver is little-endian. The
// accessors at the end read and write shared memory once, with the width
// the field has, and convert from or to little-endian: a device (or a
// hypervisor) may change that memory at any moment, so a value is read
// once into a local, checked, and only the local is used.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::virtio {

// Device types ("Device Types"): the "virtio:dNNNNNNNN" of a modalias, and the
// modern PCI device ID minus 0x1040.
constexpr uint32_t VIRTIO_ID_NET = 1;
constexpr uint32_t VIRTIO_ID_BLOCK = 2;
constexpr uint32_t VIRTIO_ID_CONSOLE = 3;
constexpr uint32_t VIRTIO_ID_RNG = 4;
constexpr uint32_t VIRTIO_ID_BALLOON = 5;
constexpr uint32_t VIRTIO_ID_SCSI = 8;
constexpr uint32_t VIRTIO_ID_9P = 9;
constexpr uint32_t VIRTIO_ID_GPU = 16;
constexpr uint32_t VIRTIO_ID_INPUT = 18;
constexpr uint32_t VIRTIO_ID_VSOCK = 19;
constexpr uint32_t VIRTIO_ID_CRYPTO = 20;
constexpr uint32_t VIRTIO_ID_IOMMU = 23;
constexpr uint32_t VIRTIO_ID_MEM = 24;
constexpr uint32_t VIRTIO_ID_SOUND = 25;
constexpr uint32_t VIRTIO_ID_FS = 26;
constexpr uint32_t VIRTIO_ID_PMEM = 27;

// "network card", "block device", ...; "unknown" for other types.
const char* device_type_name(uint32_t type);

// The device status byte ("Device Status Field").
constexpr uint8_t VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
constexpr uint8_t VIRTIO_CONFIG_S_DRIVER = 2;
constexpr uint8_t VIRTIO_CONFIG_S_DRIVER_OK = 4;
constexpr uint8_t VIRTIO_CONFIG_S_FEATURES_OK = 8;
constexpr uint8_t VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
constexpr uint8_t VIRTIO_CONFIG_S_FAILED = 0x80;

// Feature bits ("Reserved Feature Bits"). Bits 0-23 and 50-127 belong to the device
// type; 24-41 to the transport and the queues; 42-49 are reserved. Keel
// negotiates bits 0-63, the first two 32-bit feature words.
constexpr unsigned VIRTIO_F_NOTIFY_ON_EMPTY = 24; // legacy only
constexpr unsigned VIRTIO_F_ANY_LAYOUT = 27;      // legacy only
constexpr unsigned VIRTIO_F_INDIRECT_DESC = 28;
constexpr unsigned VIRTIO_F_EVENT_IDX = 29;
constexpr unsigned VIRTIO_F_VERSION_1 = 32;
constexpr unsigned VIRTIO_F_ACCESS_PLATFORM = 33;
constexpr unsigned VIRTIO_F_RING_PACKED = 34;
constexpr unsigned VIRTIO_F_IN_ORDER = 35;
constexpr unsigned VIRTIO_F_ORDER_PLATFORM = 36;
constexpr unsigned VIRTIO_F_SR_IOV = 37;
constexpr unsigned VIRTIO_F_NOTIFICATION_DATA = 38;
constexpr unsigned VIRTIO_F_NOTIF_CONFIG_DATA = 39;
constexpr unsigned VIRTIO_F_RING_RESET = 40;
constexpr unsigned VIRTIO_TRANSPORT_F_START = 24;
constexpr unsigned VIRTIO_TRANSPORT_F_END = 50; // exclusive

constexpr uint64_t feature_bit(unsigned bit) { return uint64_t(1) << bit; }
// The bits no device type may define (24-49) as a mask.
constexpr uint64_t kTransportFeatureMask
    = (uint64_t(1) << VIRTIO_TRANSPORT_F_END) - (uint64_t(1) << VIRTIO_TRANSPORT_F_START);

// "VIRTIO_F_VERSION_1", ...; null for bits without a transport name.
const char* transport_feature_name(unsigned bit);

// The split virtqueue ("Split Virtqueues"): three areas in memory the driver
// allocates and the device reaches by DMA.
//
//   descriptor table  16 * size bytes, 16-byte aligned
//     struct { le64 addr; le32 len; le16 flags; le16 next; }
//   available ring    6 + 2 * size bytes, 2-byte aligned (driver writes)
//     le16 flags; le16 idx; le16 ring[size]; le16 used_event;
//   used ring         6 + 8 * size bytes, 4-byte aligned (device writes)
//     le16 flags; le16 idx; struct { le32 id; le32 len; } ring[size]; le16 avail_event;
//
// used_event and avail_event exist whether or not VIRTIO_F_EVENT_IDX is
// negotiated; they are only read when it is.
constexpr uint32_t kMaxQueueSize = 32768;

constexpr uint16_t VIRTQ_DESC_F_NEXT = 1;
constexpr uint16_t VIRTQ_DESC_F_WRITE = 2;
constexpr uint16_t VIRTQ_DESC_F_INDIRECT = 4;
constexpr uint16_t VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
constexpr uint16_t VIRTQ_USED_F_NO_NOTIFY = 1;

constexpr size_t kDescriptorSize = 16;
constexpr size_t kDescriptorAlign = 16;
constexpr size_t kAvailableAlign = 2;
constexpr size_t kUsedAlign = 4;
constexpr size_t kUsedElementSize = 8;

constexpr size_t descriptor_table_bytes(uint32_t size) { return kDescriptorSize * size; }
constexpr size_t available_ring_bytes(uint32_t size) { return 6 + 2 * size_t(size); }
constexpr size_t used_ring_bytes(uint32_t size) { return 6 + kUsedElementSize * size; }

// Offsets inside the areas.
constexpr size_t kRingFlagsOffset = 0;
constexpr size_t kRingIndexOffset = 2;
constexpr size_t kRingEntriesOffset = 4;
constexpr size_t available_entry_offset(uint32_t slot) { return kRingEntriesOffset + 2 * size_t(slot); }
constexpr size_t used_event_offset(uint32_t size) { return kRingEntriesOffset + 2 * size_t(size); }
constexpr size_t used_entry_offset(uint32_t slot) { return kRingEntriesOffset + kUsedElementSize * slot; }
constexpr size_t avail_event_offset(uint32_t size) { return kRingEntriesOffset + kUsedElementSize * size; }

// Whether a party that moved its index from `old_index` to `new_index`
// must notify the other, which asked to hear once its index passed
// `event_index` ("Notification Suppression": notify when new_index - 1 - event_index,
// taken modulo 2^16, is smaller than the distance moved). All arithmetic
// is on 16 bits, so it holds across the wrap from 65535 to 0.
constexpr bool vring_need_event(uint16_t event_index, uint16_t new_index, uint16_t old_index)
{
    return uint16_t(new_index - event_index - 1) < uint16_t(new_index - old_index);
}

// Little-endian loads and stores of shared memory, each one access of the
// field's width (relaxed atomics: never torn, never repeated or merged by
// the compiler). `p` must be aligned for the width.
inline uint16_t load_le16(const void* p)
{
    uint16_t value = __atomic_load_n(static_cast<const uint16_t*>(p), __ATOMIC_RELAXED);
    if constexpr (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        value = __builtin_bswap16(value);
    return value;
}
inline uint32_t load_le32(const void* p)
{
    uint32_t value = __atomic_load_n(static_cast<const uint32_t*>(p), __ATOMIC_RELAXED);
    if constexpr (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        value = __builtin_bswap32(value);
    return value;
}
inline void store_le16(void* p, uint16_t value)
{
    if constexpr (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        value = __builtin_bswap16(value);
    __atomic_store_n(static_cast<uint16_t*>(p), value, __ATOMIC_RELAXED);
}
inline void store_le32(void* p, uint32_t value)
{
    if constexpr (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        value = __builtin_bswap32(value);
    __atomic_store_n(static_cast<uint32_t*>(p), value, __ATOMIC_RELAXED);
}
inline void store_le64(void* p, uint64_t value)
{
    if constexpr (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        value = __builtin_bswap64(value);
    __atomic_store_n(static_cast<uint64_t*>(p), value, __ATOMIC_RELAXED);
}

} // namespace keel::virtio
