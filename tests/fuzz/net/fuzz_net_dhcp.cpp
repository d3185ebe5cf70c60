// libFuzzer target for what a DHCP client reads from the wire: server
// replies into parse_reply and a Client, and whole frames into
// server_message_of.
//
// The input is a sequence of records, each [flags][length (2 bytes)][bytes]:
// flags bit 0 makes the bytes a whole frame (server_message_of first),
// bit 1 copies the client's current transaction ID and MAC into the
// message (so the state machine gets past its first check), the other
// bits advance the clock by (flags >> 2) * 500 ms before the record. The
// oracle: nothing crashes or leaks (ASan), every message the client sends
// is a well-formed DISCOVER or REQUEST, a bound lease is one a host can
// use, and what parse_reply accepts keeps its promises.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../unit/net/host_platform.h"
#include "lib/net/dhcp_client.h"
#include "lib/net/dhcp_frame.h"

using namespace keel::net;
using namespace keel::net::dhcp;

namespace {

const MacAddress kMac { { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };

[[noreturn]] void refuse(const char* what)
{
    fprintf(stderr, "oracle: %s\n", what);
    abort();
}

class CheckingOutput : public Client::Output {
public:
    void send_message(const uint8_t* message, size_t length) override
    {
        if (length != kClientMessageSize || message[0] != 1 || load32(message + kFixedSize) != kMagicCookie)
            refuse("a client message is not a BOOTREQUEST of 300 bytes");
        if (memcmp(message + 28, kMac.bytes, 6) != 0)
            refuse("a client message carries another MAC");
        const uint8_t* options = message + kOptionsOffset;
        if (options[0] != option::kMessageType || options[1] != 1
            || (options[2] != uint8_t(MessageType::Discover) && options[2] != uint8_t(MessageType::Request)))
            refuse("a client message is neither DISCOVER nor REQUEST");
        xid = load32(message + 4);
        PacketPtr frame = build_client_frame(kMac, message, length, 1);
        if (!frame)
            refuse("no frame for a client message");
    }
    // Renewing and rebinding: a REQUEST from the leased address, in ciaddr.
    void send_from_address(const uint8_t* message, size_t length, Ipv4Address source, Ipv4Address destination) override
    {
        if (length != kClientMessageSize || message[0] != 1 || load32(message + kFixedSize) != kMagicCookie)
            refuse("a renewal is not a BOOTREQUEST of 300 bytes");
        if (memcmp(message + 28, kMac.bytes, 6) != 0)
            refuse("a renewal carries another MAC");
        const uint8_t* options = message + kOptionsOffset;
        if (options[0] != option::kMessageType || options[1] != 1 || options[2] != uint8_t(MessageType::Request))
            refuse("a renewal is not a REQUEST");
        if (source == 0 || load32(message + 12) != source)
            refuse("a renewal without the leased address in ciaddr");
        if (destination == 0)
            refuse("a renewal to nobody");
        xid = load32(message + 4);
    }
    uint32_t xid = 0;
};

void check_reply(const Reply& reply)
{
    if (reply.dns_count > Reply::kMaxDnsServers)
        refuse("more DNS servers than kept");
    if (reply.type != MessageType::Offer && reply.type != MessageType::Ack && reply.type != MessageType::Nak)
        refuse("a reply of a client's type");
}

void check_client(const Client& client)
{
    Client::State state = client.state();
    if (state != Client::State::Bound && state != Client::State::Renewing && state != Client::State::Rebinding)
        return;
    const Lease& lease = client.lease();
    if (lease.address == 0 || ipv4_is_loopback(lease.address) || (lease.address >> 28) >= 14)
        refuse("bound to an address no host may take");
    if (lease.prefix_length == 0 || lease.prefix_length > 30)
        refuse("bound with a bad prefix");
    uint32_t mask = ~uint32_t(0) << (32 - lease.prefix_length);
    if (lease.router && ((lease.router & mask) != (lease.address & mask) || lease.router == lease.address))
        refuse("a router off the leased network");
    if (lease.lease_seconds != kInfiniteLease
        && (lease.renewal_seconds > lease.rebinding_seconds || lease.rebinding_seconds > lease.lease_seconds))
        refuse("T1, T2 and the lease out of order");
    Millis t1 = lease.bound_at + Millis(lease.renewal_seconds) * 1000;
    if (state == Client::State::Bound && lease.lease_seconds != kInfiniteLease && client.next_deadline() != t1)
        refuse("bound without its renewal at T1");
    if (state == Client::State::Bound && lease.lease_seconds == kInfiniteLease && client.next_deadline() != 0)
        refuse("bound to an infinite lease with a timer left");
    Millis expiry = lease.bound_at + Millis(lease.lease_seconds) * 1000;
    if (state != Client::State::Bound && (client.next_deadline() == 0 || client.next_deadline() > expiry))
        refuse("renewing with no timer, or one past the lease's end");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    long baseline = net_live_allocations();
    {
        CheckingOutput output;
        Client client(output, kMac, 0x5eed);
        Millis now = 1000;
        client.start(now);
        uint8_t message[1600];
        while (size >= 3) {
            uint8_t flags = data[0];
            size_t length = size_t(data[1]) << 8 | data[2];
            data += 3;
            size -= 3;
            if (length > size)
                length = size;
            if (length > sizeof(message))
                length = sizeof(message);
            memcpy(message, data, length);
            data += length;
            size -= length;
            now += Millis(flags >> 2) * 500;
            client.tick(now);
            check_client(client);
            const uint8_t* bytes = message;
            size_t count = length;
            if (flags & 1) {
                auto found = server_message_of(message, length, nullptr);
                if (found.is_error())
                    continue;
                if (found.value().bytes < message || found.value().bytes + found.value().length > message + length)
                    refuse("a server message outside its frame");
                bytes = found.value().bytes;
                count = found.value().length;
            }
            uint8_t* patch = const_cast<uint8_t*>(bytes);
            if ((flags & 2) && count >= 34) {
                store32(patch + 4, output.xid);
                memcpy(patch + 28, kMac.bytes, 6);
            }
            auto reply = parse_reply(bytes, count, nullptr);
            if (reply.is_ok())
                check_reply(reply.value());
            client.receive(bytes, count, now);
            check_client(client);
        }
    }
    if (net_live_allocations() != baseline)
        refuse("an allocation outlived the input");
    return 0;
}
