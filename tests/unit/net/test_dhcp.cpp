// The DHCP client (core/lib/net/dhcp_*): its replies parser against
// hostile bytes, its state machine and back-off against a scripted server,
// and the frames it sends judged by tshark's dhcp dissector.
#include <string.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dhcp_server.h"
#include "host_platform.h"
#include "lib/net/dhcp_client.h"
#include "lib/net/dhcp_frame.h"
#include "lib/net/ip_param.h"
#include "lib/net/ipv4.h"
#include "lib/net/udp.h"
#include "pcap.h"

using namespace keel::net;
using namespace keel::net::dhcp;
using keel::Error;
using test_dhcp::kServer;
using test_dhcp::qemu_options;
using test_dhcp::reply_message;
using test_dhcp::ReplySpec;
using test_dhcp::server_frame;

namespace {

const MacAddress kClientMac { { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };
const Ipv4Address kOffered = ipv4(10, 0, 2, 15);

// What the client sent, read back from its frame the way a server would.
struct Sent {
    Millis at = 0;
    MessageType type = MessageType::Discover;
    uint32_t xid = 0;
    uint16_t seconds = 0;
    Ipv4Address requested = 0;
    Ipv4Address server_id = 0;
    Ipv4Address client_address = 0; // ciaddr
    Ipv4Address source = 0;         // of the datagram
    Ipv4Address destination = kIpv4Broadcast;
};

// Reads a client's message (the UDP payload) as a server would.
Sent read_message(const uint8_t* dhcp, size_t length, Millis now)
{
    Sent record;
    record.at = now;
    record.xid = load32(dhcp + 4);
    record.seconds = load16(dhcp + 8);
    record.client_address = load32(dhcp + 12);
    for (size_t at = kOptionsOffset; at + 1 < length && dhcp[at] != option::kEnd;) {
        if (dhcp[at] == option::kPad) {
            at++;
            continue;
        }
        const uint8_t* value = dhcp + at + 2;
        if (dhcp[at] == option::kMessageType)
            record.type = MessageType(value[0]);
        if (dhcp[at] == option::kRequestedAddress)
            record.requested = load32(value);
        if (dhcp[at] == option::kServerId)
            record.server_id = load32(value);
        at += 2 + dhcp[at + 1];
    }
    return record;
}

// One client on a segment with a scripted server; every frame goes to a
// capture.
class Exchange : public Client::Output {
public:
    explicit Exchange(const std::string& name, uint32_t seed = 1)
        : pcap(name, kLinktypeEthernet)
        , client(*this, kClientMac, seed)
    {
    }

    void send_message(const uint8_t* message, size_t length) override
    {
        PacketPtr frame = build_client_frame(kClientMac, message, length, uint16_t(sent.size() + 1));
        REQUIRE(frame);
        pcap.write(now, frame->data(), frame->length());
        const uint8_t* bytes = frame->data();
        // Ethernet broadcast, 0.0.0.0:68 -> 255.255.255.255:67.
        CHECK(MacAddress { { bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5] } }.is_broadcast());
        CHECK(load32(bytes + 26) == 0);
        CHECK(load32(bytes + 30) == kIpv4Broadcast);
        CHECK(load16(bytes + 34) == 68);
        CHECK(load16(bytes + 36) == 67);
        sent.push_back(read_message(bytes + 42, length, now));
    }

    // Once bound: a datagram from the leased address, framed here for the
    // capture (to the server's MAC, or the broadcast).
    void send_from_address(const uint8_t* message, size_t length, Ipv4Address source, Ipv4Address destination) override
    {
        MacAddress to = destination == kIpv4Broadcast ? MacAddress::broadcast() : test_dhcp::kServerMac;
        std::vector<uint8_t> frame = ipv4_frame(to, kClientMac, source, destination, kIpProtocolUdp, 8 + length);
        memcpy(frame.data() + 42, message, length);
        write_udp(frame.data() + 34, kClientPort, kServerPort, length, source, destination);
        pcap.write(now, frame.data(), frame.size());
        Sent record = read_message(message, length, now);
        record.source = source;
        record.destination = destination;
        sent.push_back(record);
    }

    void lease_event(LeaseEvent event, const Lease& lease) override { events.push_back({ now, event, lease }); }

    // The server's reply, through the capture and the frame parser.
    void deliver(const std::vector<uint8_t>& message, Ipv4Address destination = kIpv4Broadcast)
    {
        auto frame = server_frame(message, destination);
        pcap.write(now, frame.data(), frame.size());
        auto found = server_message_of(frame.data(), frame.size(), nullptr);
        REQUIRE(found.is_ok());
        CHECK(found.value().source == kServer);
        client.receive(found.value().bytes, found.value().length, now);
    }
    ReplySpec reply(MessageType type, std::vector<uint8_t> options = qemu_options())
    {
        ReplySpec spec;
        spec.type = type;
        spec.xid = sent.back().xid;
        spec.client = kClientMac;
        spec.your_address = type == MessageType::Nak ? 0 : kOffered;
        spec.options = std::move(options);
        return spec;
    }
    void advance(Millis duration)
    {
        for (Millis end = now + duration; now < end; now += 10)
            client.tick(now);
    }
    void require_clean()
    {
        pcap.close();
        auto problems = tshark_problems(pcap.path());
        INFO("capture " << pcap.path());
        for (const auto& line : problems)
            UNSCOPED_INFO(line);
        REQUIRE(problems.empty());
    }

    PcapWriter pcap;
    Client client;
    std::vector<Sent> sent;
    struct Event {
        Millis at;
        LeaseEvent event;
        Lease lease;
    };
    std::vector<Event> events;
    Millis now = 5000;
};

std::vector<uint8_t> message_of(const ReplySpec& spec) { return reply_message(spec); }

keel::Result<Reply> parse(const std::vector<uint8_t>& bytes, std::string* why = nullptr)
{
    keel::Diagnostic diagnostic;
    auto reply = parse_reply(bytes.data(), bytes.size(), &diagnostic);
    if (why)
        *why = diagnostic.message;
    return reply;
}

ReplySpec offer_spec(std::vector<uint8_t> options = qemu_options())
{
    ReplySpec spec;
    spec.xid = 0x1234;
    spec.client = kClientMac;
    spec.your_address = kOffered;
    spec.options = std::move(options);
    return spec;
}

// A client bound to a lease of `lease_seconds` (with `extra` options).
void bind_lease(Exchange& exchange, uint32_t lease_seconds, std::vector<uint8_t> extra = {})
{
    exchange.client.start(exchange.now);
    exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
    std::vector<uint8_t> options = qemu_options(lease_seconds);
    options.insert(options.end(), extra.begin(), extra.end());
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, options)), kOffered);
    REQUIRE(exchange.client.state() == Client::State::Bound);
}

