#include "lib/net/udp.h"

#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"

namespace keel::net {

Result<UdpHeader> parse_udp(
    const uint8_t* bytes, size_t length, Ipv4Address source, Ipv4Address destination, Diagnostic* diagnostic)
{
    if (length < kUdpHeaderSize) {
        diagnose(diagnostic, "udp: %zu bytes, shorter than the header", length);
        return Err(Error::EBADMSG);
    }
    UdpHeader header;
    header.source_port = load16(bytes);
    header.destination_port = load16(bytes + 2);
    header.length = load16(bytes + 4);
    header.checksum = load16(bytes + 6);
    if (header.length < kUdpHeaderSize || header.length > length) {
        diagnose(diagnostic, "udp: length field %u of %zu bytes", header.length, length);
        return Err(Error::EBADMSG);
    }
    if (header.destination_port == 0) {
        diagnose(diagnostic, "udp: destination port 0");
        return Err(Error::EBADMSG);
    }
    if (header.checksum != 0) {
        uint64_t sum = pseudo_header_sum(source, destination, kIpProtocolUdp, header.length);
        if (checksum_finish(checksum_add(sum, bytes, header.length)) != 0) {
            diagnose(diagnostic, "udp: bad checksum %#06x", header.checksum);
            return Err(Error::EBADMSG);
        }
    }
    return header;
}

void write_udp(uint8_t* out, uint16_t source_port, uint16_t destination_port, size_t payload_length, Ipv4Address source,
    Ipv4Address destination)
{
    write_udp_summed(out, source_port, destination_port, checksum_add(0, out + kUdpHeaderSize, payload_length),
        payload_length, source, destination);
}

void write_udp_summed(uint8_t* out, uint16_t source_port, uint16_t destination_port, uint64_t payload_sum,
    size_t payload_length, Ipv4Address source, Ipv4Address destination)
{
    uint16_t length = uint16_t(kUdpHeaderSize + payload_length);
    store16(out, source_port);
    store16(out + 2, destination_port);
    store16(out + 4, length);
    store16(out + 6, 0);
    uint64_t sum = pseudo_header_sum(source, destination, kIpProtocolUdp, length) + payload_sum;
    uint16_t checksum = checksum_finish(checksum_add(sum, out, kUdpHeaderSize));
    store16(out + 6, checksum ? checksum : 0xffff); // 0 means "no checksum"
}

} // namespace keel::net
