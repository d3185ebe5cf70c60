// The Internet checksum (RFC 1071): the ones' complement of the ones'
// complement sum of 16-bit big-endian words, and its incremental update
// (RFC 1624) for a router changing one field, such as the TTL.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/net/bytes.h"

namespace keel::net {

// Adds `length` bytes to a running sum. Only the last piece of a sum may
// have an odd length (the words are counted from the start of each piece).
uint64_t checksum_add(uint64_t sum, const void* data, size_t length);
// checksum_add that also copies the bytes to `destination` (which must not
// overlap them), reading each byte once: a datagram's payload is summed as
// it is copied into the packet.
uint64_t checksum_copy(uint64_t sum, void* destination, const void* data, size_t length);
// Folds a running sum to 16 bits and complements it: the value for the
// checksum field. A buffer that includes a correct checksum folds to 0.
uint16_t checksum_finish(uint64_t sum);
inline uint16_t internet_checksum(const void* data, size_t length)
{
    return checksum_finish(checksum_add(0, data, length));
}

// The sum of UDP's and TCP's pseudo-header (RFC 768, RFC 9293 3.1).
uint64_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, uint8_t protocol, uint16_t length);

// The checksum after one 16-bit word of the covered data changed from
// `old_word` to `new_word` (RFC 1624, equation 3): HC' = ~(~HC + ~m + m').
uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word);

} // namespace keel::net