size_t count_sent(const Exchange& exchange, size_t from) { return exchange.sent.size() - from; }

} // namespace

TEST_CASE("dhcp: DISCOVER, OFFER, REQUEST, ACK binds the lease QEMU's user network gives", "[dhcp]")
{
    long baseline = net_live_allocations();
    {
        Exchange exchange("dhcp-exchange");
        CHECK(exchange.client.state() == Client::State::Init);
        exchange.client.start(exchange.now);
        REQUIRE(exchange.sent.size() == 1);
        CHECK(exchange.sent[0].type == MessageType::Discover);
        CHECK(exchange.client.state() == Client::State::Selecting);

        exchange.now += 3;
        exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
        REQUIRE(exchange.sent.size() == 2);
        CHECK(exchange.client.state() == Client::State::Requesting);
        CHECK(exchange.sent[1].type == MessageType::Request);
        CHECK(exchange.sent[1].xid == exchange.sent[0].xid);
        CHECK(exchange.sent[1].requested == kOffered);
        CHECK(exchange.sent[1].server_id == kServer);

        exchange.now += 2;
        exchange.deliver(message_of(exchange.reply(MessageType::Ack)), kOffered);
        CHECK(exchange.client.state() == Client::State::Bound);
        const Lease& lease = exchange.client.lease();
        CHECK(lease.address == kOffered);
        CHECK(lease.prefix_length == 24);
        CHECK(lease.router == ipv4(10, 0, 2, 2));
        CHECK(lease.server == kServer);
        REQUIRE(lease.dns_count == 1);
        CHECK(lease.dns[0] == ipv4(10, 0, 2, 3));
        CHECK(lease.lease_seconds == 86400);
        CHECK(lease.bound_at == exchange.now);
        CHECK(lease.renewal_seconds == 43200);   // T1: half the lease
        CHECK(lease.rebinding_seconds == 75600); // T2: seven eighths
        CHECK(exchange.client.next_deadline() == exchange.now + 43200 * 1000);
        exchange.advance(200000); // bound: nothing more is sent until T1
        CHECK(exchange.sent.size() == 2);
        CHECK(exchange.client.stats().malformed == 0);

        exchange.require_clean();
        auto types = tshark_fields(exchange.pcap.path(), { "dhcp.option.dhcp" }, "dhcp");
        CHECK(types == std::vector<std::string> { "1", "2", "3", "5" });
        auto requested = tshark_fields(exchange.pcap.path(),
            { "dhcp.option.requested_ip_address", "dhcp.option.dhcp_server_id" }, "dhcp.option.dhcp == 3");
        REQUIRE(requested.size() == 1);
        CHECK(requested[0] == "10.0.2.15 10.0.2.2");
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("dhcp: an unanswered DISCOVER is sent again after 4, 8, 16, 32, then 64 s, each +-1 s", "[dhcp]")
{
    for (uint32_t seed : { 1u, 7u, 0xdeadbeefu }) {
        Exchange exchange("dhcp-backoff", seed);
        exchange.client.start(exchange.now);
        Millis begin = exchange.now;
        exchange.advance(300000);
        const Millis expected[] = { 4000, 8000, 16000, 32000, 64000, 64000, 64000 };
        REQUIRE(exchange.sent.size() >= 7);
        for (size_t i = 1; i < 7; i++) {
            Millis gap = exchange.sent[i].at - exchange.sent[i - 1].at;
            INFO("retransmission " << i << " after " << gap << " ms");
            CHECK(gap + 1000 >= expected[i - 1]);
            CHECK(gap <= expected[i - 1] + 1010); // +10: the tick's step
            CHECK(exchange.sent[i].type == MessageType::Discover);
            CHECK(exchange.sent[i].xid == exchange.sent[0].xid);
            CHECK(exchange.sent[i].seconds == (exchange.sent[i].at - begin) / 1000);
        }
        CHECK(exchange.client.stats().retransmissions == exchange.sent.size() - 1);
        exchange.require_clean();
    }
}

TEST_CASE("dhcp: replies for another transaction or client, or out of turn, are ignored", "[dhcp]")
{
    Exchange exchange("dhcp-ignored");
    exchange.client.start(exchange.now);
    ReplySpec other_xid = exchange.reply(MessageType::Offer);
    other_xid.xid ^= 1;
    exchange.deliver(message_of(other_xid));
    ReplySpec other_client = exchange.reply(MessageType::Offer);
    other_client.client.bytes[5] ^= 1;
    exchange.deliver(message_of(other_client));
    exchange.deliver(message_of(exchange.reply(MessageType::Ack))); // an ACK while selecting
    exchange.deliver(message_of(exchange.reply(MessageType::Nak)));
    CHECK(exchange.client.state() == Client::State::Selecting);
    CHECK(exchange.client.stats().ignored == 4);
    CHECK(exchange.sent.size() == 1);
    // An OFFER without a server identifier, or of an address no host may take.
    ReplySpec no_server = exchange.reply(MessageType::Offer, { option::kLeaseTime, 4, 0, 0, 1, 0 });
    exchange.deliver(message_of(no_server));
    ReplySpec broadcast = exchange.reply(MessageType::Offer);
    broadcast.your_address = kIpv4Broadcast;
    exchange.deliver(message_of(broadcast));
    CHECK(exchange.client.stats().malformed == 2);
    CHECK(exchange.client.state() == Client::State::Selecting);
    exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
    CHECK(exchange.client.state() == Client::State::Requesting);
    // A second OFFER once requesting changes nothing.
    exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
    CHECK(exchange.sent.size() == 2);
    // An ACK from another server, without a lease time, or with a mask
    // that is none, is not bound.
    std::vector<uint8_t> other_server = qemu_options();
    other_server[5] = 9;
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, other_server)));
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, { option::kServerId, 4, 10, 0, 2, 2 })));
    std::vector<uint8_t> holey_mask = qemu_options();
    holey_mask[10] = 0x0f;
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, holey_mask)));
    CHECK(exchange.client.state() == Client::State::Requesting);
    CHECK(exchange.client.stats().malformed == 5);
    exchange.require_clean();
}

