// The neighbour cache: which MAC address an IPv4 next hop has (RFC 826,
// with the timers of RFC 1122 2.3.2.1). Packets for a next hop that is
// not resolved yet wait in a short per-entry queue while requests go out
// once a second; after the last unanswered request the queue is dropped
// and the entry forgotten. Everything is bounded: the table, the queue of
// each entry, the retries.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/net/ethernet.h"
#include "lib/net/packet.h"

namespace keel::net {

class NeighbourCache {
public:
    struct Limits {
        // What may wait for resolutions: a whole fragmented 64 KiB datagram
        // for one neighbour (Linux's unres_qlen_bytes is about as much), a
        // bound over all of them.
        size_t pending_per_entry = 64;
        size_t pending_bytes_per_entry = 96 * 1024;
        size_t pending_bytes_total = 256 * 1024;
        uint32_t requests = 3; // requests before giving up
        Millis retry_interval = 1000;
        Millis reachable_time = 60000; // how long an answer is trusted
    };
    static constexpr size_t kEntries = 64;

    // What the cache asks of the interface it serves.
    class Sink {
    public:
        virtual ~Sink() = default;
        virtual void send_request(Ipv4Address target) { (void)target; }
        virtual void send(PacketPtr packet, const MacAddress& destination)
        {
            (void)packet;
            (void)destination;
        }
        // A packet whose next hop never answered (ICMP host unreachable
        // could be sent for it); the default drops it.
        virtual void unresolved(PacketPtr packet) { (void)packet; }
    };

    enum class State : uint8_t { Free, Incomplete, Reachable };
    struct Entry {
        State state = State::Free;
        Ipv4Address address = 0;
        MacAddress mac;
        Millis updated = 0;    // when the answer came or the last request went out
        uint32_t requests = 0; // sent so far while incomplete
        size_t pending_bytes = 0;
        PacketQueue pending { 0 }; // limit set when the entry is taken
    };

    struct Stats {
        uint64_t requests_sent = 0;
        uint64_t queued = 0;
        uint64_t dropped_queue_full = 0;
        uint64_t dropped_table_full = 0;
        uint64_t dropped_unresolved = 0;
        uint64_t evicted = 0;
    };

    explicit NeighbourCache(Sink& sink)
        : NeighbourCache(sink, Limits())
    {
    }
    NeighbourCache(Sink& sink, Limits limits)
        : m_sink(sink)
        , m_limits(limits)
    {
    }

    // Sends `packet` to `next_hop`: at once when its MAC is known, after
    // resolution otherwise (or never: then it is counted and dropped).
    void output(Ipv4Address next_hop, PacketPtr packet, Millis now);
    // An ARP packet said `address` is at `mac`. RFC 826's merge: an
    // existing entry is updated; a new one is created only when `create`
    // (the packet was addressed to us). Releases the entry's queue.
    void learn(Ipv4Address address, const MacAddress& mac, bool create, Millis now);
    // Retries requests, gives up on silent neighbours, expires answers.
    void tick(Millis now);

    const Entry* lookup(Ipv4Address address) const;
    // Entry `index` (below kEntries), free or not, for listings (ip neigh).
    const Entry& entry(size_t index) const { return m_entries[index]; }
    size_t size() const;
    const Stats& stats() const { return m_stats; }
    size_t pending_bytes() const { return m_pending_bytes; }
    void flush();

private:
    Entry* find(Ipv4Address address);
    Entry* allocate(Ipv4Address address, Millis now);
    void release(Entry& entry);
    void request(Entry& entry, Millis now);

    Sink& m_sink;
    Limits m_limits;
    Stats m_stats;
    size_t m_pending_bytes = 0;
    Entry m_entries[kEntries];
};

} // namespace keel::net
