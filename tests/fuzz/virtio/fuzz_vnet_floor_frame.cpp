// virtio_net's measurement mode over arbitrary frames
// (modules/virtio_net/floor_frame.c): the first two bytes are the port, the
// rest the frame, in a buffer of exactly its size. Oracles: a frame is
// answered exactly when it is an unfragmented IPv4 UDP datagram without
// options to the port, whole within the frame (checked here field by
// field); its answer has the Ethernet and IP addresses and the ports
// swapped and every other byte as it was, so the IP header's and the UDP
// datagram's one's-complement sums (the checksums' inputs) are unchanged;
// and answering twice gives the frame back.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "floor_frame.h"

namespace {

uint32_t be16(const uint8_t* bytes) { return uint32_t(bytes[0]) << 8 | bytes[1]; }

// The one's-complement sum of `length` bytes (a last odd byte padded).
uint32_t sum16(const uint8_t* bytes, size_t length, uint32_t sum = 0)
{
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += be16(bytes + i);
    if (length & 1)
        sum += uint32_t(bytes[length - 1]) << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

bool expected(const uint8_t* frame, size_t length, uint32_t port)
{
    if (length < 42)
        return false;
    const uint8_t* ip = frame + 14;
    bool ipv4_udp = be16(frame + 12) == 0x0800 && ip[0] == 0x45 && ip[9] == 17;
    bool whole = !(ip[6] & 0x20) && (be16(ip + 6) & 0x1fff) == 0;
    uint32_t total = be16(ip + 2);
    uint32_t udp_length = be16(ip + 24);
    return ipv4_udp && whole && total >= 28 && total + 14 <= length && udp_length >= 8 && udp_length + 20 <= total
        && be16(ip + 22) == port;
}

// The UDP datagram's sum with its pseudo-header (addresses, protocol, length).
uint32_t udp_sum(const uint8_t* frame)
{
    const uint8_t* ip = frame + 14;
    uint32_t udp_length = be16(ip + 24);
    uint32_t sum = sum16(ip + 12, 8, 17 + udp_length);
    return sum16(ip + 20, udp_length, sum);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t port = be16(data);
    std::vector<uint8_t> frame(data + 2, data + size); // exactly the frame: ASan sees a read past it
    size_t length = frame.size();
    bool answered = vnet_floor_datagram(frame.data(), uint32_t(length), port) != 0;
    if (answered != expected(frame.data(), length, port))
        abort();
    if (!answered)
        return 0;
    std::vector<uint8_t> answer(frame);
    vnet_floor_swap(answer.data());
    const uint8_t* in = frame.data();
    const uint8_t* out = answer.data();
    if (memcmp(out, in + 6, 6) || memcmp(out + 6, in, 6) || memcmp(out + 26, in + 30, 4) || memcmp(out + 30, in + 26, 4)
        || memcmp(out + 34, in + 36, 2) || memcmp(out + 36, in + 34, 2) || memcmp(out + 12, in + 12, 14)
        || memcmp(out + 38, in + 38, length - 38))
        abort();
    if (sum16(out + 14, 20) != sum16(in + 14, 20) || udp_sum(out) != udp_sum(in))
        abort();
    vnet_floor_swap(answer.data());
    if (answer != frame)
        abort();
    return 0;
}