TEST_CASE("dhcp: a NAK and an unanswered REQUEST go back to INIT and start again", "[dhcp]")
{
    Exchange exchange("dhcp-nak");
    exchange.client.start(exchange.now);
    exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
    REQUIRE(exchange.client.state() == Client::State::Requesting);
    exchange.deliver(message_of(exchange.reply(MessageType::Nak, { option::kServerId, 4, 10, 0, 2, 2 })));
    CHECK(exchange.client.state() == Client::State::Init);
    CHECK(exchange.client.stats().naks == 1);
    uint32_t first_xid = exchange.sent.back().xid;
    exchange.advance(990);
    CHECK(exchange.sent.size() == 2);
    exchange.advance(20);
    REQUIRE(exchange.sent.size() == 3);
    CHECK(exchange.sent[2].type == MessageType::Discover);
    CHECK(exchange.sent[2].xid != first_xid);
    CHECK(exchange.sent[2].seconds == 0);
    CHECK(exchange.client.state() == Client::State::Selecting);

    // This time the REQUEST goes unanswered: 4 in all, then INIT.
    exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
    exchange.advance(4000 + 8000 + 16000 + 32000 + 5000);
    size_t requests = 0;
    for (const Sent& sent : exchange.sent)
        requests += sent.type == MessageType::Request;
    CHECK(requests == 1 + Client::kRequestAttempts);
    CHECK(exchange.client.stats().request_timeouts == 1);
    CHECK(exchange.sent.back().type == MessageType::Discover);
    // And a lease still comes.
    exchange.deliver(message_of(exchange.reply(MessageType::Offer)));
    exchange.deliver(message_of(exchange.reply(MessageType::Ack)));
    CHECK(exchange.client.state() == Client::State::Bound);
    exchange.require_clean();
}

