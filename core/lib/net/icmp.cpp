#include "lib/net/icmp.h"

#include "lib/base/string.h"
#include "lib/net/checksum.h"

namespace keel::net {

Result<IcmpMessage> parse_icmp(const uint8_t* bytes, size_t length, Diagnostic* diagnostic)
{
    if (length < kIcmpHeaderSize) {
        diagnose(diagnostic, "icmp: %zu bytes, shorter than the header", length);
        return Err(Error::EBADMSG);
    }
    if (internet_checksum(bytes, length) != 0) {
        diagnose(diagnostic, "icmp: bad checksum %#06x", load16(bytes + 2));
        return Err(Error::EBADMSG);
    }
    IcmpMessage message;
    message.type = bytes[0];
    message.code = bytes[1];
    message.rest = load32(bytes + 4);
    message.body = bytes + kIcmpHeaderSize;
    message.body_length = length - kIcmpHeaderSize;
    if ((message.type == kIcmpDestinationUnreachable || message.type == kIcmpTimeExceeded)
        && message.body_length < kIpv4HeaderSize) {
        // The quote is the offending header and up to 8 bytes after it:
        // fewer when the datagram had fewer (RFC 792).
        diagnose(diagnostic, "icmp: error message quotes %zu bytes, less than an IP header", message.body_length);
        return Err(Error::EBADMSG);
    }
    return message;
}

Result<IcmpReport> parse_icmp_report(const IcmpMessage& message, Ipv4Address reporter, Diagnostic* diagnostic)
{
    if (message.type != kIcmpDestinationUnreachable && message.type != kIcmpTimeExceeded)
        return Err(Error::EINVAL);
    const uint8_t* quote = message.body;
    size_t length = message.body_length;
    if (length < kIpv4HeaderSize || (quote[0] >> 4) != 4) {
        diagnose(diagnostic, "icmp: the quote is not an IPv4 header");
        return Err(Error::EBADMSG);
    }
    size_t header_length = size_t(quote[0] & 0xf) * 4;
    if (header_length < kIpv4HeaderSize || length < header_length + 8) {
        diagnose(
            diagnostic, "icmp: the quote holds %zu bytes, not a %zu-byte header and 8 more", length, header_length);
        return Err(Error::EBADMSG);
    }
    uint16_t total_length = load16(quote + 2);
    uint16_t flags_offset = load16(quote + 6);
    if ((flags_offset & kIpv4OffsetMask) != 0) {
        diagnose(diagnostic, "icmp: the quote is a fragment other than the first");
        return Err(Error::EBADMSG);
    }
    if (total_length < header_length + 8) {
        diagnose(diagnostic, "icmp: the quoted datagram's length %u leaves no 8 bytes after its header",
            unsigned(total_length));
        return Err(Error::EBADMSG);
    }
    IcmpReport report;
    report.type = message.type;
    report.code = message.code;
    if (message.type == kIcmpDestinationUnreachable && message.code == kIcmpUnreachableFragmentationNeeded)
        report.next_hop_mtu = uint16_t(message.rest);
    report.reporter = reporter;
    report.protocol = quote[9];
    report.source = load32(quote + 12);
    report.destination = load32(quote + 16);
    report.quoted_total_length = total_length;
    report.transport = quote + header_length;
    report.transport_length = length - header_length;
    return report;
}

void write_icmp(uint8_t* out, uint8_t type, uint8_t code, uint32_t rest, size_t body_length)
{
    out[0] = type;
    out[1] = code;
    store16(out + 2, 0);
    store32(out + 4, rest);
    store16(out + 2, internet_checksum(out, kIcmpHeaderSize + body_length));
}

bool icmp_error_allowed(const Ipv4Header& header, const uint8_t* bytes, size_t length, bool to_broadcast)
{
    if (to_broadcast || header.destination == kIpv4Broadcast || ipv4_is_multicast(header.destination))
        return false;
    if (header.source == 0 || header.source == kIpv4Broadcast || ipv4_is_multicast(header.source))
        return false;
    if (header.fragment_offset() != 0)
        return false;
    if (header.protocol == kIpProtocolIcmp) {
        // Errors are never answered with errors; queries (echo) may be.
        if (length < size_t(header.header_length) + 1)
            return false;
        uint8_t type = bytes[header.header_length];
        return type == kIcmpEchoRequest || type == kIcmpEchoReply;
    }
    return true;
}

PacketPtr make_icmp_error(uint8_t type, uint8_t code, uint32_t rest, const uint8_t* offending, size_t length,
    size_t header_length, size_t headroom)
{
    size_t quoted = min(length, header_length + 8);
    PacketPtr packet(Packet::create(headroom, kIcmpHeaderSize + quoted));
    if (!packet)
        return {};
    uint8_t* out = packet->put(kIcmpHeaderSize + quoted);
    memcpy(out + kIcmpHeaderSize, offending, quoted);
    write_icmp(out, type, code, rest, quoted);
    return packet;
}

} // namespace keel::net
