#include "dhcp_server.h"

#include <string.h>

#include <algorithm>

#include "lib/net/bytes.h"
#include "lib/net/ipv4.h"
#include "lib/net/udp.h"

std::vector<uint8_t> ipv4_frame(const keel::net::MacAddress& to, const keel::net::MacAddress& from,
    keel::net::Ipv4Address source, keel::net::Ipv4Address destination, uint8_t protocol, size_t payload_length)
{
    std::vector<uint8_t> frame(14 + 20 + payload_length);
    keel::net::write_ethernet(frame.data(), { to, from, keel::net::kEtherTypeIpv4 });
    keel::net::Ipv4Header ip;
    ip.total_length = uint16_t(20 + payload_length);
    ip.protocol = protocol;
    ip.source = source;
    ip.destination = destination;
    keel::net::write_ipv4(frame.data() + 14, ip);
    return frame;
}

namespace test_dhcp {

using namespace keel::net;

const MacAddress kServerMac { { 0x52, 0x55, 0x0a, 0, 2, 2 } };
const Ipv4Address kServer = ipv4(10, 0, 2, 2);

std::vector<uint8_t> reply_message(const ReplySpec& spec)
{
    std::vector<uint8_t> message(dhcp::kOptionsOffset);
    message[0] = 2;
    message[1] = 1;
    message[2] = 6;
    store32(message.data() + 4, spec.xid);
    store32(message.data() + 16, spec.your_address);
    store32(message.data() + 20, kServer);
    memcpy(message.data() + 28, spec.client.bytes, 6);
    std::copy(spec.sname.begin(), spec.sname.end(), message.begin() + dhcp::kSnameOffset);
    std::copy(spec.file.begin(), spec.file.end(), message.begin() + dhcp::kFileOffset);
    store32(message.data() + dhcp::kFixedSize, dhcp::kMagicCookie);
    message.push_back(dhcp::option::kMessageType);
    message.push_back(1);
    message.push_back(uint8_t(spec.type));
    message.insert(message.end(), spec.options.begin(), spec.options.end());
    if (spec.end)
        message.push_back(dhcp::option::kEnd);
    while (message.size() < 300)
        message.push_back(0);
    return message;
}

std::vector<uint8_t> qemu_options(uint32_t lease_seconds)
{
    std::vector<uint8_t> options = {
        dhcp::option::kServerId, 4, 10, 0, 2, 2,        //
        dhcp::option::kSubnetMask, 4, 255, 255, 255, 0, //
        dhcp::option::kRouter, 4, 10, 0, 2, 2,          //
        dhcp::option::kDnsServer, 4, 10, 0, 2, 3,       //
        dhcp::option::kLeaseTime, 4, 0, 0, 0, 0,        //
    };
    store32(options.data() + options.size() - 4, lease_seconds);
    return options;
}

std::vector<uint8_t> server_frame(const std::vector<uint8_t>& message, Ipv4Address destination)
{
    std::vector<uint8_t> frame
        = ipv4_frame(MacAddress::broadcast(), kServerMac, kServer, destination, kIpProtocolUdp, 8 + message.size());
    memcpy(frame.data() + 42, message.data(), message.size());
    write_udp(frame.data() + 34, dhcp::kServerPort, dhcp::kClientPort, message.size(), kServer, destination);
    return frame;
}

} // namespace test_dhcp