TEST_CASE("dhcp: the replies parser checks every length against its area", "[dhcp]")
{
    std::string why;
    auto good = parse(message_of(offer_spec()));
    REQUIRE(good.is_ok());
    CHECK(good.value().type == MessageType::Offer);
    CHECK(good.value().xid == 0x1234);
    CHECK(good.value().server_id == kServer);

    std::vector<uint8_t> bytes = message_of(offer_spec());
    CHECK(parse(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 239), &why).error() == Error::EBADMSG);
    CHECK(why.find("shorter") != std::string::npos);
    auto broken = bytes;
    broken[0] = 1;
    CHECK(parse(broken, &why).is_error());
    CHECK(why.find("BOOTREPLY") != std::string::npos);
    broken = bytes;
    broken[2] = 16;
    CHECK(parse(broken, &why).is_error());
    broken = bytes;
    broken[kFixedSize + 3] ^= 1;
    CHECK(parse(broken, &why).is_error());
    CHECK(why.find("cookie") != std::string::npos);

    // An option whose length runs past the message.
    auto spec = offer_spec({ option::kRouter, 200, 10, 0, 2, 2 });
    spec.end = false;
    auto cut = message_of(spec);
    cut.resize(kOptionsOffset + 3 + 6);
    CHECK(parse(cut, &why).is_error());
    CHECK(why.find("runs past") != std::string::npos);
    // A code at the very end without its length byte.
    cut.resize(kOptionsOffset + 3 + 1);
    CHECK(parse(cut, &why).is_error());
    CHECK(why.find("no length") != std::string::npos);
    // Wrong lengths for fixed-size options.
    for (uint8_t code : { option::kSubnetMask, option::kServerId, option::kLeaseTime }) {
        CHECK(parse(message_of(offer_spec({ code, 3, 1, 2, 3 })), &why).is_error());
        CHECK(why.find("not 4 bytes") != std::string::npos);
    }
    CHECK(parse(message_of(offer_spec({ option::kRouter, 6, 1, 2, 3, 4, 5, 6 })), &why).is_error());
    CHECK(parse(message_of(offer_spec({ option::kDnsServer, 0 })), &why).is_error());
    CHECK(parse(message_of(offer_spec({ option::kOverload, 1, 4 })), &why).is_error());
    // No message type (BOOTP), or a client's.
    auto no_type = message_of(offer_spec());
    no_type[kOptionsOffset] = option::kPad;
    no_type[kOptionsOffset + 1] = option::kPad;
    no_type[kOptionsOffset + 2] = option::kPad;
    CHECK(parse(no_type, &why).is_error());
    CHECK(why.find("no message type") != std::string::npos);
    auto discover = message_of(offer_spec());
    discover[kOptionsOffset + 2] = 1;
    CHECK(parse(discover, &why).is_error());
    // Unknown options are skipped, pads too; the first occurrence wins;
    // at most three DNS servers kept; no end option is an end.
    auto lenient = offer_spec({ 0, 0, 200, 3, 1, 2, 3, option::kRouter, 4, 1, 1, 1, 1, option::kRouter, 4, 2, 2, 2, 2,
        option::kDnsServer, 16, 1, 0, 0, 1, 1, 0, 0, 2, 1, 0, 0, 3, 1, 0, 0, 4 });
    lenient.end = false;
    auto read = parse(message_of(lenient));
    REQUIRE(read.is_ok());
    CHECK(read.value().router == ipv4(1, 1, 1, 1));
    CHECK(read.value().dns_count == 3);
    CHECK(read.value().dns[2] == ipv4(1, 0, 0, 3));
    CHECK(read.value().server_id == 0);
    // Options after the end option are not read.
    auto after_end = message_of(offer_spec({ option::kEnd, option::kRouter, 4, 1, 1, 1, 1 }));
    REQUIRE(parse(after_end).is_ok());
    CHECK(parse(after_end).value().router == 0);
}

