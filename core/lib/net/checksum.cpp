#include "lib/net/checksum.h"

namespace keel::net {

namespace {

// One native-order word at any alignment (one load on x86_64 and arm64).
template<typename Word> uint64_t load_native(const uint8_t* bytes)
{
    Word word;
    __builtin_memcpy(&word, bytes, sizeof(word));
    return word;
}

// Folds a sum of 16-bit words to 16 bits with the end-around carry: a
// value congruent to it modulo 0xffff, 0 only for a zero sum.
uint64_t fold16(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

} // namespace

uint64_t checksum_add(uint64_t sum, const void* data, size_t length)
{
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    // The ones' complement sum does not depend on byte order (RFC 1071,
    // 2.B): add the data as native 32-bit words, four at a time, fold, and
    // swap the folded sum into big-endian order once, instead of loading
    // 16-bit big-endian words one by one (under QEMU's TCG a received
    // 1,400-byte datagram spent more time in that loop than anywhere
    // else). Two 64-bit accumulators hold 2^32 words each before a carry
    // could be lost: far more than any packet.
    uint64_t low = 0, high = 0;
    for (; length >= 16; length -= 16, bytes += 16) {
        low += load_native<uint32_t>(bytes) + load_native<uint32_t>(bytes + 4);
        high += load_native<uint32_t>(bytes + 8) + load_native<uint32_t>(bytes + 12);
    }
    for (; length >= 4; length -= 4, bytes += 4)
        low += load_native<uint32_t>(bytes);
    if (length >= 2) {
        low += load_native<uint16_t>(bytes);
        bytes += 2;
        length -= 2;
    }
    uint64_t native = fold16(fold16(low) + fold16(high));
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        native = ((native & 0xff) << 8) | (native >> 8);
    sum += native;
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
