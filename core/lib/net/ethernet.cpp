#include "lib/net/ethernet.h"

#include "lib/base/string.h"
#include "lib/net/bytes.h"

namespace keel::net {

Result<EthernetHeader> parse_ethernet(const uint8_t* frame, size_t length, Diagnostic* diagnostic)
{
    if (length < kEthernetHeaderSize) {
        diagnose(diagnostic, "ethernet: frame of %zu bytes is shorter than the 14-byte header", length);
        return Err(Error::EBADMSG);
    }
    EthernetHeader header;
    memcpy(header.destination.bytes, frame, 6);
    memcpy(header.source.bytes, frame + 6, 6);
    header.ether_type = load16(frame + 12);
    if (header.ether_type < 0x0600) {
        diagnose(diagnostic, "ethernet: 802.3 length field %u instead of an EtherType", header.ether_type);
        return Err(Error::ENOTSUP);
    }
    if (header.source.is_multicast()) {
        diagnose(diagnostic, "ethernet: multicast source address");
        return Err(Error::EBADMSG);
    }
    return header;
}

void write_ethernet(uint8_t* out, const EthernetHeader& header)
{
    memcpy(out, header.destination.bytes, 6);
    memcpy(out + 6, header.source.bytes, 6);
    store16(out + 12, header.ether_type);
}

} // namespace keel::net
