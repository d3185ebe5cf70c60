// Ring memory for split-virtqueue tests and the fuzzer: the three areas in
// one aligned allocation, and a fake device that reads what the driver
// published and writes used entries the way a device would (or, for the
// malicious cases, however the test likes).
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/virtio/split_queue.h"

namespace virtio_test {

using namespace keel::virtio;

// The device addresses the queue is given: a fake base plus the offset.
constexpr uint64_t kDeviceBase = 0x4000'0000;

struct RingMemory {
    explicit RingMemory(uint32_t queue_size)
        : size(queue_size)
        , layout(split_queue_layout(queue_size))
    {
        bytes = static_cast<uint8_t*>(aligned_alloc(4096, (layout.total + 4095) & ~size_t(4095)));
        memset(bytes, 0xa5, layout.total); // create() must initialise it
        slots.resize(queue_size);
    }
    ~RingMemory() { free(bytes); }
    RingMemory(const RingMemory&) = delete;
    RingMemory& operator=(const RingMemory&) = delete;

    SplitQueueConfig config(bool event_index = false, uint16_t start_index = 0, bool indirect = false)
    {
        SplitQueueConfig c;
        c.size = size;
        c.descriptors = { bytes + layout.descriptors, kDeviceBase + layout.descriptors };
        c.available = { bytes + layout.available, kDeviceBase + layout.available };
        c.used = { bytes + layout.used, kDeviceBase + layout.used };
        c.slots = slots.data();
        c.event_index = event_index;
        c.indirect = indirect;
        c.start_index = start_index;
        return c;
    }

    uint8_t* descriptors() { return bytes + layout.descriptors; }
    uint8_t* available() { return bytes + layout.available; }
    uint8_t* used() { return bytes + layout.used; }

    uint16_t avail_flags() { return load_le16(available()); }
    uint16_t avail_index() { return load_le16(available() + 2); }
    uint16_t avail_entry(uint32_t slot) { return load_le16(available() + available_entry_offset(slot)); }
    uint16_t used_event() { return load_le16(available() + used_event_offset(size)); }
    uint16_t used_index() { return load_le16(used() + 2); }
    void set_used_index(uint16_t index) { store_le16(used() + 2, index); }
    void set_used_flags(uint16_t flags) { store_le16(used(), flags); }
    void set_avail_event(uint16_t index) { store_le16(used() + avail_event_offset(size), index); }
    void set_used_entry(uint32_t slot, uint32_t id, uint32_t length)
    {
        store_le32(used() + used_entry_offset(slot), id);
        store_le32(used() + used_entry_offset(slot) + 4, length);
    }

    uint32_t size;
    SplitQueueLayout layout;
    uint8_t* bytes;
    std::vector<SplitQueueSlot> slots;
};

struct Descriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};

inline Descriptor read_descriptor(const uint8_t* table, uint32_t index)
{
    const uint8_t* p = table + size_t(index) * kDescriptorSize;
    Descriptor d;
    memcpy(&d.address, p, 8);
    memcpy(&d.length, p + 8, 4);
    memcpy(&d.flags, p + 12, 2);
    memcpy(&d.next, p + 14, 2);
    return d;
}

// A well-behaved device over RingMemory: takes chains in order, completes
// them in whatever order the test says.
struct FakeDevice {
    explicit FakeDevice(RingMemory& memory, uint16_t start_index = 0)
        : memory(memory)
        , last_available(start_index)
        , used_index(start_index)
    {
    }

    struct Chain {
        uint16_t head;
        std::vector<Descriptor> readable;
        std::vector<Descriptor> writable;
        bool indirect = false;
        uint32_t writable_bytes() const
        {
            uint32_t total = 0;
            for (const Descriptor& d : writable)
                total += d.length;
            return total;
        }
    };

    // Maps a device address inside the ring allocation back to memory
    // (indirect tables live elsewhere: the test registers them).
    const uint8_t* indirect_table = nullptr;
    uint64_t indirect_device_address = 0;
    // With a span: every table inside [address, address + span) (a pool).
    uint64_t indirect_span = 0;

    // The chains published since the last call, walked as a device would.
    std::vector<Chain> take_available()
    {
        std::vector<Chain> chains;
        uint16_t available = memory.avail_index();
        while (last_available != available) {
            uint16_t head = memory.avail_entry(last_available & (memory.size - 1));
            ++last_available;
            Chain chain;
            chain.head = head;
            Descriptor d = read_descriptor(memory.descriptors(), head);
            const uint8_t* table = memory.descriptors();
            if (d.flags & VIRTQ_DESC_F_INDIRECT) {
                chain.indirect = true;
                bool inside = indirect_span ? d.address >= indirect_device_address
                        && d.address + d.length <= indirect_device_address + indirect_span
                                            : d.address == indirect_device_address;
                if (!inside || !indirect_table)
                    throw "indirect table at an unknown device address";
                table = indirect_table + (d.address - indirect_device_address);
                d = read_descriptor(table, 0);
            }
            for (size_t guard = 0;; ++guard) {
                if (guard > memory.size + 1)
                    throw "descriptor chain loops";
                (d.flags & VIRTQ_DESC_F_WRITE ? chain.writable : chain.readable).push_back(d);
                if (!(d.flags & VIRTQ_DESC_F_NEXT))
                    break;
                d = read_descriptor(table, d.next);
            }
            chains.push_back(chain);
        }
        return chains;
    }

    // Writes a used entry and moves the used index, as a device does; says
    // whether the device would interrupt the driver now.
    bool complete(uint16_t head, uint32_t written, bool event_index)
    {
        uint16_t old = used_index;
        memory.set_used_entry(used_index & (memory.size - 1), head, written);
        ++used_index;
        memory.set_used_index(used_index);
        if (event_index)
            return vring_need_event(memory.used_event(), used_index, old);
        return !(memory.avail_flags() & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }

    RingMemory& memory;
    uint16_t last_available;
    uint16_t used_index;
};

} // namespace virtio_test
