#include "lib/net/ipv4.h"

#include "lib/net/checksum.h"

namespace keel::net {

namespace {

Result<Ipv4Header> parse(const uint8_t* bytes, size_t length, bool whole, Diagnostic* diagnostic)
{
    if (length < kIpv4HeaderSize) {
        diagnose(diagnostic, "ipv4: %zu bytes, shorter than a header", length);
        return Err(Error::EBADMSG);
    }
    if (bytes[0] >> 4 != 4) {
        diagnose(diagnostic, "ipv4: version %u", bytes[0] >> 4);
        return Err(Error::EBADMSG);
    }
    Ipv4Header header;
    header.header_length = uint8_t((bytes[0] & 0xf) * 4);
    if (header.header_length < kIpv4HeaderSize || header.header_length > length) {
        diagnose(diagnostic, "ipv4: header length %u of a %zu-byte datagram", header.header_length, length);
        return Err(Error::EBADMSG);
    }
    header.tos = bytes[1];
    header.total_length = load16(bytes + 2);
    if (header.total_length < header.header_length || (whole && header.total_length > length)) {
        diagnose(diagnostic, "ipv4: total length %u with a %u-byte header in %zu bytes", header.total_length,
            header.header_length, length);
        return Err(Error::EBADMSG);
    }
    if (internet_checksum(bytes, header.header_length) != 0) {
        diagnose(diagnostic, "ipv4: bad header checksum %#06x", load16(bytes + 10));
        return Err(Error::EBADMSG);
    }
    header.identification = load16(bytes + 4);
    header.flags_offset = load16(bytes + 6);
    if (header.flags_offset & 0x8000) {
        diagnose(diagnostic, "ipv4: reserved flag set");
        return Err(Error::EBADMSG);
    }
    header.ttl = bytes[8];
    header.protocol = bytes[9];
    header.source = load32(bytes + 12);
    header.destination = load32(bytes + 16);
    if (ipv4_is_multicast(header.source) || header.source == kIpv4Broadcast) {
        diagnose(diagnostic, "ipv4: source %#010x is multicast or broadcast", header.source);
        return Err(Error::EBADMSG);
    }
    if (header.is_fragment() && header.fragment_offset() + header.payload_length() > kIpv4MaxDatagram) {
        diagnose(diagnostic, "ipv4: fragment at %zu of %zu bytes ends beyond 65535", header.fragment_offset(),
            header.payload_length());
        return Err(Error::EMSGSIZE);
    }
    return header;
}

} // namespace

Result<Ipv4Header> parse_ipv4(const uint8_t* bytes, size_t length, Diagnostic* diagnostic)
{
    return parse(bytes, length, true, diagnostic);
}

Result<Ipv4Header> parse_ipv4_start(const uint8_t* bytes, size_t length, Diagnostic* diagnostic)
{
    return parse(bytes, length, false, diagnostic);
}

void write_ipv4(uint8_t* out, const Ipv4Header& header)
{
    out[0] = 0x45;
    out[1] = header.tos;
    store16(out + 2, header.total_length);
    store16(out + 4, header.identification);
    store16(out + 6, header.flags_offset);
    out[8] = header.ttl;
    out[9] = header.protocol;
    store16(out + 10, 0);
    store32(out + 12, header.source);
    store32(out + 16, header.destination);
    store16(out + 10, internet_checksum(out, kIpv4HeaderSize));
}

} // namespace keel::net
