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

namespace {

// The two 32-bit halves of a native 64-bit word, into two accumulators.
inline void add_halves(uint64_t word, uint64_t& low, uint64_t& high)
{
    low += word & 0xffffffffu;
    high += word >> 32;
}

// The tail (under 8 bytes) and the fold: the sum of the whole piece in
// big-endian order, added to `sum`. `dst`, when not null, gets a copy.
uint64_t finish_piece(uint64_t sum, const uint8_t* bytes, uint8_t* dst, size_t length, uint64_t low, uint64_t high)
{
    if (length >= 4) {
        uint32_t word = load_native<uint32_t>(bytes);
        if (dst)
            __builtin_memcpy(dst, &word, 4), dst += 4;
        low += word;
        bytes += 4;
        length -= 4;
    }
    if (length >= 2) {
        uint16_t word = load_native<uint16_t>(bytes);
        if (dst)
            __builtin_memcpy(dst, &word, 2), dst += 2;
        low += word;
        bytes += 2;
        length -= 2;
    }
    uint64_t native = fold16(fold16(low) + fold16(high));
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        native = ((native & 0xff) << 8) | (native >> 8);
    sum += native;
    if (length) {
        if (dst)
            dst[0] = bytes[0];
        sum += uint16_t(bytes[0] << 8); // pad the odd byte with a zero
    }
    return sum;
}

} // namespace

uint64_t checksum_add(uint64_t sum, const void* data, size_t length)
{
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    // The ones' complement sum does not depend on byte order (RFC 1071,
    // 2.B): add the data as native 32-bit words, fold, and swap the folded
    // sum into big-endian order once, instead of loading 16-bit big-endian
    // words one by one (under QEMU's TCG a received 1,400-byte datagram
    // spent more time in that loop than anywhere else). The words come
    // two to a 64-bit load, since under TCG each load is an emulated
    // memory access. Two 64-bit accumulators hold 2^31 words each before a
    // carry could be lost: far more than any packet.
    uint64_t low = 0, high = 0;
    for (; length >= 16; length -= 16, bytes += 16) {
        add_halves(load_native<uint64_t>(bytes), low, high);
        add_halves(load_native<uint64_t>(bytes + 8), low, high);
    }
    if (length >= 8) {
        add_halves(load_native<uint64_t>(bytes), low, high);
        bytes += 8;
        length -= 8;
    }
    return finish_piece(sum, bytes, nullptr, length, low, high);
}

uint64_t checksum_copy(uint64_t sum, void* destination, const void* data, size_t length)
{
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    uint8_t* out = static_cast<uint8_t*>(destination);
    uint64_t low = 0, high = 0;
    for (; length >= 16; length -= 16, bytes += 16, out += 16) {
        uint64_t first = load_native<uint64_t>(bytes), second = load_native<uint64_t>(bytes + 8);
        __builtin_memcpy(out, &first, 8);
        __builtin_memcpy(out + 8, &second, 8);
        add_halves(first, low, high);
        add_halves(second, low, high);
    }
    if (length >= 8) {
        uint64_t word = load_native<uint64_t>(bytes);
        __builtin_memcpy(out, &word, 8);
        add_halves(word, low, high);
        bytes += 8;
        out += 8;
        length -= 8;
    }
    return finish_piece(sum, bytes, out, length, low, high);
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
