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

// Walks `length` bytes a word at a time, adding each word to the running
// sum, and with kCopy also stores it at `out`: one walk for checksum_add
// and checksum_copy. The ones' complement sum does not depend on byte
// order (RFC 1071, 2.B): the data goes in as native words, folded and
// swapped into big-endian order once at the end, instead of 16-bit
// big-endian words one by one (under QEMU's TCG a received 1,400-byte
// datagram spent more time in that loop than anywhere else). The words
// come as 64-bit loads, since under TCG each load is an emulated memory
// access, and go into a 128-bit sum: an add and an add-with-carry a word
// (two instructions fewer than adding its halves to two 64-bit sums),
// the carries out of the low half counted in the high one. 2^64 is 1
// modulo 0xffff, so a carry counts as a 1 added back in.
class WordSum {
public:
    WordSum(const uint8_t* bytes, uint8_t* out)
        : m_bytes(bytes)
        , m_out(out)
    {
    }

    // One word of type Word: loaded, copied when asked, added.
    template<typename Word, bool kCopy> void take()
    {
        Word word = load_native<Word>(m_bytes);
        if constexpr (kCopy) {
            __builtin_memcpy(m_out, &word, sizeof(word));
            m_out += sizeof(word);
        }
        m_sum += word;
        m_bytes += sizeof(word);
    }

    template<bool kCopy> uint64_t add(uint64_t sum, size_t length)
    {
        for (; length >= 16; length -= 16) {
            take<uint64_t, kCopy>();
            take<uint64_t, kCopy>();
        }
        if (length >= 8) {
            take<uint64_t, kCopy>();
            length -= 8;
        }
        if (length >= 4) {
            take<uint32_t, kCopy>();
            length -= 4;
        }
        if (length >= 2) {
            take<uint16_t, kCopy>();
            length -= 2;
        }
        uint64_t low = uint64_t(m_sum);
        uint64_t carries = uint64_t(m_sum >> 64);
        uint64_t native = fold16(fold16(low) + fold16(carries));
        if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
            native = ((native & 0xff) << 8) | (native >> 8);
        sum += native;
        if (length) {
            if constexpr (kCopy)
                m_out[0] = m_bytes[0];
            sum += uint16_t(m_bytes[0] << 8); // pad the odd byte with a zero
        }
        return sum;
    }

private:
    const uint8_t* m_bytes;
    uint8_t* m_out;
    unsigned __int128 m_sum = 0;
};

} // namespace

uint64_t checksum_add(uint64_t sum, const void* data, size_t length)
{
    return WordSum(static_cast<const uint8_t*>(data), nullptr).add<false>(sum, length);
}

uint64_t checksum_copy(uint64_t sum, void* destination, const void* data, size_t length)
{
    return WordSum(static_cast<const uint8_t*>(data), static_cast<uint8_t*>(destination)).add<true>(sum, length);
}

uint16_t checksum_finish(uint64_t sum) { return uint16_t(~fold16(sum)); }

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
