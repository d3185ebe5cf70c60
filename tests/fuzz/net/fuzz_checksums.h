// Fuzz inputs rarely carry right checksums, and a packet with a wrong one
// stops at the first check. The targets can therefore repair them, so that
// what lies behind the checksums gets explored as well.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"

// Repairs the IPv4 header checksum and, for an unfragmented datagram, the
// ICMP, UDP or TCP checksum, as far as the lengths allow.
inline void repair_ipv4_checksums(uint8_t* datagram, size_t length)
{
    using namespace keel::net;
    if (length < kIpv4HeaderSize)
        return;
    size_t header_length = size_t(datagram[0] & 0xf) * 4;
    size_t total = load16(datagram + 2);
    if (header_length < kIpv4HeaderSize || header_length > length)
        return;
    store16(datagram + 10, 0);
    store16(datagram + 10, internet_checksum(datagram, header_length));
    if (total < header_length || total > length || (load16(datagram + 6) & 0x3fff))
        return;
    uint8_t* payload = datagram + header_length;
    size_t size = total - header_length;
    size_t field;
    switch (datagram[9]) {
    case kIpProtocolIcmp: field = 2; break;
    case kIpProtocolUdp: field = 6; break;
    case kIpProtocolTcp: field = 16; break;
    default: return;
    }
    if (size < field + 2)
        return;
    store16(payload + field, 0);
    uint64_t sum = datagram[9] == kIpProtocolIcmp
        ? 0
        : pseudo_header_sum(load32(datagram + 12), load32(datagram + 16), datagram[9], uint16_t(size));
    uint16_t checksum = checksum_finish(checksum_add(sum, payload, size));
    if (datagram[9] == kIpProtocolUdp && checksum == 0)
        checksum = 0xffff;
    store16(payload + field, checksum);
}
