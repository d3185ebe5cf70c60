// What icmp, udp and tcp share to run the protocol library over inet's
// KABI_INET_1.3: output through keel_inet_output, inet's datagrams as the
// library's, ICMP errors through inet's hook and received ones back to
// their protocol (1.4), the state names ss shows.
// Header-only: each module builds it in.
#pragma once

#include <keel/inet.h>

#include "lib/base/string.h"
#include "lib/net/interface.h"
#include "pkt_glue.h"

namespace inet_glue {

inline keel::net::Millis now_ms() { return keel_monotonic_ns() / 1000000; }

inline int32_t errno_of(keel::Error error) { return -int32_t(error); }

// Holds a module's mutex for a scope: the library's objects are not
// thread-safe, and inet's dispatch, the timer threads and the callers of
// the exported functions and socket operations all reach them.
class ScopedLock {
public:
    explicit ScopedLock(keel_mutex* lock)
        : m_lock(lock)
    {
        keel_mutex_lock(lock);
    }
    ~ScopedLock() { keel_mutex_unlock(m_lock); }
    ScopedLock(const ScopedLock&) = delete;
    ScopedLock& operator=(const ScopedLock&) = delete;

private:
    keel_mutex* m_lock;
};

// The library's output: a payload it built in a core packet (allocate)
// handed to inet as it is (keel_inet_transmit_pkt, KABI_INET_1.5), any
// other copied into one keel_inet_output, or keel_inet_transmit
// (KABI_INET_1.4: EAGAIN when the device's transmit queue refused it) for
// a protocol that waits for room.
class Output : public keel::net::Ipv4Output {
public:
    explicit Output(keel_inet_output_fn* send = keel_inet_output)
        : m_send(send)
    {
    }

    keel::net::PacketPtr allocate(size_t headroom, size_t capacity) override
    {
        keel_pkt* pkt = keel_pkt_alloc(headroom > KEEL_NET_HEADROOM ? headroom : KEEL_NET_HEADROOM, capacity);
        return pkt ? wrap_pkt(pkt) : keel::net::PacketPtr();
    }

    keel::Result<void> output(keel::net::PacketPtr payload, uint8_t protocol, keel::net::Ipv4Address source,
        keel::net::Ipv4Address destination, keel::net::Millis) override
    {
        int32_t status;
        if (keel_pkt* pkt = unwrap_pkt(payload)) {
            status = keel_inet_transmit_pkt(protocol, source, destination, pkt);
            if (status == -KEEL_EAGAIN && m_send == keel_inet_output)
                status = 0; // keel_inet_output's way: the refused frame is counted, not reported
        } else {
            status = m_send(protocol, source, destination, payload->data(), payload->length());
        }
        if (status)
            return keel::Err(keel::Error(-status));
        return {};
    }

private:
    keel_inet_output_fn* m_send;
};

// Runs `handle` on `datagram` (as inet describes it) as the library's
// Datagram; not at all when its bytes do not parse (they always do: inet
// checked them).
template<typename Handle> void as_library(const keel_inet_datagram& datagram, Handle handle)
{
    auto parsed = keel::net::parse_ipv4(datagram.bytes, datagram.total_length, nullptr);
    if (parsed.is_error())
        return;
    const keel::net::Ipv4Header& header = parsed.value();
    handle(keel::net::Datagram { &header, datagram.bytes, datagram.broadcast != 0 });
}

// As above for the datagram an ICMP error is about, of which `bytes` may
// hold only the start: reassembly's time exceeded quotes the first 28
// bytes of a longer fragment, its header as it was. The library reads no
// more of it than `total_length` says is at hand.
template<typename Handle> void as_library_quote(const keel_inet_datagram& datagram, Handle handle)
{
    auto parsed = keel::net::parse_ipv4_start(datagram.bytes, datagram.total_length, nullptr);
    if (parsed.is_error())
        return;
    keel::net::Ipv4Header header = parsed.value();
    header.total_length = uint16_t(keel::min<uint32_t>(header.total_length, datagram.total_length));
    handle(keel::net::Datagram { &header, datagram.bytes, datagram.broadcast != 0 });
}

// The ICMP errors the library asks for, through inet's hook.
class IcmpErrors : public keel::net::IcmpErrorSink {
public:
    void icmp_error(uint8_t type, uint8_t code, const keel::net::Datagram& datagram, keel::net::Millis) override
    {
        const keel::net::Ipv4Header& header = *datagram.header;
        keel_inet_datagram about {};
        about.size = sizeof(about);
        about.source = header.source;
        about.destination = header.destination;
        about.bytes = datagram.bytes;
        about.header_length = header.header_length;
        about.total_length = header.total_length;
        about.protocol = header.protocol;
        about.ttl = header.ttl;
        about.broadcast = datagram.to_broadcast ? 1 : 0;
        (void)keel_inet_icmp_error(type, code, &about);
    }
};

// A received ICMP error as inet's KABI carries it, and back: icmp fills
// one from the library's report (copying the quoted bytes into `quote`,
// since the library's pointer dies with the call) and hands it to inet
// outside its own lock; the quoted datagram's protocol reads it back.
struct IcmpReportCopy {
    keel_inet_icmp_report report {};
    uint8_t quote[64] = {};
    bool taken = false;
};

// The fields the library's report and inet's share, by name.
template<typename To, typename From> void copy_report(To& to, const From& from)
{
    to.type = from.type;
    to.code = from.code;
    to.next_hop_mtu = from.next_hop_mtu;
    to.reporter = from.reporter;
    to.protocol = from.protocol;
    to.source = from.source;
    to.destination = from.destination;
    to.quoted_total_length = decltype(to.quoted_total_length)(from.quoted_total_length);
}

class IcmpReports : public keel::net::IcmpReportSink {
public:
    void icmp_report(const keel::net::IcmpReport& from, keel::net::Millis) override
    {
        keel_inet_icmp_report& to = copy.report;
        to.size = sizeof(to);
        copy_report(to, from);
        size_t length = keel::min(from.transport_length, sizeof(copy.quote));
        memcpy(copy.quote, from.transport, length);
        to.transport = copy.quote;
        to.transport_length = uint32_t(length);
        copy.taken = true;
    }
    IcmpReportCopy copy;
};

inline keel::net::IcmpReport as_library(const keel_inet_icmp_report& from)
{
    keel::net::IcmpReport to;
    copy_report(to, from);
    to.transport = from.transport;
    to.transport_length = from.transport_length;
    return to;
}

// keel_socket_info.state = `text` (at most 15 characters), for ss.
inline void copy_state(keel_socket_info& info, const char* text)
{
    size_t length = strlen(text);
    if (length >= sizeof(info.state))
        length = sizeof(info.state) - 1;
    memcpy(info.state, text, length);
    info.state[length] = 0;
}

} // namespace inet_glue
