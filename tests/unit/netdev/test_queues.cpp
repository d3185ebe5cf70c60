// The receive poll's budget, transmit back-pressure and Ethernet framing,
// with a fake driver that records what it was handed.
#include <string.h>

#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "../net/host_platform.h"
#include "lib/netdev/netdev.h"

using namespace keel;
using namespace keel::netdev;
using keel::net::Packet;
using keel::net::PacketPtr;

namespace {

struct FakeDriver {
    size_t ring_room = 1000; // frames it takes before saying EBUSY
    int32_t fail_with = 0;   // an error for every frame
    std::vector<std::vector<uint8_t>> sent;
};

int32_t fake_transmit(void* context, Packet* frame)
{
    auto* driver = static_cast<FakeDriver*>(context);
    if (driver->ring_room == 0)
        return -int32_t(Error::EBUSY);
    driver->ring_room--;
    driver->sent.emplace_back(frame->data(), frame->data() + frame->length());
    Packet::destroy(frame);
    return driver->fail_with;
}

PacketPtr frame_of(uint8_t tag, size_t length = 60)
{
    PacketPtr frame(Packet::create(32, length));
    REQUIRE(frame);
    memset(frame->put(length), tag, length);
    return frame;
}

void setup(Netdev& device, FakeDriver& driver)
{
    strcpy(device.name, "eth0");
    device.flags = kFlagUp | kFlagLowerUp;
    device.ops.transmit = fake_transmit;
    device.ops.context = &driver;
}

struct Delivered {
    std::vector<uint8_t> tags;
};

void deliver(void* context, Netdev&, PacketPtr frame)
{
    static_cast<Delivered*>(context)->tags.push_back(frame->data()[0]);
}

// A queue that stopped its user (`fill` until it does) tells it to go on
// once the device goes down (`take` says so once), and not before.
template<typename Fill, typename Take> void check_down_releases(Netdev& device, Fill fill, Take take)
{
    fill();
    CHECK(!take(device));
    device.flags = 0;
    CHECK(take(device));
    CHECK(!take(device));
}

} // namespace

