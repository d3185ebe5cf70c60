// The carrier after registration (lib/netdev/carrier.cpp): changes are
// counted as Linux's carrier_changes, losing it drops what waits to be
// sent, and nothing is sent without it; lo always has one.
#include <string.h>

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
    size_t ring_room = 1000;   // frames it takes before saying EBUSY
    std::vector<uint8_t> sent; // the first byte of each frame
};

int32_t fake_transmit(void* context, Packet* frame)
{
    auto* driver = static_cast<FakeDriver*>(context);
    if (driver->ring_room == 0)
        return -int32_t(Error::EBUSY);
    driver->ring_room--;
    driver->sent.push_back(frame->data()[0]);
    Packet::destroy(frame);
    return 0;
}

PacketPtr frame_of(uint8_t tag)
{
    PacketPtr frame(Packet::create(32, 60));
    REQUIRE(frame);
    memset(frame->put(60), tag, 60);
    return frame;
}

void setup(Netdev& device, FakeDriver& driver, uint32_t flags)
{
    strcpy(device.name, "eth0");
    device.flags = flags;
    device.ops.transmit = fake_transmit;
    device.ops.context = &driver;
}

} // namespace

TEST_CASE("carrier: a change is counted, a repeat is not", "[carrier]")
{
    FakeDriver driver;
    Netdev device;
    setup(device, driver, kFlagUp | kFlagBroadcast | kFlagLowerUp);
    CHECK(device.has_carrier());
    CHECK_FALSE(set_carrier(device, true));
    CHECK(device.carrier_changes == 0);

    CHECK(set_carrier(device, false));
    CHECK_FALSE(device.has_carrier());
    CHECK((device.flags & kFlagLowerUp) == 0);
    CHECK(device.flags == (kFlagUp | kFlagBroadcast)); // nothing else touched
    CHECK_FALSE(set_carrier(device, false));
    CHECK(device.carrier_changes == 1);

    CHECK(set_carrier(device, true));
    CHECK(device.has_carrier());
    CHECK(device.flags == (kFlagUp | kFlagBroadcast | kFlagLowerUp));
    CHECK(device.carrier_changes == 2);
}

TEST_CASE("carrier: without it nothing is sent, with it again everything is", "[carrier]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        Netdev device;
        setup(device, driver, kFlagUp | kFlagLowerUp);
        REQUIRE(!transmit(device, frame_of(1)).is_error());
        REQUIRE(set_carrier(device, false));
        auto refused = transmit(device, frame_of(2));
        REQUIRE(refused.is_error());
        CHECK(refused.error() == Error::ENETDOWN);
        CHECK(device.stats.tx_dropped == 1);
        CHECK(device.stats.tx_packets == 1);

        REQUIRE(set_carrier(device, true));
        REQUIRE(!transmit(device, frame_of(3)).is_error());
        CHECK(driver.sent == std::vector<uint8_t> { 1, 3 });
        CHECK(device.stats.tx_packets == 2);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("carrier: losing it drops the frames that waited for the driver's ring", "[carrier]")
{
    long baseline = net_live_allocations();
    {
        FakeDriver driver;
        driver.ring_room = 1;
        Netdev device;
        setup(device, driver, kFlagUp | kFlagLowerUp);
        for (uint8_t tag = 1; tag <= 4; tag++)
            REQUIRE(!transmit(device, frame_of(tag)).is_error());
        CHECK(driver.sent == std::vector<uint8_t> { 1 });
        CHECK(device.tx.size() == 3);

        REQUIRE(set_carrier(device, false));
        CHECK(device.tx.is_empty());
        CHECK(device.stats.tx_dropped == 3);

        // The ring has room again and the carrier is back: nothing old is
        // sent, new frames are.
        driver.ring_room = 10;
        REQUIRE(set_carrier(device, true));
        CHECK(tx_wake(device) == 0);
        REQUIRE(!transmit(device, frame_of(5)).is_error());
        CHECK(driver.sent == std::vector<uint8_t> { 1, 5 });
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("carrier: lo has one without being told, and a device down sends nothing either way", "[carrier]")
{
    FakeDriver driver;
    Netdev lo;
    setup(lo, driver, kFlagUp | kFlagLoopback);
    CHECK(lo.has_carrier());
    REQUIRE(!transmit(lo, frame_of(7)).is_error());
    CHECK(driver.sent == std::vector<uint8_t> { 7 });

    Netdev down;
    setup(down, driver, kFlagLowerUp);
    CHECK(transmit(down, frame_of(8)).error() == Error::ENETDOWN);
    CHECK(set_carrier(down, false));
    CHECK(set_carrier(down, true));
    CHECK(down.carrier_changes == 2);
    CHECK_FALSE(down.is_up());
}
