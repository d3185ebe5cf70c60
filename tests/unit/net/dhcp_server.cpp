#include "dhcp_server.h"

#include <string.h>

#include <algorithm>

#include "lib/net/bytes.h"
#include "lib/net/ipv4.h"
#include "lib/net/udp.h"

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
    std::vector<uint8_t> frame(14 + 20 + 8 + message.size());
    write_ethernet(frame.data(), { MacAddress::broadcast(), kServerMac, kEtherTypeIpv4 });
    memcpy(frame.data() + 42, message.data(), message.size());
    write_udp(frame.data() + 34, dhcp::kServerPort, dhcp::kClientPort, message.size(), kServer, destination);
    Ipv4Header ip;
    ip.total_length = uint16_t(28 + message.size());
    ip.protocol = kIpProtocolUdp;
    ip.source = kServer;
    ip.destination = destination;
    write_ipv4(frame.data() + 14, ip);
    return frame;
}

} // namespace test_dhcp