TEST_CASE("queues: the receive poll takes at most its budget, in order", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        Netdev device;
        setup(device, driver);
        for (uint8_t i = 0; i < 10; i++)
            REQUIRE(!queue_receive(device, frame_of(i)).is_error());
        Delivered got;
        CHECK(poll_receive(device, 4, deliver, &got) == 4);
        CHECK(got.tags == std::vector<uint8_t> { 0, 1, 2, 3 });
        CHECK(poll_receive(device, 4, deliver, &got) == 4);
        CHECK(poll_receive(device, 4, deliver, &got) == 2);
        CHECK(poll_receive(device, 4, deliver, &got) == 0);
        CHECK(got.tags.size() == 10);
        CHECK(got.tags.back() == 9);
        CHECK(device.stats.rx_packets == 10);
        CHECK(device.stats.rx_bytes == 600);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: a full receive queue or a down device drops and counts", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        Netdev device;
        setup(device, driver);
        for (size_t i = 0; i < kRxQueueLimit; i++)
            REQUIRE(!queue_receive(device, frame_of(1)).is_error());
        CHECK(queue_receive(device, frame_of(2)).error() == Error::EAGAIN);
        CHECK(device.stats.rx_dropped == 1);
        device.flags = 0;
        CHECK(queue_receive(device, frame_of(3)).error() == Error::ENETDOWN);
        CHECK(device.stats.rx_dropped == 2);
        device.rx.clear();
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: transmit with back-pressure keeps order across a full ring", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        driver.ring_room = 2;
        Netdev device;
        setup(device, driver);
        for (uint8_t i = 0; i < 5; i++)
            REQUIRE(!transmit(device, frame_of(i)).is_error());
        CHECK(driver.sent.size() == 2);
        CHECK(device.tx_stopped);
        CHECK(device.tx.size() == 3);
        // While stopped, frames queue even if the ring had room.
        driver.ring_room = 1;
        REQUIRE(!transmit(device, frame_of(5)).is_error());
        CHECK(driver.sent.size() == 2);
        CHECK(tx_wake(device) == 1);
        CHECK(device.tx_stopped);
        driver.ring_room = 100;
        CHECK(tx_wake(device) == 3);
        CHECK(!device.tx_stopped);
        REQUIRE(driver.sent.size() == 6);
        for (uint8_t i = 0; i < 6; i++)
            CHECK(driver.sent[i][0] == i);
        CHECK(device.stats.tx_packets == 6);
        CHECK(device.stats.tx_bytes == 360);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: a full transmit queue refuses with EAGAIN", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        driver.ring_room = 0;
        Netdev device;
        setup(device, driver);
        for (size_t i = 0; i < kTxQueueLimit; i++)
            REQUIRE(!transmit(device, frame_of(1)).is_error());
        CHECK(transmit(device, frame_of(2)).error() == Error::EAGAIN);
        CHECK(device.stats.tx_dropped == 1);
        // Going down drops what waited.
        device.flags = 0;
        CHECK(transmit(device, frame_of(3)).error() == Error::ENETDOWN);
        CHECK(tx_wake(device) == 0);
        CHECK(device.tx.is_empty());
        CHECK(device.stats.tx_dropped == 2 + kTxQueueLimit);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: after a refusal, room is reported once the queue drains to half", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        driver.ring_room = 0;
        Netdev device;
        setup(device, driver);
        for (size_t i = 0; i < kTxQueueLimit; i++)
            REQUIRE(!transmit(device, frame_of(1)).is_error());
        CHECK(!take_tx_room(device)); // full, but nobody was refused
        CHECK(transmit(device, frame_of(2)).error() == Error::EAGAIN);
        CHECK(device.tx_refused);
        // The ring takes a few: not yet half.
        driver.ring_room = kTxQueueLimit / 2 - 1;
        CHECK(tx_wake(device) == kTxQueueLimit / 2 - 1);
        CHECK(!take_tx_room(device));
        driver.ring_room = 1;
        CHECK(tx_wake(device) == 1);
        CHECK(device.tx.size() == kTxQueueLimit / 2);
        CHECK(take_tx_room(device));
        CHECK(!take_tx_room(device)); // once a refusal
        // Refused again, then the device goes down: its senders are told
        // too (their next send fails instead of waiting).
        driver.ring_room = 0;
        check_down_releases(
            device,
            [&] {
                while (!transmit(device, frame_of(3)).is_error()) { }
            },
            take_tx_room);
        device.tx.clear();
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: a full receive queue stops the driver, and half drained resumes it", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        Netdev device;
        setup(device, driver);
        CHECK(rx_room(device) == kRxQueueLimit);
        CHECK(!device.rx_waiting);
        for (size_t i = 0; i < kRxQueueLimit - 3; i++)
            REQUIRE(!queue_receive(device, frame_of(1)).is_error());
        CHECK(rx_room(device) == 3);
        CHECK(!take_rx_room(device)); // room left: nobody waits
        for (size_t i = 0; i < 3; i++)
            REQUIRE(!queue_receive(device, frame_of(1)).is_error());
        CHECK(rx_room(device) == 0);
        CHECK(device.rx_waiting);
        CHECK(device.stats.rx_dropped == 0);
        Delivered got;
        // Drained, but not yet to half: the driver still waits.
        CHECK(poll_receive(device, kRxQueueLimit / 2 - 1, deliver, &got) == kRxQueueLimit / 2 - 1);
        CHECK(!take_rx_room(device));
        CHECK(poll_receive(device, 1, deliver, &got) == 1);
        CHECK(take_rx_room(device));
        CHECK(!take_rx_room(device)); // once per stop
        CHECK(rx_room(device) == kRxQueueLimit / 2);
        // Stopped again, then the device goes down: the driver goes on
        // (what it takes is dropped) rather than keeping its ring full.
        check_down_releases(
            device,
            [&] {
                while (rx_room(device) != 0)
                    REQUIRE(!queue_receive(device, frame_of(2)).is_error());
            },
            take_rx_room);
        device.rx.clear();
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: a driver that asks for room loses no frame to a flood", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        Netdev device;
        setup(device, driver);
        // The device's ring holds 128 frames and its sender has 5,000 to
        // send; the driver takes up to 64 a run, but never more than the
        // queue's room, and the consumer takes 64 a round only every
        // third run: a flood it cannot keep up with.
        constexpr size_t kRing = 128, kFrames = 5000, kBudget = 64;
        size_t sent = 0, in_ring = 0, stops = 0, resumes = 0;
        uint8_t next = 0;
        bool waiting = false;
        Delivered got;
        for (size_t run = 0; got.tags.size() < kFrames; run++) {
            while (in_ring < kRing && sent < kFrames) { // the sender waits for buffers
                in_ring++;
                sent++;
            }
            if (!waiting) {
                size_t room = rx_room(device);
                if (room == 0) {
                    waiting = true;
                    stops++;
                }
                for (size_t i = 0; i < std::min(room, kBudget) && in_ring; i++, in_ring--)
                    REQUIRE(!queue_receive(device, frame_of(next++)).is_error());
            }
            if (run % 3 == 0 || sent == kFrames)
                poll_receive(device, kBudget, deliver, &got);
            if (take_rx_room(device)) {
                REQUIRE(waiting);
                waiting = false;
                resumes++;
            }
            REQUIRE(run < 100000);
        }
        CHECK(device.stats.rx_dropped == 0);
        CHECK(device.stats.rx_packets == kFrames);
        CHECK(stops > 0);
        CHECK(resumes == stops);
        for (size_t i = 0; i < got.tags.size(); i++)
            REQUIRE(got.tags[i] == uint8_t(i));
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: oversized frames and driver errors", "[queues]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        Netdev device;
        setup(device, driver);
        device.mtu = 100;
        CHECK(transmit(device, frame_of(1, 115)).error() == Error::EMSGSIZE);
        REQUIRE(!transmit(device, frame_of(1, 114)).is_error());
        driver.fail_with = -int32_t(Error::EIO);
        REQUIRE(!transmit(device, frame_of(1)).is_error());
        CHECK(device.stats.tx_errors == 1);
        CHECK(device.stats.tx_packets == 1);
        device.ops.transmit = nullptr;
        CHECK(transmit(device, frame_of(1)).error() == Error::ENETDOWN);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("queues: Ethernet framing and checks", "[queues]")
{
    long baseline = net_live_allocations();
    {
        Netdev device;
        device.mac = { { 2, 0, 0, 0, 0, 1 } };
        PacketPtr packet = frame_of(0xab, 46);
        REQUIRE(!frame_ethernet(device, *packet, MacAddress::broadcast(), 0x0806).is_error());
        REQUIRE(packet->length() == 60);
        const uint8_t expected[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
        CHECK(memcmp(packet->data(), expected, 14) == 0);
        auto header = unframe_ethernet(*packet);
        REQUIRE(!header.is_error());
        CHECK(header.value().ether_type == 0x0806);
        CHECK(header.value().source == device.mac);
        CHECK(packet->length() == 46);
        CHECK(packet->data()[0] == 0xab);

        PacketPtr short_frame = frame_of(0, 13);
        CHECK(unframe_ethernet(*short_frame).error() == Error::EBADMSG);
        CHECK(short_frame->length() == 13);
        PacketPtr no_room(Packet::create(0, 10));
        CHECK(frame_ethernet(device, *no_room, MacAddress::broadcast(), 0x0800).error() == Error::ENOMEM);
    }
    CHECK(net_live_allocations() == baseline);
}