TEST_CASE("dhcp: option overload reads the file field, then sname, and only when told", "[dhcp]")
{
    auto spec = offer_spec({ option::kOverload, 1, 3 });
    spec.file = { option::kRouter, 4, 10, 0, 2, 2, option::kEnd };
    spec.sname = { option::kServerId, 4, 10, 0, 2, 2, option::kRouter, 4, 9, 9, 9, 9 };
    auto read = parse(message_of(spec));
    REQUIRE(read.is_ok());
    CHECK(read.value().router == ipv4(10, 0, 2, 2)); // file before sname
    CHECK(read.value().server_id == kServer);
    // Without option 52 those fields are names, not options.
    spec.options.clear();
    auto plain = parse(message_of(spec));
    REQUIRE(plain.is_ok());
    CHECK(plain.value().router == 0);
    // Overload inside an overloaded field is ignored; a broken option there fails.
    spec.options = { option::kOverload, 1, 1 };
    spec.file = { option::kOverload, 1, 2, option::kEnd };
    spec.sname = { option::kRouter, 4, 9, 9, 9, 9 };
    auto nested = parse(message_of(spec));
    REQUIRE(nested.is_ok());
    CHECK(nested.value().router == 0);
    spec.file = std::vector<uint8_t>(128, 0);
    spec.file[126] = option::kRouter;
    spec.file[127] = 4;
    std::string why;
    CHECK(parse(message_of(spec), &why).is_error());
    CHECK(why.find("file") != std::string::npos);
}

TEST_CASE("dhcp: frames to port 68 are picked out; others and broken ones are not", "[dhcp]")
{
    auto message = message_of(offer_spec());
    auto frame = server_frame(message, kIpv4Broadcast);
    auto found = server_message_of(frame.data(), frame.size(), nullptr);
    REQUIRE(found.is_ok());
    CHECK(found.value().length == message.size());
    CHECK(memcmp(found.value().bytes, message.data(), message.size()) == 0);
    CHECK(found.value().source_mac == test_dhcp::kServerMac);

    auto bad_checksum = frame;
    bad_checksum.back() ^= 0xff;
    CHECK(server_message_of(bad_checksum.data(), bad_checksum.size(), nullptr).error() == Error::EBADMSG);
    auto other_port = frame;
    store16(other_port.data() + 36, 69);
    CHECK(server_message_of(other_port.data(), other_port.size(), nullptr).error() == Error::ENOENT);
    auto from_client_port = frame;
    store16(from_client_port.data() + 34, 1234);
    store16(from_client_port.data() + 40, 0); // no checksum: still not from a server
    CHECK(server_message_of(from_client_port.data(), from_client_port.size(), nullptr).error() == Error::ENOENT);
    auto arp = frame;
    arp[12] = 0x08;
    arp[13] = 0x06;
    CHECK(server_message_of(arp.data(), arp.size(), nullptr).error() == Error::ENOENT);
    for (size_t length : { size_t(0), size_t(13), size_t(20), size_t(40) })
        CHECK(server_message_of(frame.data(), length, nullptr).is_error());
    uint8_t huge[1500] = {};
    CHECK(!build_client_frame(kClientMac, huge, sizeof(huge), 1));
}

