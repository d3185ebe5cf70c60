#include "lib/net/tcp/header.h"

#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"

namespace keel::net::tcp {

namespace {

constexpr uint8_t kOptionEnd = 0;
constexpr uint8_t kOptionNop = 1;
constexpr uint8_t kOptionMss = 2;
constexpr uint8_t kOptionWindowScale = 3;

Result<void> parse_options(const uint8_t* options, size_t length, Header& header, Diagnostic* diagnostic)
{
    size_t i = 0;
    while (i < length) {
        uint8_t kind = options[i];
        if (kind == kOptionEnd)
            break;
        if (kind == kOptionNop) {
            i++;
            continue;
        }
        if (i + 1 >= length || options[i + 1] < 2 || i + options[i + 1] > length) {
            diagnose(diagnostic, "tcp: option %u at %zu runs past the header", kind, i);
            return Err(Error::EBADMSG);
        }
        uint8_t size = options[i + 1];
        if (kind == kOptionMss) {
            if (size != 4) {
                diagnose(diagnostic, "tcp: MSS option of length %u", size);
                return Err(Error::EBADMSG);
            }
            header.mss = load16(options + i + 2);
        } else if (kind == kOptionWindowScale) {
            if (size != 3) {
                diagnose(diagnostic, "tcp: window scale option of length %u", size);
                return Err(Error::EBADMSG);
            }
            header.window_scale = int8_t(min(options[i + 2], kMaxWindowScale));
        }
        i += size;
    }
    return {};
}

} // namespace

Result<Segment> parse_segment(
    const uint8_t* bytes, size_t length, Ipv4Address source, Ipv4Address destination, Diagnostic* diagnostic)
{
    if (length < kHeaderSize) {
        diagnose(diagnostic, "tcp: %zu bytes, shorter than a header", length);
        return Err(Error::EBADMSG);
    }
    if (length > kIpv4MaxDatagram) {
        diagnose(diagnostic, "tcp: %zu bytes", length);
        return Err(Error::EMSGSIZE);
    }
    Segment segment;
    Header& header = segment.header;
    header.header_length = uint8_t((bytes[12] >> 4) * 4);
    if (header.header_length < kHeaderSize || header.header_length > length) {
        diagnose(diagnostic, "tcp: data offset %u in %zu bytes", header.header_length, length);
        return Err(Error::EBADMSG);
    }
    uint64_t sum = pseudo_header_sum(source, destination, kIpProtocolTcp, uint16_t(length));
    if (checksum_finish(checksum_add(sum, bytes, length)) != 0) {
        diagnose(diagnostic, "tcp: bad checksum %#06x", load16(bytes + 16));
        return Err(Error::EBADMSG);
    }
    header.source_port = load16(bytes);
    header.destination_port = load16(bytes + 2);
    if (header.source_port == 0 || header.destination_port == 0) {
        diagnose(diagnostic, "tcp: port 0");
        return Err(Error::EBADMSG);
    }
    header.sequence = load32(bytes + 4);
    header.acknowledgment = load32(bytes + 8);
    header.flags = bytes[13] & 0x3f;
    header.window = load16(bytes + 14);
    header.urgent = load16(bytes + 18);
    TRY(parse_options(bytes + kHeaderSize, header.header_length - kHeaderSize, header, diagnostic));
    segment.data = bytes + header.header_length;
    segment.length = length - header.header_length;
    return segment;
}

size_t header_size(const Header& header)
{
    size_t size = kHeaderSize;
    if (header.mss)
        size += 4;
    if (header.window_scale >= 0)
        size += 4; // NOP and the 3-byte option
    return size;
}

void write_header(uint8_t* out, const Header& header, size_t data_length, Ipv4Address source, Ipv4Address destination)
{
    size_t size = header_size(header);
    store16(out, header.source_port);
    store16(out + 2, header.destination_port);
    store32(out + 4, header.sequence);
    store32(out + 8, header.acknowledgment);
    out[12] = uint8_t((size / 4) << 4);
    out[13] = header.flags;
    store16(out + 14, header.window);
    store16(out + 16, 0);
    store16(out + 18, header.urgent);
    uint8_t* option = out + kHeaderSize;
    if (header.mss) {
        option[0] = kOptionMss;
        option[1] = 4;
        store16(option + 2, header.mss);
        option += 4;
    }
    if (header.window_scale >= 0) {
        option[0] = kOptionNop;
        option[1] = kOptionWindowScale;
        option[2] = 3;
        option[3] = uint8_t(header.window_scale);
    }
    uint16_t length = uint16_t(size + data_length);
    uint64_t sum = pseudo_header_sum(source, destination, kIpProtocolTcp, length);
    store16(out + 16, checksum_finish(checksum_add(sum, out, length)));
}

} // namespace keel::net::tcp
