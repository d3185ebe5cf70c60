// Ethernet II framing (IEEE 802.3 with an EtherType): destination MAC,
// source MAC, EtherType, payload. The frame check sequence belongs to the
// device; frames shorter than 60 bytes are padded by whoever transmits.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::net {

struct MacAddress {
    uint8_t bytes[6] = {};

    static constexpr MacAddress broadcast() { return { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }; }
    bool operator==(const MacAddress&) const = default;
    bool is_broadcast() const { return *this == broadcast(); }
    bool is_multicast() const { return bytes[0] & 1; } // broadcast too
    bool is_zero() const { return *this == MacAddress {}; }
};

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr size_t kEthernetHeaderSize = 14;
constexpr size_t kEthernetMinFrame = 60; // without the frame check sequence
constexpr size_t kEthernetMtu = 1500;

struct EthernetHeader {
    MacAddress destination;
    MacAddress source;
    uint16_t ether_type = 0;
};

// Checks a received frame: long enough for the header, an EtherType (not
// an 802.3 length field, which no protocol here uses), a source that is
// not multicast.
Result<EthernetHeader> parse_ethernet(const uint8_t* frame, size_t length, Diagnostic* diagnostic);
void write_ethernet(uint8_t* out, const EthernetHeader& header);

} // namespace keel::net
