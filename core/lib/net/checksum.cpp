#include "lib/net/checksum.h"

namespace keel::net {

uint64_t checksum_add(uint64_t sum, const void* data, size_t length)
{
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    // 64 bits of accumulator hold 2^48 words before a carry could be lost:
    // far more than any packet.
    while (length >= 2) {
        sum += load16(bytes);
        bytes += 2;
        length -= 2;
    }
    if (length)
        sum += uint16_t(bytes[0] << 8); // pad the odd byte with a zero
    return sum;
}

uint16_t checksum_finish(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint64_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, uint8_t protocol, uint16_t length)
{
    return uint64_t(source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff) + protocol
        + length;
}

uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)
{
    uint64_t sum = uint16_t(~checksum);
    sum += uint16_t(~old_word);
    sum += new_word;
    return checksum_finish(sum);
}

} // namespace keel::net
