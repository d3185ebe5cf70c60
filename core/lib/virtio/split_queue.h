// The driver's side of a split virtqueue (virtio 1.x, "Split Virtqueues") over
// memory the caller allocated: the descriptor table, the available ring
// and the used ring (virtio.h has their layout), each given by its virtual
// address and the address the device uses for it. Nothing is allocated.
//
//   SplitQueue queue = MUST(SplitQueue::create(config, &diagnostic));
//   BufferSegment out[] = { { header_dma, 16 } };
//   BufferSegment in[] = { { data_dma, 4096 }, { status_dma, 1 } };
//   TRY(queue.add(out, 1, in, 2, request));   // ENOSPC when the ring is full
//   if (queue.kick_prepare())
//       notify_the_device();
//   ... in the interrupt handler or a poll loop:
//   while (auto used = queue.pop_used(&diagnostic))
//       complete(used.value().token, used.value().written);
//
// Everything the device writes (the used ring, its flags and event index)
// is read once and checked: a used id out of range or not in flight, a
// written length larger than the buffer's device-writable bytes, a used
// index that runs ahead of what is in flight. The first violation marks
// the queue broken: pop_used fails with EIO and a message naming the
// values, every later add and pop_used fails with EIO, and the driver
// resets the device, takes its buffers back with detach_unused and calls
// reset(). The driver's own bookkeeping (which descriptors form which
// chain, the free list) lives in caller-provided slots the device cannot
// reach, so nothing it writes can redirect a free or a walk.
//
// Indices are 16-bit and wrap from 65535 to 0; every comparison is a
// 16-bit difference. With VIRTIO_F_EVENT_IDX the used_event/avail_event
// fields decide notifications (vring_need_event); without it the
// VIRTQ_USED_F_NO_NOTIFY and VIRTQ_AVAIL_F_NO_INTERRUPT flags do.
//
// Not thread-safe: the caller serialises calls (the block layer's queue
// lock). The barriers come from the Barriers type (barrier.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/virtio/barrier.h"
#include "lib/virtio/virtio.h"

