#include "lib/net/icmp_protocol.h"

#include "lib/base/string.h"

namespace keel::net {

void IcmpProtocol::input(const Datagram& datagram, Millis now)
{
    Result<IcmpMessage> parsed = parse_icmp(datagram.payload(), datagram.payload_length(), nullptr);
    if (parsed.is_error()) {
        m_stats.dropped_malformed++;
        return;
    }
    const IcmpMessage& message = parsed.value();
    const Ipv4Header& header = *datagram.header;
    switch (message.type) {
    case kIcmpEchoRequest: {
        // RFC 1122 3.2.2.6: an echo request to a broadcast address may be
        // ignored, and is (as Linux does by default).
        if (datagram.to_broadcast)
            return;
        m_stats.echo_requests++;
        size_t length = datagram.payload_length();
        PacketPtr reply(Packet::create(Ipv4Interface::kHeadroom, length));
        if (!reply) {
            m_stats.dropped_no_memory++;
            return;
        }
        uint8_t* out = reply->put(length);
        memcpy(out + kIcmpHeaderSize, message.body, message.body_length);
        write_icmp(out, kIcmpEchoReply, 0, message.rest, message.body_length);
        // From the address that was asked (any of 127/8 on a loopback).
        (void)m_output.output(move(reply), kIpProtocolIcmp, header.destination, header.source, now);
        return;
    }
    case kIcmpEchoReply:
        m_stats.echo_replies_received++;
        m_last_reply = { header.source, message.echo_identifier(), message.echo_sequence(), message.body_length,
            header.ttl, now };
        return;
    case kIcmpDestinationUnreachable:
    case kIcmpTimeExceeded: {
        m_stats.errors_received++;
        if (datagram.to_broadcast)
            return; // an error is sent to the host whose datagram failed, never broadcast
        Result<IcmpReport> report = parse_icmp_report(message, header.source, nullptr);
        // The quoted datagram left this host from the address the error
        // came to; a quote that says otherwise is about no datagram of ours.
        if (report.is_error() || report.value().source != header.destination) {
            m_stats.errors_bad_quote++;
            return;
        }
        if (m_reports) {
            m_stats.errors_reported++;
            m_reports->icmp_report(report.value(), now);
        }
        return;
    }
    default: return;
    }
}

void IcmpProtocol::icmp_error(uint8_t type, uint8_t code, const Datagram& datagram, Millis now)
{
    const Ipv4Header& header = *datagram.header;
    if (!icmp_error_allowed(header, datagram.bytes, header.total_length, datagram.to_broadcast))
        return;
    if (!m_limiter.allow(now)) {
        m_stats.rate_limited++;
        return;
    }
    PacketPtr message = make_icmp_error(
        type, code, 0, datagram.bytes, header.total_length, header.header_length, Ipv4Interface::kHeadroom);
    if (!message) {
        m_stats.dropped_no_memory++;
        return;
    }
    m_stats.errors_sent++;
    (void)m_output.output(move(message), kIpProtocolIcmp, 0, header.source, now);
}

Result<void> IcmpProtocol::ping(
    Ipv4Address destination, uint16_t identifier, uint16_t sequence, size_t size, Millis now)
{
    if (size > kIpv4MaxDatagram - kIpv4HeaderSize - kIcmpHeaderSize)
        return Err(Error::EMSGSIZE);
    PacketPtr request(Packet::create(Ipv4Interface::kHeadroom, kIcmpHeaderSize + size));
    if (!request)
        return Err(Error::ENOMEM);
    uint8_t* out = request->put(kIcmpHeaderSize + size);
    for (size_t i = 0; i < size; i++)
        out[kIcmpHeaderSize + i] = uint8_t(i);
    write_icmp(out, kIcmpEchoRequest, 0, uint32_t(identifier) << 16 | sequence, size);
    return m_output.output(move(request), kIpProtocolIcmp, 0, destination, now);
}

} // namespace keel::net
