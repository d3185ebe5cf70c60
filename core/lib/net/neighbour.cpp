#include "lib/net/neighbour.h"

namespace keel::net {

NeighbourCache::Entry* NeighbourCache::find(Ipv4Address address)
{
    for (Entry& entry : m_entries) {
        if (entry.state != State::Free && entry.address == address)
            return &entry;
    }
    return nullptr;
}

const NeighbourCache::Entry* NeighbourCache::lookup(Ipv4Address address) const
{
    return const_cast<NeighbourCache*>(this)->find(address);
}

size_t NeighbourCache::size() const
{
    size_t count = 0;
    for (const Entry& entry : m_entries)
        count += entry.state != State::Free;
    return count;
}

void NeighbourCache::release(Entry& entry)
{
    m_pending_bytes -= entry.pending_bytes;
    entry.pending_bytes = 0;
    while (PacketPtr packet = entry.pending.pop()) {
        m_stats.dropped_unresolved++;
        m_sink.unresolved(move(packet));
    }
    entry.state = State::Free;
    entry.requests = 0;
}

// A free entry, or the oldest resolved one (its owner will simply ask
// again), or else the resolving one touched longest ago, its packets
// dropped: replies to addresses that never answer (spoofed sources, say)
// must not fill the table for good and keep the gateway out.
NeighbourCache::Entry* NeighbourCache::allocate(Ipv4Address address, Millis now)
{
    Entry* reachable = nullptr;
    Entry* resolving = nullptr;
    for (Entry& entry : m_entries) {
        if (entry.state == State::Free) {
            reachable = resolving = &entry;
            break;
        }
        Entry*& oldest = entry.state == State::Reachable ? reachable : resolving;
        if (!oldest || entry.updated < oldest->updated)
            oldest = &entry;
    }
    Entry* chosen = reachable ? reachable : resolving;
    if (!chosen)
        return nullptr;
    if (chosen->state != State::Free) {
        m_stats.evicted++;
        release(*chosen);
    }
    chosen->state = State::Incomplete;
    chosen->address = address;
    chosen->mac = {};
    chosen->updated = now;
    chosen->requests = 0;
    chosen->pending.set_limit(m_limits.pending_per_entry);
    return chosen;
}

void NeighbourCache::request(Entry& entry, Millis now)
{
    entry.requests++;
    entry.updated = now;
    m_stats.requests_sent++;
    m_sink.send_request(entry.address);
}

void NeighbourCache::output(Ipv4Address next_hop, PacketPtr packet, Millis now)
{
    Entry* entry = find(next_hop);
    if (entry && entry->state == State::Reachable) {
        m_sink.send(move(packet), entry->mac);
        return;
    }
    bool fresh = false;
    if (!entry) {
        entry = allocate(next_hop, now);
        if (!entry) {
            m_stats.dropped_table_full++;
            return;
        }
        fresh = true;
    }
    packet->next_hop = next_hop;
    packet->queued_at = now;
    size_t length = packet->length();
    if (entry->pending_bytes + length > m_limits.pending_bytes_per_entry
        || m_pending_bytes + length > m_limits.pending_bytes_total) {
        m_stats.dropped_queue_full++;
        if (fresh)
            request(*entry, now);
        return;
    }
    if (PacketPtr refused = entry->pending.push(move(packet))) {
        m_stats.dropped_queue_full++;
        return;
    }
    entry->pending_bytes += length;
    m_pending_bytes += length;
    m_stats.queued++;
    if (fresh)
        request(*entry, now);
}

void NeighbourCache::learn(Ipv4Address address, const MacAddress& mac, bool create, Millis now)
{
    Entry* entry = find(address);
    if (!entry) {
        if (!create)
            return;
        entry = allocate(address, now);
        if (!entry) {
            m_stats.dropped_table_full++;
            return;
        }
    }
    entry->state = State::Reachable;
    entry->mac = mac;
    entry->updated = now;
    entry->requests = 0;
    m_pending_bytes -= entry->pending_bytes;
    entry->pending_bytes = 0;
    while (PacketPtr packet = entry->pending.pop())
        m_sink.send(move(packet), mac);
}

void NeighbourCache::tick(Millis now)
{
    for (Entry& entry : m_entries) {
        if (entry.state == State::Incomplete && now - entry.updated >= m_limits.retry_interval) {
            if (entry.requests >= m_limits.requests)
                release(entry);
            else
                request(entry, now);
        } else if (entry.state == State::Reachable && now - entry.updated >= m_limits.reachable_time) {
            release(entry);
        }
    }
}

void NeighbourCache::flush()
{
    for (Entry& entry : m_entries) {
        if (entry.state != State::Free)
            release(entry);
    }
}

} // namespace keel::net