namespace keel::virtio {

// One of the three areas: where the driver writes and reads it, and the
// address the device is given (queue_desc, queue_driver, queue_device).
struct QueueArea {
    void* address = nullptr;
    uint64_t device_address = 0;
};

// The driver's private record of one descriptor. Callers provide `size` of
// them and never look inside.
struct SplitQueueSlot {
    void* token;       // a chain's head while in flight: the caller's token; else null
    uint32_t writable; // a chain's head: bytes the device may write
    uint16_t next;     // the next descriptor of a chain or of the free list
    uint16_t count;    // a chain's head: descriptors it takes in the table
};

struct SplitQueueConfig {
    uint32_t size = 0; // a power of two, 1 to 32768 (queue_size)
    QueueArea descriptors;
    QueueArea available;
    QueueArea used;
    SplitQueueSlot* slots = nullptr; // `size` of them
    bool event_index = false;        // VIRTIO_F_EVENT_IDX was negotiated
    bool indirect = false;           // VIRTIO_F_INDIRECT_DESC was negotiated
    // The first available and used index. A device starts at 0 after a
    // reset, the only case the specification knows; tests start near 65535
    // to cross the wrap at once.
    uint16_t start_index = 0;
};

// A contiguous allocation holding all three areas, aligned as the
// specification asks: offsets from its start and its total size.
struct SplitQueueLayout {
    size_t descriptors;
    size_t available;
    size_t used;
    size_t total;
};
SplitQueueLayout split_queue_layout(uint32_t size);

// A buffer the device reads (out) or writes (in).
struct BufferSegment {
    uint64_t address; // as the device sees it (a DMA address)
    uint32_t length;
};

// Memory for one indirect descriptor table: `capacity` descriptors, 16-byte
// aligned. The caller keeps it until the chain comes back.
struct IndirectTable {
    void* address = nullptr;
    uint64_t device_address = 0;
    uint32_t capacity = 0;
};

struct UsedBuffer {
    void* token;      // what add() was given
    uint32_t written; // bytes the device says it wrote (checked against the buffer)
};

template<typename Barriers> class SplitQueueT {
public:
    // Checks the configuration (EINVAL with a message) and initialises the
    // three areas: zeroes them and sets both indices to start_index. Call
    // before the queue is enabled in the device.
    static Result<SplitQueueT> create(const SplitQueueConfig& config, Diagnostic* diagnostic = nullptr);

    // Puts a chain of out_count device-readable segments followed by
    // in_count device-writable ones in the ring and publishes it. `token`
    // (not null) comes back from pop_used or detach_unused.
    //   ENOSPC  not enough free descriptors now (the ring is full)
    //   EINVAL  no segments, a zero-length segment, a null token, a chain
    //           longer than the queue, or 4 GiB or more in total
    //   EIO     the queue is broken
    Result<void> add(const BufferSegment* out, uint32_t out_count, const BufferSegment* in, uint32_t in_count,
        void* token, Diagnostic* diagnostic = nullptr);

    // Same, as one descriptor pointing at an indirect table the caller
    // provides (VIRTIO_F_INDIRECT_DESC): a long scatter list takes one slot
    // of the ring. EINVAL also when the table is too small or misaligned
    // or indirect descriptors were not negotiated.
    Result<void> add_indirect(const BufferSegment* out, uint32_t out_count, const BufferSegment* in, uint32_t in_count,
        const IndirectTable& table, void* token, Diagnostic* diagnostic = nullptr);

    // After one or more add()s: whether the device wants to be notified.
    // False when nothing was added since the last call.
    bool kick_prepare();

    // The next used buffer. ENODATA when the device has returned nothing
    // more; EIO when it broke the protocol (the message says how).
    Result<UsedBuffer> pop_used(Diagnostic* diagnostic = nullptr);
    // Whether pop_used would return something (or find a violation).
    bool has_used() const;

    // Interrupt suppression. disable_callbacks() asks the device not to
    // interrupt (a hint: it may still). enable_callbacks() asks for an
    // interrupt at the next used buffer and returns true if none arrived in
    // between (the caller may sleep), false if some did (poll again).
    // enable_callbacks_delayed() asks only when about three quarters of the
    // buffers in flight are used (with event index; otherwise as
    // enable_callbacks).
    void disable_callbacks();
    bool enable_callbacks();
    bool enable_callbacks_delayed();

    // After the device was reset: one buffer still in flight, taken back
    // (its token), or ENODATA when none is left.
    Result<void*> detach_unused();
    // Re-initialises the areas for a reset device: indices 0, every
    // descriptor free, not broken. EBUSY while buffers are in flight.
    Result<void> reset();

    uint32_t size() const { return m_size; }
    uint32_t free_descriptors() const { return m_free_count; }
    uint32_t in_flight() const { return m_in_flight; }
    bool is_broken() const { return m_broken; }
    bool event_index() const { return m_event_index; }
    uint64_t descriptors_device_address() const { return m_descriptors_device; }
    uint64_t available_device_address() const { return m_available_device; }
    uint64_t used_device_address() const { return m_used_device; }

private:
    SplitQueueT() = default;

    Result<void> check_chain(const BufferSegment* out, uint32_t out_count, const BufferSegment* in, uint32_t in_count,
        void* token, uint32_t& writable, Diagnostic* diagnostic) const;
    uint16_t take_free();
    void publish(uint16_t head, void* token, uint32_t writable, uint16_t count);
    void free_chain(uint16_t head);
    void write_descriptor(
        uint8_t* table, uint16_t index, uint64_t address, uint32_t length, uint16_t flags, uint16_t next);
    Err fail(Diagnostic* diagnostic, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    void initialise_rings(uint16_t start_index);

    uint8_t* m_descriptors = nullptr;
    uint8_t* m_available = nullptr;
    uint8_t* m_used = nullptr;
    uint64_t m_descriptors_device = 0;
    uint64_t m_available_device = 0;
    uint64_t m_used_device = 0;
    SplitQueueSlot* m_slots = nullptr;
    uint32_t m_size = 0;
    uint32_t m_free_count = 0;
    uint32_t m_in_flight = 0;
    uint32_t m_added_since_kick = 0; // saturates at 65536
    uint32_t m_detach_cursor = 0;
    uint16_t m_free_head = 0;
    uint16_t m_available_index = 0; // the driver's copy of available.idx
    uint16_t m_last_used = 0;       // the used index up to which buffers were returned
    uint16_t m_available_flags = 0; // the driver's copy of available.flags
    bool m_event_index = false;
    bool m_indirect = false;
    bool m_broken = false;
};

using SplitQueue = SplitQueueT<FenceBarriers>;
extern template class SplitQueueT<FenceBarriers>;

} // namespace keel::virtio