TEST_CASE("dhcp: ip= takes Linux's short and long forms and says why it refuses", "[dhcp]")
{
    keel::Diagnostic why;
    for (const char* dhcp : { "dhcp", "on", "any", ":::::eth1:dhcp", "::::::", ":::::eth0:" }) {
        auto param = parse_ip_param(dhcp, nullptr);
        INFO(dhcp);
        REQUIRE(param.is_ok());
        CHECK(param.value().mode == IpParam::Mode::Dhcp);
    }
    CHECK(strcmp(parse_ip_param(":::::eth1:dhcp", nullptr).value().device, "eth1") == 0);
    CHECK(parse_ip_param("dhcp", nullptr).value().device[0] == 0);
    auto routed = parse_ip_param("::10.0.2.2::::dhcp", nullptr);
    REQUIRE(routed.is_ok());
    CHECK(routed.value().mode == IpParam::Mode::Dhcp);
    CHECK(routed.value().gateway == kServer);
    CHECK(parse_ip_param("off", nullptr).value().mode == IpParam::Mode::Off);
    CHECK(parse_ip_param("none", nullptr).value().mode == IpParam::Mode::Off);

    auto fixed = parse_ip_param("10.0.2.15::10.0.2.2:255.255.255.0:keel:eth0:off:10.0.2.3", nullptr);
    REQUIRE(fixed.is_ok());
    CHECK(fixed.value().mode == IpParam::Mode::Static);
    CHECK(fixed.value().address == kOffered);
    CHECK(fixed.value().prefix_length == 24);
    CHECK(fixed.value().gateway == kServer);
    CHECK(strcmp(fixed.value().device, "eth0") == 0);
    auto bare = parse_ip_param("192.168.1.7:::::", nullptr);
    REQUIRE(bare.is_ok());
    CHECK(bare.value().prefix_length == 24);
    CHECK(bare.value().gateway == 0);

    struct Bad {
        const char* value;
        const char* reason;
    };
    for (const Bad& bad : {
             Bad { "foo", "give dhcp" },
             Bad { "", "give dhcp" },
             Bad { "bootp", "not implemented" },
             Bad { ":::::eth0:rarp", "not implemented" },
             Bad { ":::::eth0:maybe", "autoconf maybe" },
             Bad { ":::::Eth0:dhcp", "device Eth0" },
             Bad { ":::::averyveryverylongname:dhcp", "device" },
             Bad { ":::::eth0:off", "configures nothing" },
             Bad { "10.0.2.15:::::eth0:dhcp", "leave one" },
             Bad { "10.0.2:::::eth0:off", "client address" },
             Bad { "127.0.0.1:::::eth0:off", "client address" },
             Bad { "10.0.2.15:::255.0.255.0::eth0:off", "netmask" },
             Bad { "10.0.2.15:::255.255.255.255::eth0:off", "netmask" },
             Bad { "10.0.2.15::10.0.3.2:255.255.255.0::eth0:off", "gateway" },
             Bad { "::10.0.2:::eth0:dhcp", "gateway 10.0.2 is not" },
             Bad { "::224.0.0.1:::eth0:dhcp", "gateway" },
         }) {
        why.clear();
        INFO(bad.value);
        CHECK(parse_ip_param(bad.value, &why).error() == Error::EINVAL);
        CHECK(std::string(why.message).find(bad.reason) != std::string::npos);
    }
    std::string long_field(100, 'a');
    CHECK(parse_ip_param((":::::" + long_field + ":dhcp").c_str(), &why).is_error());
}

