// Packet buffers and queues.
#include <string.h>

#include <catch2/catch.hpp>

#include "host_platform.h"
#include "lib/net/packet.h"

using namespace keel::net;

TEST_CASE("packet: headroom and tailroom", "[packet]")
{
    long baseline = net_live_allocations();
    {
        PacketPtr packet(Packet::create(32, 100));
        REQUIRE(packet);
        CHECK(packet->headroom() == 32);
        CHECK(packet->tailroom() == 100);
        memcpy(packet->put(10), "0123456789", 10);
        CHECK(packet->length() == 10);
        CHECK(packet->tailroom() == 90);
        uint8_t* header = packet->push(8);
        REQUIRE(header);
        CHECK(header == packet->data());
        CHECK(packet->length() == 18);
        CHECK(packet->push(25) == nullptr); // only 24 left
        CHECK(packet->pull(8) == header);
        CHECK(memcmp(packet->data(), "0123", 4) == 0);
        CHECK(packet->pull(11) == nullptr);
        CHECK(packet->trim(4));
        CHECK(!packet->trim(5));
        CHECK(packet->put(97) == nullptr);
        CHECK(Packet::create(0, Packet::kMaxCapacity + 1) == nullptr);
    }
    CHECK(net_live_allocations() == baseline);
}

TEST_CASE("packet: allocation failure is an answer, not a crash", "[packet]")
{
    net_fail_allocations_after(0);
    CHECK(Packet::create(0, 10) == nullptr);
    CHECK(Packet::copy_of(reinterpret_cast<const uint8_t*>("x"), 1, 0) == nullptr);
    net_fail_allocations_after(-1);
}

TEST_CASE("packet: queues are bounded and FIFO", "[packet]")
{
    long baseline = net_live_allocations();
    {
        PacketQueue queue(2);
        for (uint8_t i = 0; i < 3; i++) {
            PacketPtr packet(Packet::copy_of(&i, 1, 0));
            PacketPtr refused = queue.push(std::move(packet));
            CHECK(bool(refused) == (i == 2));
        }
        CHECK(queue.size() == 2);
        CHECK(queue.pop()->data()[0] == 0);
        CHECK(queue.pop()->data()[0] == 1);
        CHECK(!queue.pop());
        uint8_t byte = 9;
        CHECK(!queue.push(PacketPtr(Packet::copy_of(&byte, 1, 0))));
        // The destructor frees what is still queued.
    }
    CHECK(net_live_allocations() == baseline);
}

namespace {

int g_released = 0;
void count_release(void* storage)
{
    CHECK(storage == &g_released);
    g_released++;
}
void other_release(void*) { }

} // namespace

TEST_CASE("packet: a packet over someone else's bytes gives them back once", "[packet]")
{
    long baseline = net_live_allocations();
    uint8_t bytes[200];
    g_released = 0;
    {
        PacketPtr packet(Packet::wrap(bytes, sizeof(bytes), 64, 10, count_release, &g_released));
        REQUIRE(packet);
        CHECK(packet->data() == bytes + 64);
        CHECK(packet->length() == 10);
        CHECK(packet->headroom() == 64);
        CHECK(packet->tailroom() == 126);
        CHECK(packet->push(20) == bytes + 44);
        CHECK(packet->put(6) == bytes + 74);
        CHECK(packet->storage(count_release) == &g_released);
        CHECK(packet->storage(other_release) == nullptr); // asked by another owner
        CHECK(g_released == 0);
    }
    CHECK(g_released == 1);
    {
        PacketPtr packet(Packet::wrap(bytes, sizeof(bytes), 0, 0, count_release, &g_released));
        REQUIRE(packet);
        packet->detach_storage();
        CHECK(packet->storage(count_release) == nullptr);
    }
    CHECK(g_released == 1); // detached: the caller has the bytes back
    CHECK(Packet::wrap(bytes, sizeof(bytes), 201, 0, count_release, &g_released) == nullptr);
    CHECK(Packet::wrap(bytes, sizeof(bytes), 100, 101, count_release, &g_released) == nullptr);
    CHECK(g_released == 1);
    PacketPtr own(Packet::create(16, 16));
    CHECK(own->storage(count_release) == nullptr); // the library's own bytes
    own = {};
    CHECK(net_live_allocations() == baseline);
}
