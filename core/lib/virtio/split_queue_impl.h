// SplitQueueT's definitions. split_queue.cpp instantiates them with
// FenceBarriers for everyone; a test includes this file to instantiate them
// with barriers that record where they fall.
#pragma once

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/virtio/split_queue.h"

namespace keel::virtio {

namespace split_queue_detail {

inline bool aligned(uint64_t value, uint64_t alignment) { return (value & (alignment - 1)) == 0; }

inline bool overlaps(const void* a, size_t a_size, const void* b, size_t b_size)
{
    auto a_start = reinterpret_cast<uintptr_t>(a);
    auto b_start = reinterpret_cast<uintptr_t>(b);
    return a_start < b_start + b_size && b_start < a_start + a_size;
}

inline void vdiagnose(Diagnostic* diagnostic, const char* fmt, va_list args)
{
    if (diagnostic)
        vformat(diagnostic->message, sizeof(diagnostic->message), fmt, args);
}

inline Err invalid(Diagnostic* diagnostic, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
inline Err invalid(Diagnostic* diagnostic, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vdiagnose(diagnostic, fmt, args);
    va_end(args);
    return Err(Error::EINVAL);
}

} // namespace split_queue_detail

template<typename Barriers>
Result<SplitQueueT<Barriers>> SplitQueueT<Barriers>::create(const SplitQueueConfig& config, Diagnostic* diagnostic)
{
    using namespace split_queue_detail;
    uint32_t size = config.size;
    if (size == 0 || size > kMaxQueueSize || !is_power_of_two(size))
        return invalid(diagnostic, "queue size %u is not a power of two from 1 to %u", size, kMaxQueueSize);
    struct Area {
        const char* name;
        const QueueArea& area;
        size_t bytes;
        size_t alignment;
    };
    const Area areas[] = {
        { "descriptor table", config.descriptors, descriptor_table_bytes(size), kDescriptorAlign },
        { "available ring", config.available, available_ring_bytes(size), kAvailableAlign },
        { "used ring", config.used, used_ring_bytes(size), kUsedAlign },
    };
    for (const Area& area : areas) {
        if (!area.area.address)
            return invalid(diagnostic, "%s: no memory given", area.name);
        if (!aligned(reinterpret_cast<uintptr_t>(area.area.address), area.alignment)
            || !aligned(area.area.device_address, area.alignment))
            return invalid(diagnostic, "%s at %p (device address 0x%llx) is not %zu-byte aligned", area.name,
                area.area.address, static_cast<unsigned long long>(area.area.device_address), area.alignment);
    }
    for (size_t i = 0; i < array_size(areas); ++i) {
        for (size_t j = i + 1; j < array_size(areas); ++j) {
            if (overlaps(areas[i].area.address, areas[i].bytes, areas[j].area.address, areas[j].bytes))
                return invalid(diagnostic, "%s and %s overlap", areas[i].name, areas[j].name);
        }
    }
    if (!config.slots)
        return invalid(diagnostic, "no slots given for %u descriptors", size);

    SplitQueueT queue;
    queue.m_descriptors = static_cast<uint8_t*>(config.descriptors.address);
    queue.m_available = static_cast<uint8_t*>(config.available.address);
    queue.m_used = static_cast<uint8_t*>(config.used.address);
    queue.m_descriptors_device = config.descriptors.device_address;
    queue.m_available_device = config.available.device_address;
    queue.m_used_device = config.used.device_address;
    queue.m_slots = config.slots;
    queue.m_size = size;
    queue.m_event_index = config.event_index;
    queue.m_indirect = config.indirect;
    queue.initialise_rings(config.start_index);
    return queue;
}

template<typename Barriers> void SplitQueueT<Barriers>::initialise_rings(uint16_t start_index)
{
    memset(m_descriptors, 0, descriptor_table_bytes(m_size));
    memset(m_available, 0, available_ring_bytes(m_size));
    memset(m_used, 0, used_ring_bytes(m_size));
    for (uint32_t i = 0; i < m_size; ++i)
        m_slots[i] = SplitQueueSlot { nullptr, 0, uint16_t(i + 1), 0 };
    m_free_head = 0;
    m_free_count = m_size;
    m_in_flight = 0;
    m_added_since_kick = 0;
    m_detach_cursor = 0;
    m_available_index = start_index;
    m_last_used = start_index;
    m_available_flags = 0;
    m_broken = false;
    store_le16(m_available + kRingIndexOffset, start_index);
    store_le16(m_used + kRingIndexOffset, start_index);
    if (m_event_index)
        store_le16(m_available + used_event_offset(m_size), start_index);
}

template<typename Barriers> Err SplitQueueT<Barriers>::fail(Diagnostic* diagnostic, const char* fmt, ...)
{
    m_broken = true;
    va_list args;
    va_start(args, fmt);
    split_queue_detail::vdiagnose(diagnostic, fmt, args);
    va_end(args);
    return Err(Error::EIO);
}

template<typename Barriers>
Result<void> SplitQueueT<Barriers>::check_chain(const BufferSegment* out, uint32_t out_count, const BufferSegment* in,
    uint32_t in_count, void* token, uint32_t& writable, Diagnostic* diagnostic) const
{
    using split_queue_detail::invalid;
    if (m_broken)
        return Err(Error::EIO);
    if (!token)
        return invalid(diagnostic, "null token");
    uint64_t count = uint64_t(out_count) + in_count;
    if (count == 0)
        return invalid(diagnostic, "a chain needs at least one segment");
    if ((out_count && !out) || (in_count && !in))
        return invalid(diagnostic, "segment array missing");
    // The specification's limits: a chain may not be longer than the queue, nor hold
    // 4 GiB or more (the used length is 32-bit).
    if (count > m_size)
        return invalid(diagnostic, "chain of %llu segments is longer than the queue (%u)",
            static_cast<unsigned long long>(count), m_size);
    uint64_t total = 0;
    uint64_t written = 0;
    for (uint32_t i = 0; i < out_count + in_count; ++i) {
        const BufferSegment& segment = i < out_count ? out[i] : in[i - out_count];
        if (segment.length == 0)
            return invalid(diagnostic, "%s segment %u has length 0", i < out_count ? "out" : "in",
                i < out_count ? i : i - out_count);
        total += segment.length;
        if (i >= out_count)
            written += segment.length;
    }
    if (total > 0xffffffffu)
        return invalid(diagnostic, "chain of 0x%llx bytes: 4 GiB or more", static_cast<unsigned long long>(total));
    writable = uint32_t(written);
    return {};
}

template<typename Barriers> uint16_t SplitQueueT<Barriers>::take_free()
{
    VERIFY(m_free_count > 0);
    uint16_t index = m_free_head;
    m_free_head = m_slots[index].next;
    --m_free_count;
    return index;
}

template<typename Barriers>
void SplitQueueT<Barriers>::write_descriptor(
    uint8_t* table, uint16_t index, uint64_t address, uint32_t length, uint16_t flags, uint16_t next)
{
    uint8_t* descriptor = table + size_t(index) * kDescriptorSize;
    store_le64(descriptor, address);
    store_le32(descriptor + 8, length);
    store_le16(descriptor + 12, flags);
    store_le16(descriptor + 14, next);
}

template<typename Barriers>
void SplitQueueT<Barriers>::publish(uint16_t head, void* token, uint32_t writable, uint16_t count)
{
    m_slots[head].token = token;
    m_slots[head].writable = writable;
    m_slots[head].count = count;
    ++m_in_flight;

    uint32_t slot = m_available_index & (m_size - 1);
    store_le16(m_available + available_entry_offset(slot), head);
    // The device may look at the ring as soon as the index moves: the
    // descriptors and the entry must be visible first.
    Barriers::write();
    ++m_available_index;
    store_le16(m_available + kRingIndexOffset, m_available_index);
    if (m_added_since_kick < 65536)
        ++m_added_since_kick;
}

template<typename Barriers>
Result<void> SplitQueueT<Barriers>::add(const BufferSegment* out, uint32_t out_count, const BufferSegment* in,
    uint32_t in_count, void* token, Diagnostic* diagnostic)
{
    uint32_t writable;
    TRY(check_chain(out, out_count, in, in_count, token, writable, diagnostic));
    uint32_t count = out_count + in_count;
    if (count > m_free_count) {
        diagnose(diagnostic, "queue full: a chain of %u needs more than the %u free descriptors", count, m_free_count);
        return Err(Error::ENOSPC);
    }

    // Take the descriptors first so that each one can name the next.
    uint16_t head = take_free();
    uint16_t index = head;
    for (uint32_t i = 0; i < count; ++i) {
        const BufferSegment& segment = i < out_count ? out[i] : in[i - out_count];
        bool last = i + 1 == count;
        uint16_t next = last ? 0 : take_free();
        uint16_t flags = (i >= out_count ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
        write_descriptor(m_descriptors, index, segment.address, segment.length, flags, next);
        m_slots[index].next = next;
        m_slots[index].token = nullptr;
        index = next;
    }
    publish(head, token, writable, uint16_t(count));
    return {};
}

template<typename Barriers>
Result<void> SplitQueueT<Barriers>::add_indirect(const BufferSegment* out, uint32_t out_count, const BufferSegment* in,
    uint32_t in_count, const IndirectTable& table, void* token, Diagnostic* diagnostic)
{
    using split_queue_detail::aligned;
    using split_queue_detail::invalid;
    uint32_t writable;
    TRY(check_chain(out, out_count, in, in_count, token, writable, diagnostic));
    uint32_t count = out_count + in_count;
    if (!m_indirect)
        return invalid(diagnostic, "indirect descriptors were not negotiated");
    if (!table.address || table.capacity < count)
        return invalid(diagnostic, "indirect table holds %u descriptors, the chain needs %u", table.capacity, count);
    if (!aligned(reinterpret_cast<uintptr_t>(table.address), kDescriptorAlign)
        || !aligned(table.device_address, kDescriptorAlign))
        return invalid(diagnostic, "indirect table at %p (device address 0x%llx) is not 16-byte aligned", table.address,
            static_cast<unsigned long long>(table.device_address));
    if (m_free_count == 0) {
        diagnose(diagnostic, "queue full: no free descriptor for an indirect chain");
        return Err(Error::ENOSPC);
    }

    auto* entries = static_cast<uint8_t*>(table.address);
    for (uint32_t i = 0; i < count; ++i) {
        const BufferSegment& segment = i < out_count ? out[i] : in[i - out_count];
        bool last = i + 1 == count;
        uint16_t flags = (i >= out_count ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
        write_descriptor(entries, uint16_t(i), segment.address, segment.length, flags, last ? 0 : uint16_t(i + 1));
    }
    uint16_t head = take_free();
    write_descriptor(
        m_descriptors, head, table.device_address, uint32_t(count * kDescriptorSize), VIRTQ_DESC_F_INDIRECT, 0);
    m_slots[head].next = 0;
    publish(head, token, writable, 1);
    return {};
}

template<typename Barriers> bool SplitQueueT<Barriers>::kick_prepare()
{
    if (m_broken || m_added_since_kick == 0)
        return false;
    // The new available index must be visible before we read what the
    // device asked for, or both sides could decide not to act.
    Barriers::full();
    uint32_t added = m_added_since_kick;
    m_added_since_kick = 0;
    if (m_event_index) {
        // More than 65535 additions since the last kick make the 16-bit
        // distance meaningless: notify.
        if (added >= 65536)
            return true;
        uint16_t event = load_le16(m_used + avail_event_offset(m_size));
        return vring_need_event(event, m_available_index, uint16_t(m_available_index - added));
    }
    return !(load_le16(m_used + kRingFlagsOffset) & VIRTQ_USED_F_NO_NOTIFY);
}

template<typename Barriers> bool SplitQueueT<Barriers>::has_used() const
{
    return !m_broken && load_le16(m_used + kRingIndexOffset) != m_last_used;
}

template<typename Barriers> void SplitQueueT<Barriers>::free_chain(uint16_t head)
{
    SplitQueueSlot& first = m_slots[head];
    uint16_t tail = head;
    for (uint16_t i = 1; i < first.count; ++i)
        tail = m_slots[tail].next;
    m_slots[tail].next = m_free_head;
    m_free_head = head;
    m_free_count += first.count;
    first.token = nullptr;
    first.writable = 0;
    first.count = 0;
    --m_in_flight;
}

template<typename Barriers> Result<UsedBuffer> SplitQueueT<Barriers>::pop_used(Diagnostic* diagnostic)
{
    if (m_broken)
        return Err(Error::EIO);
    uint16_t used_index = load_le16(m_used + kRingIndexOffset);
    if (used_index == m_last_used)
        return Err(Error::ENODATA);
    uint16_t pending = uint16_t(used_index - m_last_used);
    if (pending > m_in_flight)
        return fail(diagnostic, "used index %u is %u past the last one seen (%u), but only %u buffers are in flight",
            used_index, pending, m_last_used, m_in_flight);
    // The entry is only valid once the index that covers it was read.
    Barriers::read();
    uint32_t slot = m_last_used & (m_size - 1);
    const uint8_t* entry = m_used + used_entry_offset(slot);
    uint32_t id = load_le32(entry);
    uint32_t written = load_le32(entry + 4);
    if (id >= m_size)
        return fail(diagnostic, "used entry %u (used index %u): id %u out of range (queue size %u)", slot, m_last_used,
            id, m_size);
    SplitQueueSlot& head = m_slots[id];
    if (!head.token)
        return fail(diagnostic, "used entry %u (used index %u): id %u is not the head of a buffer in flight", slot,
            m_last_used, id);
    if (written > head.writable)
        return fail(diagnostic,
            "used entry %u (used index %u): id %u: written length %u exceeds the %u bytes "
            "the device may write",
            slot, m_last_used, id, written, head.writable);

    UsedBuffer used { head.token, written };
    free_chain(uint16_t(id));
    ++m_last_used;
    // With event index and callbacks on, ask for an interrupt at the next
    // entry; the write must land before the next read of the used index.
    if (m_event_index && !(m_available_flags & VIRTQ_AVAIL_F_NO_INTERRUPT)) {
        store_le16(m_available + used_event_offset(m_size), m_last_used);
        Barriers::full();
    }
    return used;
}

template<typename Barriers> void SplitQueueT<Barriers>::disable_callbacks()
{
    if (m_available_flags & VIRTQ_AVAIL_F_NO_INTERRUPT)
        return;
    m_available_flags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
    if (m_event_index) {
        // With event index the flags must stay 0 ("Used Buffer
        // Notification Suppression"). Put the
        // event half the index space away: the device reaches it only
        // after 32768 more completions, so at most one stray interrupt
        // for that many.
        store_le16(m_available + used_event_offset(m_size), uint16_t(m_last_used + 0x8000));
    } else {
        store_le16(m_available + kRingFlagsOffset, m_available_flags);
    }
}

template<typename Barriers> bool SplitQueueT<Barriers>::enable_callbacks()
{
    // A broken queue has nothing more to give: looking again would find
    // the entry that broke it, for ever.
    if (m_broken)
        return true;
    if (m_available_flags & VIRTQ_AVAIL_F_NO_INTERRUPT) {
        m_available_flags &= uint16_t(~VIRTQ_AVAIL_F_NO_INTERRUPT);
        if (!m_event_index)
            store_le16(m_available + kRingFlagsOffset, m_available_flags);
    }
    if (m_event_index)
        store_le16(m_available + used_event_offset(m_size), m_last_used);
    // The request must be visible before the re-check, or a buffer used in
    // between would raise no interrupt and go unseen.
    Barriers::full();
    return load_le16(m_used + kRingIndexOffset) == m_last_used;
}

template<typename Barriers> bool SplitQueueT<Barriers>::enable_callbacks_delayed()
{
    if (m_broken)
        return true;
    if (!m_event_index)
        return enable_callbacks();
    m_available_flags &= uint16_t(~VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint16_t outstanding = uint16_t(m_available_index - m_last_used);
    uint16_t wait_for = uint16_t(uint32_t(outstanding) * 3 / 4);
    store_le16(m_available + used_event_offset(m_size), uint16_t(m_last_used + wait_for));
    Barriers::full();
    return uint16_t(load_le16(m_used + kRingIndexOffset) - m_last_used) <= wait_for;
}

template<typename Barriers> Result<void*> SplitQueueT<Barriers>::detach_unused()
{
    for (; m_detach_cursor < m_size; ++m_detach_cursor) {
        SplitQueueSlot& slot = m_slots[m_detach_cursor];
        if (slot.token) {
            void* token = slot.token;
            free_chain(uint16_t(m_detach_cursor));
            ++m_detach_cursor;
            return token;
        }
    }
    // The next round starts from the beginning again.
    m_detach_cursor = 0;
    return Err(Error::ENODATA);
}

template<typename Barriers> Result<void> SplitQueueT<Barriers>::reset()
{
    if (m_in_flight > 0)
        return Err(Error::EBUSY);
    initialise_rings(0);
    return {};
}

} // namespace keel::virtio