TEST_CASE("dhcp: a lease is renewed at T1, rebound at T2, and given up when it runs out", "[dhcp]")
{
    long baseline = net_live_allocations();
    {
        Exchange exchange("dhcp-lease-expires");
        bind_lease(exchange, 3600); // T1 at 1800 s, T2 at 3150 s
        Millis bound = exchange.now;
        size_t before = exchange.sent.size();
        exchange.advance(1800 * 1000 - 10);
        CHECK(count_sent(exchange, before) == 0);
        CHECK(exchange.events.empty());
        // T1: RENEWING, a REQUEST unicast to the server from the address,
        // which is in ciaddr; no option 50 or 54 (RFC 2131 table 5).
        exchange.advance(20);
        REQUIRE(count_sent(exchange, before) == 1);
        CHECK(exchange.client.state() == Client::State::Renewing);
        const Sent renew = exchange.sent.back();
        CHECK(renew.type == MessageType::Request);
        CHECK(renew.source == kOffered);
        CHECK(renew.destination == kServer);
        CHECK(renew.client_address == kOffered);
        CHECK(renew.requested == 0);
        CHECK(renew.server_id == 0);
        CHECK(renew.at - bound == 1800 * 1000);
        REQUIRE(exchange.events.size() == 1);
        CHECK(exchange.events[0].event == LeaseEvent::Renewing);
        // Unanswered: sent again after half the time left until T2
        // (1350 s / 2), then 337.5 s, then the 60 s floor...
        exchange.advance(675 * 1000 + 10);
        REQUIRE(count_sent(exchange, before) == 2);
        CHECK(exchange.sent.back().at - renew.at == 675 * 1000);
        CHECK(exchange.sent.back().xid == renew.xid);
        CHECK(exchange.sent.back().destination == kServer);
        // T2: REBINDING, broadcast from the address.
        Millis t2 = bound + 3150 * 1000;
        exchange.advance(t2 - exchange.now + 10);
        CHECK(exchange.client.state() == Client::State::Rebinding);
        REQUIRE(exchange.events.size() == 2);
        CHECK(exchange.events[1].event == LeaseEvent::Rebinding);
        CHECK(exchange.events[1].at == t2);
        const Sent rebind = exchange.sent.back();
        CHECK(rebind.at == t2);
        CHECK(rebind.source == kOffered);
        CHECK(rebind.destination == kIpv4Broadcast);
        CHECK(rebind.client_address == kOffered);
        CHECK(rebind.server_id == 0);
        for (size_t i = before + 1; i < exchange.sent.size(); i++) {
            if (exchange.sent[i].at < t2)
                CHECK(exchange.sent[i].destination == kServer);
        }
        // The lease's end: the address goes, and the client starts over.
        Millis end = bound + 3600 * 1000;
        exchange.advance(end - exchange.now + 10);
        REQUIRE(exchange.events.size() == 3);
        CHECK(exchange.events[2].event == LeaseEvent::Expired);
        CHECK(exchange.events[2].at == end);
        CHECK(exchange.events[2].lease.address == kOffered);
        CHECK(exchange.client.state() == Client::State::Init);
        CHECK(exchange.client.lease().address == 0);
        CHECK(exchange.client.stats().expirations == 1);
        for (const Sent& sent : exchange.sent) {
            if (sent.at > t2 && sent.at < end)
                CHECK(sent.destination == kIpv4Broadcast);
            CHECK(sent.at <= end);
        }
        exchange.advance(1000 + 10);
        CHECK(exchange.sent.back().type == MessageType::Discover);
        CHECK(exchange.sent.back().source == 0);
        CHECK(exchange.client.state() == Client::State::Selecting);
        exchange.require_clean();
        auto renewals = tshark_fields(exchange.pcap.path(), { "ip.src", "ip.dst", "dhcp.ip.client" },
            "dhcp.option.dhcp == 3 && ip.src != 0.0.0.0");
        REQUIRE(renewals.size() >= 3);
        CHECK(renewals[0] == "10.0.2.15 10.0.2.2 10.0.2.15");
        CHECK(renewals.back() == "10.0.2.15 255.255.255.255 10.0.2.15");
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("dhcp: an ACK in RENEWING extends the lease from the REQUEST that won it", "[dhcp]")
{
    Exchange exchange("dhcp-renewed");
    bind_lease(exchange, 600); // T1 at 300 s
    exchange.advance(300 * 1000 + 10);
    REQUIRE(exchange.client.state() == Client::State::Renewing);
    Millis asked = exchange.sent.back().at;
    exchange.now += 2000;
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, qemu_options(600))), kOffered);
    CHECK(exchange.client.state() == Client::State::Bound);
    CHECK(exchange.client.lease().bound_at == asked);
    CHECK(exchange.client.next_deadline() == asked + 300 * 1000);
    CHECK(exchange.client.stats().renewals == 1);
    REQUIRE(exchange.events.size() == 2);
    CHECK(exchange.events[1].event == LeaseEvent::Renewed);
    CHECK(exchange.events[1].lease.address == kOffered);
    // And again at the new T1, with a new transaction.
    uint32_t xid = exchange.sent.back().xid;
    exchange.advance(asked + 300 * 1000 - exchange.now + 10);
    CHECK(exchange.client.state() == Client::State::Renewing);
    CHECK(exchange.sent.back().xid != xid);
    // An ACK from another server while renewing is not taken.
    std::vector<uint8_t> other_server = qemu_options(600);
    other_server[5] = 9;
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, other_server)), kOffered);
    CHECK(exchange.client.state() == Client::State::Renewing);
    // A NAK from another server neither; one from ours takes the address away.
    exchange.deliver(message_of(exchange.reply(MessageType::Nak, { option::kServerId, 4, 10, 0, 2, 9 })));
    CHECK(exchange.client.state() == Client::State::Renewing);
    exchange.deliver(message_of(exchange.reply(MessageType::Nak, { option::kServerId, 4, 10, 0, 2, 2 })));
    CHECK(exchange.client.state() == Client::State::Init);
    CHECK(exchange.events.back().event == LeaseEvent::Refused);
    CHECK(exchange.events.back().lease.address == kOffered);
    exchange.advance(1010);
    CHECK(exchange.sent.back().type == MessageType::Discover);
    exchange.require_clean();
}

