// Packet buffers: one allocation holding the bookkeeping and the bytes,
// with headroom before the data (so each layer going down pushes its
// header without copying) and tailroom after it.
//
//     head           data          data+length          end
//      | headroom     | the packet   | tailroom           |
//
// A packet has one owner at a time (PacketPtr); queues hold packets by
// their intrusive node, so queueing never allocates.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/intrusive_list.h"
#include "lib/base/own.h"
#include "lib/net/bytes.h"
#include "lib/net/platform.h"

namespace keel::net {

class Packet {
public:
    // The largest packet the library builds or accepts: an IPv4 datagram
    // plus room for link headers.
    static constexpr size_t kMaxCapacity = 65535 + 128;

    // A packet with `headroom` bytes before an empty data area that can
    // grow to `capacity` bytes; nullptr when out of memory or too large.
    static Packet* create(size_t headroom, size_t capacity);
    // A packet holding a copy of `bytes`, with `headroom` in front.
    static Packet* copy_of(const uint8_t* bytes, size_t length, size_t headroom);
    // A packet over bytes someone else owns (a core packet): `size` bytes
    // at `head`, the data `length` bytes at `offset`. Destroying it calls
    // `release(storage)`, unless detach_storage took the bytes back first.
    // nullptr when out of memory (release is not called then).
    using ReleaseStorage = void (*)(void* storage);
    static Packet* wrap(
        uint8_t* head, size_t size, size_t offset, size_t length, ReleaseStorage release, void* storage);
    static void destroy(Packet* packet);

    // The storage wrap was given, if it was given with `release` (each
    // owner asks with its own function); nullptr otherwise.
    void* storage(ReleaseStorage release) const { return m_release == release ? m_storage : nullptr; }
    // Gives the storage back to the caller: destroying the packet then
    // only frees the packet.
    void detach_storage() { m_release = nullptr; }

    uint8_t* data() { return m_head + m_offset; }
    const uint8_t* data() const { return m_head + m_offset; }
    size_t length() const { return m_length; }
    size_t headroom() const { return m_offset; }
    size_t tailroom() const { return m_size - m_offset - m_length; }

    // Prepends n bytes (a header); nullptr when the headroom is too small.
    uint8_t* push(size_t n);
    // Removes n bytes from the front (a parsed header); nullptr when the
    // packet is shorter. Returns the old front.
    uint8_t* pull(size_t n);
    // Appends n bytes; nullptr when the tailroom is too small.
    uint8_t* put(size_t n);
    // Cuts the packet to `length` bytes (link padding after an IP
    // datagram); false when it is already shorter.
    bool trim(size_t length);

    // For whoever holds the packet in a queue.
    IntrusiveListNode node;
    // Free for the current owner: the next hop a packet waits to resolve,
    // the time it was queued.
    Ipv4Address next_hop = 0;
    Millis queued_at = 0;
    uint32_t position = 0; // a fragment's offset, a segment's sequence number
    uint8_t flags = 0;     // a segment's TCP flags while it waits out of order

private:
    Packet(uint8_t* head, size_t size, size_t offset)
        : m_head(head)
        , m_size(size)
        , m_offset(offset)
    {
    }

    uint8_t* m_head;
    size_t m_size;
    size_t m_offset;
    size_t m_length = 0;
    ReleaseStorage m_release = nullptr;
    void* m_storage = nullptr;
};

struct PacketDelete {
    void operator()(Packet* packet) const { Packet::destroy(packet); }
};
using PacketPtr = OwnPtr<Packet, PacketDelete>;

// A FIFO of packets with a limit; a full queue refuses (the caller counts
// the drop) instead of growing.
class PacketQueue {
public:
    explicit PacketQueue(size_t limit = 64)
        : m_limit(limit)
    {
    }
    ~PacketQueue() { clear(); }
    PacketQueue(const PacketQueue&) = delete;
    PacketQueue& operator=(const PacketQueue&) = delete;

    // Takes the packet; hands it back (still owned by the caller) when full.
    PacketPtr push(PacketPtr packet);
    // Puts a packet back at the front (it was popped and could not be
    // handled yet); never refused, so the queue may briefly exceed its limit.
    void push_front(PacketPtr packet);
    PacketPtr pop();
    Packet* front() { return m_list.is_empty() ? nullptr : m_list.first(); }
    size_t size() const { return m_size; }
    size_t limit() const { return m_limit; }
    void set_limit(size_t limit) { m_limit = limit; }
    bool is_empty() const { return m_size == 0; }
    void clear();

private:
    IntrusiveList<Packet, &Packet::node> m_list;
    size_t m_size = 0;
    size_t m_limit;
};

} // namespace keel::net
