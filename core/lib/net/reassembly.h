// IPv4 fragment reassembly (RFC 791 3.2, RFC 815's hole bookkeeping done
// with a sorted list). Hostile input is expected here, so:
// - a datagram in progress lives at most `timeout` (RFC 1122 suggests 60
//   to 120 s; Linux uses 30 s);
// - at most `datagrams` are in progress and they hold at most `bytes` of
//   fragment data together; a fragment that would go beyond either makes
//   room by evicting the datagrams that started first (as Linux does past
//   its memory threshold), so that fragments which never complete cannot
//   keep every later datagram out; a datagram that needs more than
//   `bytes`, or more than `fragments_per_datagram` pieces, is dropped;
// - a fragment overlapping another (RFC 5722's rule, which Linux applies
//   to IPv4 too) discards the whole datagram; an exact duplicate is ignored;
// - fragments disagreeing about the end, a non-final fragment whose
//   length is not a multiple of 8, or a datagram longer than 65535 bytes
//   discard it too.
// Every drop is counted.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/net/ipv4.h"
#include "lib/net/packet.h"

namespace keel::net {

class Reassembler {
public:
    struct Limits {
        size_t datagrams = 16;
        size_t bytes = 256 * 1024;
        size_t fragments_per_datagram = 64;
        Millis timeout = 30000;
    };
    struct Stats {
        uint64_t fragments = 0;
        uint64_t reassembled = 0;
        uint64_t duplicates = 0;
        uint64_t dropped_overlap = 0;
        uint64_t dropped_inconsistent = 0;
        uint64_t dropped_too_big = 0;
        uint64_t dropped_limit = 0;
        uint64_t dropped_timeout = 0;
        uint64_t timeouts_reported = 0; // the first fragment had come: the sink was told
        uint64_t dropped_no_memory = 0;
        uint64_t evicted = 0; // datagrams given up on to make room for newer ones
    };
    static constexpr size_t kMaxDatagrams = 64;

    // Told about each datagram given up on after its first fragment came,
    // so that a time exceeded can be sent about it (RFC 792; RFC 1122
    // 3.3.2). `bytes` is the start of the first fragment: a 20-byte
    // header (`header`, its options left out, its total length the
    // fragment's) and at most the first 8 bytes of its payload, all an
    // ICMP error quotes (parse_ipv4_start reads it).
    class TimeoutSink {
    public:
        virtual ~TimeoutSink() = default;
        virtual void reassembly_timed_out(const Ipv4Header& header, const uint8_t* bytes, Millis now) = 0;
    };

    Reassembler()
        : Reassembler(Limits())
    {
    }
    explicit Reassembler(Limits limits);
    ~Reassembler() { clear(); }
    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;

    // One fragment: its parsed header and its payload. Returns the whole
    // datagram once every piece is there, as a packet starting with a
    // fresh 20-byte header (options are not carried over) and `headroom`
    // bytes free in front; otherwise nothing.
    PacketPtr input(const Ipv4Header& header, const uint8_t* payload, size_t length, Millis now, size_t headroom = 64);
    // Drops datagrams that waited too long.
    void tick(Millis now);
    void clear();
    void set_timeout_sink(TimeoutSink* sink) { m_timeout_sink = sink; }

    size_t datagrams_in_progress() const;
    size_t bytes_held() const { return m_bytes; }
    const Stats& stats() const { return m_stats; }

private:
    struct Datagram {
        bool used = false;
        Ipv4Header first; // the header of the fragment at offset 0, once seen
        bool have_first = false;
        Ipv4Address source = 0, destination = 0;
        uint16_t identification = 0;
        uint8_t protocol = 0;
        size_t total = 0; // known once the last fragment came
        bool have_last = false;
        size_t received = 0;
        size_t count = 0;
        Millis started = 0;
        IntrusiveList<Packet, &Packet::node> fragments; // sorted by offset
    };

    Datagram* find_or_start(const Ipv4Header& header, Millis now);
    Datagram* oldest(const Datagram* keep);
    void evict(Datagram& datagram);
    void discard(Datagram& datagram);
    void report_timeout(const Datagram& datagram, Millis now);
    PacketPtr assemble(Datagram& datagram, size_t headroom);

    Limits m_limits;
    Stats m_stats;
    size_t m_bytes = 0;
    TimeoutSink* m_timeout_sink = nullptr;
    Datagram m_datagrams[kMaxDatagrams];
};

} // namespace keel::net