TEST_CASE("dhcp: REBINDING takes an ACK from any server", "[dhcp]")
{
    Exchange exchange("dhcp-rebound");
    bind_lease(exchange, 800); // T2 at 700 s
    exchange.advance(700 * 1000 + 10);
    REQUIRE(exchange.client.state() == Client::State::Rebinding);
    std::vector<uint8_t> other_server = qemu_options(800);
    other_server[5] = 9;
    exchange.deliver(message_of(exchange.reply(MessageType::Ack, other_server)), kOffered);
    CHECK(exchange.client.state() == Client::State::Bound);
    CHECK(exchange.client.lease().server == ipv4(10, 0, 2, 9));
    CHECK(exchange.events.back().event == LeaseEvent::Renewed);
    exchange.require_clean();
}

TEST_CASE("dhcp: T1 and T2 come from the server when they make sense", "[dhcp]")
{
    struct Case {
        uint32_t t1, t2;                   // options 58 and 59 (0: absent)
        uint32_t expected_t1, expected_t2; // what the lease keeps
    };
    const Case cases[] = {
        { 100, 200, 100, 200 },   // both given
        { 0, 0, 1800, 3150 },     // neither: half and seven eighths
        { 500, 200, 100, 200 },   // T1 after T2: T1 is half the lease, cut at T2
        { 100, 4000, 100, 3150 }, // T2 after the lease's end: the default
        { 3000, 0, 3000, 3150 },  // only T1
    };
    for (const Case& test : cases) {
        Exchange exchange("dhcp-times");
        std::vector<uint8_t> extra;
        if (test.t1)
            extra.insert(extra.end(), { option::kRenewalTime, 4, 0, 0, uint8_t(test.t1 >> 8), uint8_t(test.t1) });
        if (test.t2)
            extra.insert(extra.end(), { option::kRebindingTime, 4, 0, 0, uint8_t(test.t2 >> 8), uint8_t(test.t2) });
        bind_lease(exchange, 3600, extra);
        INFO("T1 " << test.t1 << ", T2 " << test.t2);
        CHECK(exchange.client.lease().renewal_seconds == test.expected_t1);
        CHECK(exchange.client.lease().rebinding_seconds == test.expected_t2);
        CHECK(exchange.client.next_deadline() == exchange.client.lease().bound_at + test.expected_t1 * 1000);
    }
    // A malformed option 58 is refused with the reply.
    std::vector<uint8_t> bad = qemu_options(3600);
    bad.insert(bad.end(), { option::kRenewalTime, 2, 0, 1 });
    ReplySpec spec = offer_spec(bad);
    spec.type = MessageType::Ack;
    std::string why;
    CHECK(parse(message_of(spec), &why).is_error());
    CHECK(why.find("option 58") != std::string::npos);
}

TEST_CASE("dhcp: an infinite lease is never renewed", "[dhcp]")
{
    Exchange exchange("dhcp-infinite");
    bind_lease(exchange, kInfiniteLease);
    CHECK(exchange.client.next_deadline() == 0);
    size_t before = exchange.sent.size();
    exchange.advance(3 * 3600 * 1000);
    CHECK(exchange.sent.size() == before);
    CHECK(exchange.client.state() == Client::State::Bound);
}
