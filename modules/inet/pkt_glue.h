// The core's packets (keel_pkt) as the protocol library's, and back, so a
// datagram is built once, in the packet the device driver gets: udp's
// payload goes into a core packet (Output::allocate in glue.h), inet takes
// it over (keel_inet_transmit_pkt, KABI_INET_1.5) and pushes its headers
// in front, and the frame reaches the netdev core without a copy.
// Header-only: each module builds it in, and each unwraps only what it
// wrapped itself (the release function says whose it is).
#pragma once

#include <keel/keel.h>

#include "lib/net/packet.h"

namespace inet_glue {

inline void release_pkt(void* storage) { keel_pkt_free(static_cast<keel_pkt*>(storage)); }

// The library's packet over `pkt`, which it takes over (destroying it
// frees pkt); null, with pkt freed, when out of memory.
inline keel::net::PacketPtr wrap_pkt(keel_pkt* pkt)
{
    size_t headroom = keel_pkt_headroom(pkt);
    size_t length = keel_pkt_length(pkt);
    uint8_t* head = keel_pkt_data(pkt) - headroom;
    size_t size = headroom + length + keel_pkt_tailroom(pkt);
    keel::net::Packet* packet = keel::net::Packet::wrap(head, size, headroom, length, release_pkt, pkt);
    if (!packet)
        keel_pkt_free(pkt);
    return keel::net::PacketPtr(packet);
}

// The core packet under `packet` if this module wrapped it, its data made
// the library packet's data, and `packet` emptied; null (and `packet`
// left as it was) for a packet of the library's own.
inline keel_pkt* unwrap_pkt(keel::net::PacketPtr& packet)
{
    auto* pkt = static_cast<keel_pkt*>(packet->storage(release_pkt));
    if (!pkt)
        return nullptr;
    // Both describe the same bytes: move the core packet's start to the
    // library packet's, then its end.
    size_t offset = packet->headroom();
    size_t length = packet->length();
    size_t headroom = keel_pkt_headroom(pkt);
    if (offset < headroom) {
        keel_pkt_push(pkt, headroom - offset);
    } else if (offset > headroom) {
        size_t skip = offset - headroom;
        if (keel_pkt_length(pkt) < skip)
            keel_pkt_put(pkt, skip - keel_pkt_length(pkt));
        keel_pkt_pull(pkt, skip);
    }
    size_t current = keel_pkt_length(pkt);
    if (current < length)
        keel_pkt_put(pkt, length - current);
    else
        keel_pkt_trim(pkt, length);
    packet->detach_storage();
    packet = {};
    return pkt;
}

} // namespace inet_glue
