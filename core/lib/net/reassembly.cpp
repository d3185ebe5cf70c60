#include "lib/net/reassembly.h"

#include "lib/base/string.h"

namespace keel::net {

Reassembler::Reassembler(Limits limits)
    : m_limits(limits)
{
    m_limits.datagrams = min(m_limits.datagrams, kMaxDatagrams);
}

size_t Reassembler::datagrams_in_progress() const
{
    size_t count = 0;
    for (const Datagram& datagram : m_datagrams)
        count += datagram.used;
    return count;
}

void Reassembler::discard(Datagram& datagram)
{
    while (Packet* fragment = datagram.fragments.pop_front()) {
        m_bytes -= fragment->length();
        Packet::destroy(fragment);
    }
    datagram.used = false;
}

void Reassembler::clear()
{
    for (Datagram& datagram : m_datagrams) {
        if (datagram.used)
            discard(datagram);
    }
}

void Reassembler::tick(Millis now)
{
    for (Datagram& datagram : m_datagrams) {
        if (datagram.used && now - datagram.started >= m_limits.timeout) {
            m_stats.dropped_timeout++;
            if (datagram.have_first && m_timeout_sink)
                report_timeout(datagram, now);
            discard(datagram);
        }
    }
}

void Reassembler::report_timeout(const Datagram& datagram, Millis now)
{
    const Packet* first = datagram.fragments.first();
    if (!first || first->position != 0)
        return;
    size_t quoted = min(first->length(), size_t(8));
    Ipv4Header header = datagram.first;
    header.header_length = kIpv4HeaderSize;
    header.total_length = uint16_t(kIpv4HeaderSize + first->length());
    uint8_t bytes[kIpv4HeaderSize + 8];
    write_ipv4(bytes, header);
    memcpy(bytes + kIpv4HeaderSize, first->data(), quoted);
    m_stats.timeouts_reported++;
    m_timeout_sink->reassembly_timed_out(header, bytes, now);
}

// The datagram in progress that started first, other than `keep`.
Reassembler::Datagram* Reassembler::oldest(const Datagram* keep)
{
    Datagram* found = nullptr;
    for (size_t i = 0; i < m_limits.datagrams; i++) {
        Datagram& datagram = m_datagrams[i];
        if (datagram.used && &datagram != keep && (!found || datagram.started < found->started))
            found = &datagram;
    }
    return found;
}

void Reassembler::evict(Datagram& datagram)
{
    m_stats.evicted++;
    discard(datagram);
}

Reassembler::Datagram* Reassembler::find_or_start(const Ipv4Header& header, Millis now)
{
    Datagram* free_slot = nullptr;
    for (size_t i = 0; i < m_limits.datagrams; i++) {
        Datagram& datagram = m_datagrams[i];
        if (!datagram.used) {
            if (!free_slot)
                free_slot = &datagram;
            continue;
        }
        if (datagram.source == header.source && datagram.destination == header.destination
            && datagram.identification == header.identification && datagram.protocol == header.protocol)
            return &datagram;
    }
    if (!free_slot && m_limits.datagrams > 0) {
        free_slot = oldest(nullptr);
        evict(*free_slot);
    }
    if (!free_slot)
        return nullptr;
    Datagram& datagram = *free_slot;
    datagram.used = true;
    datagram.have_first = false;
    datagram.source = header.source;
    datagram.destination = header.destination;
    datagram.identification = header.identification;
    datagram.protocol = header.protocol;
    datagram.total = 0;
    datagram.have_last = false;
    datagram.received = 0;
    datagram.count = 0;
    datagram.started = now;
    return &datagram;
}

PacketPtr Reassembler::input(
    const Ipv4Header& header, const uint8_t* payload, size_t length, Millis now, size_t headroom)
{
    m_stats.fragments++;
    tick(now);
    size_t offset = header.fragment_offset();
    size_t end = offset + length;
    bool last = !header.more_fragments();
    if (end + kIpv4HeaderSize > kIpv4MaxDatagram) {
        m_stats.dropped_too_big++;
        return {};
    }
    if (length == 0 || (!last && length % 8 != 0)) {
        m_stats.dropped_inconsistent++;
        return {};
    }
    Datagram* datagram = find_or_start(header, now);
    if (!datagram) {
        m_stats.dropped_limit++;
        return {};
    }
    if (datagram->have_last && (end > datagram->total || (last && end != datagram->total))) {
        m_stats.dropped_inconsistent++;
        discard(*datagram);
        return {};
    }
    // Where the fragment goes, and whether it touches another.
    Packet* after = nullptr;
    for (Packet& fragment : datagram->fragments) {
        size_t start = fragment.position, stop = start + fragment.length();
        if (start == offset && stop == end && memcmp(fragment.data(), payload, length) == 0) {
            m_stats.duplicates++;
            return {};
        }
        if (start < end && offset < stop) {
            m_stats.dropped_overlap++;
            discard(*datagram);
            return {};
        }
        if (start > offset) {
            after = &fragment;
            break;
        }
    }
    if (last) {
        // Everything already held must end before the last fragment does.
        Packet* tail = datagram->fragments.last();
        if (tail && tail->position + tail->length() > end) {
            m_stats.dropped_inconsistent++;
            discard(*datagram);
            return {};
        }
    }
    while (m_bytes + length > m_limits.bytes && datagram->count < m_limits.fragments_per_datagram) {
        Datagram* older = oldest(datagram);
        if (!older)
            break;
        evict(*older);
    }
    if (m_bytes + length > m_limits.bytes || datagram->count >= m_limits.fragments_per_datagram) {
        m_stats.dropped_limit++;
        if (!datagram->count)
            datagram->used = false;
        return {};
    }
    Packet* fragment = Packet::copy_of(payload, length, 0);
    if (!fragment) {
        m_stats.dropped_no_memory++;
        if (!datagram->count)
            datagram->used = false;
        return {};
    }
    fragment->position = uint32_t(offset);
    if (after)
        datagram->fragments.insert_before(*after, *fragment);
    else
        datagram->fragments.push_back(*fragment);
    m_bytes += length;
    datagram->received += length;
    datagram->count++;
    if (offset == 0) {
        datagram->first = header;
        datagram->have_first = true;
    }
    if (last) {
        datagram->have_last = true;
        datagram->total = end;
    }
    if (!datagram->have_last || datagram->received != datagram->total)
        return {};
    // No overlaps and the sizes add up: the pieces tile [0, total).
    return assemble(*datagram, headroom);
}

PacketPtr Reassembler::assemble(Datagram& datagram, size_t headroom)
{
    PacketPtr whole(Packet::create(headroom, kIpv4HeaderSize + datagram.total));
    if (!whole) {
        m_stats.dropped_no_memory++;
        discard(datagram);
        return {};
    }
    Ipv4Header header = datagram.first;
    header.header_length = kIpv4HeaderSize;
    header.total_length = uint16_t(kIpv4HeaderSize + datagram.total);
    header.flags_offset = 0;
    write_ipv4(whole->put(kIpv4HeaderSize), header);
    for (Packet& fragment : datagram.fragments)
        memcpy(whole->put(fragment.length()), fragment.data(), fragment.length());
    m_stats.reassembled++;
    discard(datagram);
    return whole;
}

} // namespace keel::net
