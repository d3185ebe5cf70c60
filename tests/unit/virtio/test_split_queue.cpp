// The split virtqueue's driver side against a fake device written here:
// chains, a full ring, out-of-order completions, the index wrap at 2^16,
// event-index thresholds, interrupt suppression, indirect tables, a
// malicious used ring, detaching at reset, and where the barriers fall.
#include <catch2/catch.hpp>

#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lib/virtio/split_queue_impl.h"
#include "ring_memory.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::virtio;
using namespace virtio_test;

namespace {

void* token(uintptr_t n) { return reinterpret_cast<void*>(n); }

SplitQueue make_queue(RingMemory& memory, bool event_index = false, uint16_t start = 0, bool indirect = false)
{
    Diagnostic diagnostic;
    auto queue = SplitQueue::create(memory.config(event_index, start, indirect), &diagnostic);
    INFO(diagnostic.message);
    REQUIRE(queue.is_ok());
    return queue.release_value();
}

bool contains(const char* haystack, const char* needle) { return strstr(haystack, needle) != nullptr; }

} // namespace

TEST_CASE("vring_need_event holds across the 16-bit wrap")
{
    // The device asked to hear once the index passed `event`.
    CHECK(vring_need_event(10, 11, 10));      // moved past it exactly
    CHECK_FALSE(vring_need_event(10, 10, 9)); // not yet past it
    CHECK(vring_need_event(10, 20, 5));       // jumped over it
    CHECK_FALSE(vring_need_event(30, 20, 5)); // still ahead
    CHECK_FALSE(vring_need_event(4, 20, 5));  // already passed before the move
    CHECK(vring_need_event(65535, 1, 65534)); // across the wrap
    CHECK(vring_need_event(65534, 0, 65533));
    CHECK_FALSE(vring_need_event(1, 1, 65534)); // index 1 reached, not passed
    CHECK(vring_need_event(0, 1, 65535));
    CHECK_FALSE(vring_need_event(5, 5, 5)); // nothing moved
}

TEST_CASE("the layout helper places the areas as the specification aligns them")
{
    SplitQueueLayout layout = split_queue_layout(256);
    CHECK(layout.descriptors == 0);
    CHECK(layout.available == 4096);
    CHECK(layout.used == 4096 + 520); // 6 + 2*256 = 518, aligned up to 4
    CHECK(layout.total == layout.used + 6 + 8 * 256);
    SplitQueueLayout one = split_queue_layout(1);
    CHECK(one.available == 16);
    CHECK(one.used == 24);
    CHECK(one.total == 24 + 14);
}

TEST_CASE("create refuses bad configurations with a message")
{
    RingMemory memory(8);
    Diagnostic diagnostic;
    auto try_config = [&](SplitQueueConfig config) {
        diagnostic.clear();
        auto result = SplitQueue::create(config, &diagnostic);
        REQUIRE(result.is_error());
        CHECK(result.error() == Error::EINVAL);
        return std::string(diagnostic.message);
    };
    SplitQueueConfig config = memory.config();
    for (uint32_t bad : { 0u, 3u, 6u, 65536u, 32769u }) {
        config.size = bad;
        CHECK(try_config(config).find("is not a power of two from 1 to 32768") != std::string::npos);
    }
    config = memory.config();
    config.descriptors.address = memory.descriptors() + 8;
    CHECK(contains(try_config(config).c_str(), "descriptor table at"));
    CHECK(contains(diagnostic.message, "is not 16-byte aligned"));
    config = memory.config();
    config.used.device_address += 2;
    CHECK(contains(try_config(config).c_str(), "used ring at"));
    config = memory.config();
    config.available.address = memory.descriptors() + 16;
    CHECK(try_config(config) == "descriptor table and available ring overlap");
    config = memory.config();
    config.slots = nullptr;
    CHECK(try_config(config) == "no slots given for 8 descriptors");
    config = memory.config();
    config.used.address = nullptr;
    CHECK(try_config(config) == "used ring: no memory given");

    // The largest queue the specification allows.
    RingMemory large(32768);
    auto queue = SplitQueue::create(large.config(), &diagnostic);
    REQUIRE(queue.is_ok());
    CHECK(queue.value().free_descriptors() == 32768);
}

TEST_CASE("create initialises the rings")
{
    RingMemory memory(16);
    SplitQueue queue = make_queue(memory, true, 1234);
    CHECK(memory.avail_index() == 1234);
    CHECK(memory.used_index() == 1234);
    CHECK(memory.avail_flags() == 0);
    CHECK(memory.used_event() == 1234);
    CHECK(read_descriptor(memory.descriptors(), 15).address == 0);
    CHECK(queue.size() == 16);
    CHECK(queue.free_descriptors() == 16);
    CHECK(queue.in_flight() == 0);
    CHECK(queue.descriptors_device_address() == kDeviceBase);
    CHECK(queue.available_device_address() == kDeviceBase + memory.layout.available);
    CHECK(queue.used_device_address() == kDeviceBase + memory.layout.used);
}

TEST_CASE("a chain of readable then writable segments reaches the device intact")
{
    RingMemory memory(8);
    SplitQueue queue = make_queue(memory);
    FakeDevice device(memory);

    BufferSegment out[] = { { 0x1000, 16 } };
    BufferSegment in[] = { { 0x2000, 512 }, { 0x3000, 1 } };
    REQUIRE(queue.add(out, 1, in, 2, token(7)).is_ok());
    CHECK(queue.free_descriptors() == 5);
    CHECK(queue.in_flight() == 1);
    CHECK(memory.avail_index() == 1);

    auto chains = device.take_available();
    REQUIRE(chains.size() == 1);
    const auto& chain = chains[0];
    REQUIRE(chain.readable.size() == 1);
    REQUIRE(chain.writable.size() == 2);
    CHECK(chain.readable[0].address == 0x1000);
    CHECK(chain.readable[0].length == 16);
    CHECK(chain.readable[0].flags == VIRTQ_DESC_F_NEXT);
    CHECK(chain.writable[0].address == 0x2000);
    CHECK(chain.writable[0].flags == (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE));
    CHECK(chain.writable[1].address == 0x3000);
    CHECK(chain.writable[1].flags == VIRTQ_DESC_F_WRITE);

    CHECK(queue.kick_prepare());
    CHECK_FALSE(queue.kick_prepare()); // nothing new
    CHECK_FALSE(queue.has_used());
    CHECK(queue.pop_used().error() == Error::ENODATA);

    device.complete(chain.head, 513, false);
    CHECK(queue.has_used());
    auto used = queue.pop_used();
    REQUIRE(used.is_ok());
    CHECK(used.value().token == token(7));
    CHECK(used.value().written == 513);
    CHECK(queue.free_descriptors() == 8);
    CHECK(queue.in_flight() == 0);
    CHECK(queue.pop_used().error() == Error::ENODATA);

    // Only readable, only writable.
    REQUIRE(queue.add(out, 1, nullptr, 0, token(8)).is_ok());
    REQUIRE(queue.add(nullptr, 0, in, 1, token(9)).is_ok());
    chains = device.take_available();
    REQUIRE(chains.size() == 2);
    CHECK(chains[0].writable.empty());
    CHECK(chains[1].readable.empty());
    device.complete(chains[0].head, 0, false);
    device.complete(chains[1].head, 512, false);
    CHECK(queue.pop_used().value().token == token(8));
    CHECK(queue.pop_used().value().token == token(9));
}

TEST_CASE("bad chains are refused without touching the ring")
{
    RingMemory memory(4);
    SplitQueue queue = make_queue(memory);
    Diagnostic diagnostic;
    BufferSegment five[5] = { { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 5, 1 } };
    BufferSegment zero[] = { { 0x1000, 0 } };
    BufferSegment huge[] = { { 0x1000, 0x80000000 }, { 0x2000, 0x80000000 } };

    auto refused = [&](keel::Result<void> result, const char* message) {
        REQUIRE(result.is_error());
        CHECK(result.error() == Error::EINVAL);
        CHECK(std::string(diagnostic.message) == message);
        diagnostic.clear();
    };
    refused(queue.add(five, 5, nullptr, 0, token(1), &diagnostic), "chain of 5 segments is longer than the queue (4)");
    refused(queue.add(five, 1, zero, 1, token(1), &diagnostic), "in segment 0 has length 0");
    refused(queue.add(five, 1, nullptr, 0, nullptr, &diagnostic), "null token");
    refused(queue.add(nullptr, 0, nullptr, 0, token(1), &diagnostic), "a chain needs at least one segment");
    refused(queue.add(huge, 2, nullptr, 0, token(1), &diagnostic), "chain of 0x100000000 bytes: 4 GiB or more");
    IndirectTable table;
    refused(queue.add_indirect(five, 2, nullptr, 0, table, token(1), &diagnostic),
        "indirect descriptors were not negotiated");
    CHECK(memory.avail_index() == 0);
    CHECK(queue.free_descriptors() == 4);
    CHECK_FALSE(queue.kick_prepare());
}

TEST_CASE("a full ring says ENOSPC and takes chains again once some come back")
{
    RingMemory memory(8);
    SplitQueue queue = make_queue(memory);
    FakeDevice device(memory);
    BufferSegment segments[3] = { { 0x1000, 100 }, { 0x2000, 200 }, { 0x3000, 300 } };

    REQUIRE(queue.add(segments, 1, segments + 1, 2, token(1)).is_ok()); // 3 descriptors
    REQUIRE(queue.add(segments, 2, segments + 2, 1, token(2)).is_ok()); // 3 more
    Diagnostic diagnostic;
    auto full = queue.add(segments, 1, segments + 1, 2, token(3), &diagnostic);
    REQUIRE(full.is_error());
    CHECK(full.error() == Error::ENOSPC);
    CHECK(std::string(diagnostic.message) == "queue full: a chain of 3 needs more than the 2 free descriptors");
    REQUIRE(queue.add(segments, 1, segments + 1, 1, token(4)).is_ok()); // exactly the last 2
    CHECK(queue.free_descriptors() == 0);
    CHECK(queue.add(segments, 1, nullptr, 0, token(5)).error() == Error::ENOSPC);

    auto chains = device.take_available();
    REQUIRE(chains.size() == 3);
    device.complete(chains[1].head, 300, false);
    REQUIRE(queue.pop_used().value().token == token(2));
    CHECK(queue.free_descriptors() == 3);
    REQUIRE(queue.add(segments, 1, segments + 1, 2, token(3)).is_ok());
    CHECK(queue.free_descriptors() == 0);

    // A queue of one descriptor.
    RingMemory tiny_memory(1);
    SplitQueue tiny = make_queue(tiny_memory);
    FakeDevice tiny_device(tiny_memory);
    for (uintptr_t i = 1; i <= 5; ++i) {
        REQUIRE(tiny.add(nullptr, 0, segments, 1, token(i)).is_ok());
        CHECK(tiny.add(nullptr, 0, segments, 1, token(99)).error() == Error::ENOSPC);
        auto one = tiny_device.take_available();
        REQUIRE(one.size() == 1);
        CHECK(one[0].head == 0);
        tiny_device.complete(0, 1, false);
        CHECK(tiny.pop_used().value().token == token(i));
    }
}

TEST_CASE("out-of-order completions return the right tokens and keep the free list whole")
{
    RingMemory memory(16);
    SplitQueue queue = make_queue(memory);
    FakeDevice device(memory);
    BufferSegment out = { 0x1000, 64 };
    BufferSegment in[2] = { { 0x2000, 100 }, { 0x3000, 1 } };
    for (uintptr_t i = 1; i <= 5; ++i)
        REQUIRE(queue.add(&out, 1, in, 2, token(i)).is_ok());
    CHECK(queue.free_descriptors() == 1);
    auto chains = device.take_available();
    REQUIRE(chains.size() == 5);
    for (int index : { 3, 0, 4, 2, 1 }) {
        device.complete(chains[index].head, uint32_t(index), false);
        auto used = queue.pop_used();
        REQUIRE(used.is_ok());
        CHECK(used.value().token == token(uintptr_t(index + 1)));
        CHECK(used.value().written == uint32_t(index));
    }
    CHECK(queue.free_descriptors() == 16);
    // Every descriptor is usable again: one chain of all 16.
    std::vector<BufferSegment> all(16, BufferSegment { 0x5000, 8 });
    REQUIRE(queue.add(all.data(), 8, all.data() + 8, 8, token(42)).is_ok());
    chains = device.take_available();
    REQUIRE(chains.size() == 1);
    CHECK(chains[0].readable.size() == 8);
    CHECK(chains[0].writable.size() == 8);
    device.complete(chains[0].head, 64, false);
    CHECK(queue.pop_used().value().written == 64);
}

TEST_CASE("indices wrap from 65535 to 0")
{
    for (bool event_index : { false, true }) {
        RingMemory memory(4);
        SplitQueue queue = make_queue(memory, event_index, 65533);
        FakeDevice device(memory, 65533);
        BufferSegment in = { 0x1000, 32 };
        for (uintptr_t round = 0; round < 10; ++round) {
            uint16_t before = memory.avail_index();
            REQUIRE(queue.add(nullptr, 0, &in, 1, token(round + 1)).is_ok());
            REQUIRE(queue.add(nullptr, 0, &in, 1, token(round + 100)).is_ok());
            CHECK(memory.avail_index() == uint16_t(before + 2));
            // The ring slot is the index modulo the queue size.
            CHECK(memory.avail_entry(before & 3) == device.take_available()[0].head);
            device.last_available = before; // take them again below
            auto chains = device.take_available();
            REQUIRE(chains.size() == 2);
            device.complete(chains[1].head, 2, event_index);
            device.complete(chains[0].head, 1, event_index);
            CHECK(queue.pop_used().value().token == token(round + 100));
            CHECK(queue.pop_used().value().token == token(round + 1));
            CHECK(queue.pop_used().error() == Error::ENODATA);
        }
        CHECK(memory.avail_index() == uint16_t(65533 + 20));
        CHECK(memory.used_index() == 17);
        CHECK(queue.free_descriptors() == 4);
    }
}

TEST_CASE("without event index the device's NO_NOTIFY flag decides notifications")
{
    RingMemory memory(8);
    SplitQueue queue = make_queue(memory);
    BufferSegment in = { 0x1000, 32 };
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(1)).is_ok());
    CHECK(queue.kick_prepare());
    memory.set_used_flags(VIRTQ_USED_F_NO_NOTIFY);
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(2)).is_ok());
    CHECK_FALSE(queue.kick_prepare());
    memory.set_used_flags(0);
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(3)).is_ok());
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(4)).is_ok());
    CHECK(queue.kick_prepare());
}

TEST_CASE("with event index the device's avail_event sets the notification threshold")
{
    RingMemory memory(8);
    SplitQueue queue = make_queue(memory, true, 65534);
    BufferSegment in = { 0x1000, 32 };

    // The device wants to hear about index 65534 being filled: one add
    // moves the index from 65534 to 65535, past it.
    memory.set_avail_event(65534);
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(1)).is_ok());
    CHECK(queue.kick_prepare());

    // It asks to hear only once index 1 is used: adding 65535 and 0 (the
    // index goes to 1) does not pass it; the next add does.
    memory.set_avail_event(1);
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(2)).is_ok());
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(3)).is_ok());
    CHECK(memory.avail_index() == 1);
    CHECK_FALSE(queue.kick_prepare());
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(4)).is_ok());
    CHECK(queue.kick_prepare());

    // An event behind the batch's start: the device already knows.
    memory.set_avail_event(0);
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(5)).is_ok());
    CHECK_FALSE(queue.kick_prepare());
    // The flag is ignored with event index.
    memory.set_avail_event(3);
    memory.set_used_flags(VIRTQ_USED_F_NO_NOTIFY);
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(6)).is_ok());
    CHECK(queue.kick_prepare());
}

TEST_CASE("callbacks: disable, enable, and the re-check that closes the race")
{
    SECTION("with the NO_INTERRUPT flag")
    {
        RingMemory memory(8);
        SplitQueue queue = make_queue(memory);
        FakeDevice device(memory);
        BufferSegment in = { 0x1000, 32 };
        REQUIRE(queue.add(nullptr, 0, &in, 1, token(1)).is_ok());
        REQUIRE(queue.add(nullptr, 0, &in, 1, token(2)).is_ok());
        auto chains = device.take_available();

        queue.disable_callbacks();
        CHECK(memory.avail_flags() == VIRTQ_AVAIL_F_NO_INTERRUPT);
        CHECK_FALSE(device.complete(chains[0].head, 1, false)); // no interrupt
        // Enabling with a buffer already used: poll again.
        CHECK_FALSE(queue.enable_callbacks());
        CHECK(memory.avail_flags() == 0);
        CHECK(queue.pop_used().value().token == token(1));
        CHECK(queue.enable_callbacks());                  // nothing pending: sleep
        CHECK(device.complete(chains[1].head, 1, false)); // interrupts
    }
    SECTION("with event index")
    {
        RingMemory memory(8);
        SplitQueue queue = make_queue(memory, true, 65530);
        FakeDevice device(memory, 65530);
        BufferSegment in = { 0x1000, 32 };
        for (uintptr_t i = 1; i <= 8; ++i)
            REQUIRE(queue.add(nullptr, 0, &in, 1, token(i)).is_ok());
        auto chains = device.take_available();
        REQUIRE(chains.size() == 8);

        // Enabled: the first completion interrupts, and popping it asks
        // for the next.
        CHECK(memory.used_event() == 65530);
        CHECK(device.complete(chains[0].head, 1, true));
        CHECK(queue.pop_used().value().token == token(1));
        CHECK(memory.used_event() == 65531);

        queue.disable_callbacks();
        CHECK(memory.avail_flags() == 0); // flags stay 0 with event index
        CHECK(memory.used_event() == uint16_t(65531 + 0x8000));
        CHECK_FALSE(device.complete(chains[1].head, 1, true));
        CHECK_FALSE(device.complete(chains[2].head, 1, true));
        // Popping while disabled leaves the event alone.
        CHECK(queue.pop_used().value().token == token(2));
        CHECK(memory.used_event() == uint16_t(65531 + 0x8000));

        CHECK_FALSE(queue.enable_callbacks()); // token 3 is waiting
        CHECK(memory.used_event() == 65532);
        CHECK(queue.pop_used().value().token == token(3));
        CHECK(queue.enable_callbacks());

        // Delayed: 5 in flight, ask after three quarters of them (3).
        queue.disable_callbacks();
        CHECK(queue.enable_callbacks_delayed());
        CHECK(memory.used_event() == uint16_t(65533 + 3)); // crosses the wrap
        CHECK_FALSE(device.complete(chains[3].head, 1, true));
        CHECK_FALSE(device.complete(chains[4].head, 1, true));
        CHECK_FALSE(device.complete(chains[5].head, 1, true));
        CHECK(device.complete(chains[6].head, 1, true)); // the fourth passes the event
        CHECK_FALSE(queue.enable_callbacks_delayed());   // more than the threshold already used
    }
}

TEST_CASE("indirect tables carry a long chain in one ring descriptor")
{
    // A chain in a table may be as long as the queue, no longer.
    RingMemory memory(8);
    SplitQueue queue = make_queue(memory, false, 0, true);
    FakeDevice device(memory);
    alignas(16) uint8_t table_memory[16 * 8];
    IndirectTable table { table_memory, 0x9000'0000, 8 };
    device.indirect_table = table_memory;
    device.indirect_device_address = table.device_address;

    BufferSegment out[2] = { { 0x1000, 16 }, { 0x1100, 16 } };
    BufferSegment in[5] = { { 0x2000, 4096 }, { 0x3000, 4096 }, { 0x4000, 4096 }, { 0x5000, 4096 }, { 0x6000, 1 } };
    REQUIRE(queue.add_indirect(out, 2, in, 5, table, token(77)).is_ok());
    CHECK(queue.free_descriptors() == 7);
    Descriptor head = read_descriptor(memory.descriptors(), memory.avail_entry(0));
    CHECK(head.flags == VIRTQ_DESC_F_INDIRECT);
    CHECK(head.length == 7 * 16);
    CHECK(head.address == 0x9000'0000);
    auto chains = device.take_available();
    REQUIRE(chains.size() == 1);
    CHECK(chains[0].indirect);
    CHECK(chains[0].readable.size() == 2);
    REQUIRE(chains[0].writable.size() == 5);
    CHECK(chains[0].writable[4].address == 0x6000);
    CHECK(chains[0].writable_bytes() == 4 * 4096 + 1);

    device.complete(chains[0].head, 4 * 4096 + 1, false);
    auto used = queue.pop_used();
    REQUIRE(used.is_ok());
    CHECK(used.value().token == token(77));
    CHECK(queue.free_descriptors() == 8);

    Diagnostic diagnostic;
    IndirectTable small { table_memory, 0x9000'0000, 3 };
    CHECK(queue.add_indirect(out, 2, in, 5, small, token(1), &diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "indirect table holds 3 descriptors, the chain needs 7");
    IndirectTable misaligned { table_memory + 8, 0x9000'0008, 7 };
    CHECK(queue.add_indirect(out, 2, in, 2, misaligned, token(1), &diagnostic).error() == Error::EINVAL);
    BufferSegment nine[9] = {};
    for (auto& segment : nine)
        segment = { 0x1000, 1 };
    IndirectTable large { table_memory, 0x9000'0000, 9 };
    CHECK(queue.add_indirect(nine, 9, nullptr, 0, large, token(1), &diagnostic).error() == Error::EINVAL);
    CHECK(std::string(diagnostic.message) == "chain of 9 segments is longer than the queue (8)");
}

TEST_CASE("a malicious used ring breaks the queue with a message, never the driver")
{
    struct Case {
        const char* what;
        void (*attack)(RingMemory&, FakeDevice&, const std::vector<FakeDevice::Chain>&);
        const char* message;
    };
    const Case cases[] = {
        { "id out of range",
            [](RingMemory& m, FakeDevice&, const auto&) {
                m.set_used_entry(0, 8, 0);
                m.set_used_index(1);
            },
            "used entry 0 (used index 0): id 8 out of range (queue size 8)" },
        { "id far out of range",
            [](RingMemory& m, FakeDevice&, const auto&) {
                m.set_used_entry(0, 0xffffffff, 0);
                m.set_used_index(1);
            },
            "used entry 0 (used index 0): id 4294967295 out of range (queue size 8)" },
        { "id inside a chain, not its head",
            [](RingMemory& m, FakeDevice&, const auto& chains) {
                m.set_used_entry(0, chains[0].head + 1u, 0);
                m.set_used_index(1);
            },
            "used entry 0 (used index 0): id 1 is not the head of a buffer in flight" },
        { "id of a free descriptor",
            [](RingMemory& m, FakeDevice&, const auto&) {
                m.set_used_entry(0, 7, 0);
                m.set_used_index(1);
            },
            "used entry 0 (used index 0): id 7 is not the head of a buffer in flight" },
        { "written length past the writable bytes",
            [](RingMemory& m, FakeDevice& d, const auto& chains) { d.complete(chains[0].head, 513, false); },
            "used entry 0 (used index 0): id 0: written length 513 exceeds the 512 bytes the device may write" },
        { "written length on a read-only chain",
            [](RingMemory& m, FakeDevice& d, const auto& chains) { d.complete(chains[1].head, 1, false); },
            "used entry 0 (used index 0): id 2: written length 1 exceeds the 0 bytes the device may write" },
        { "used index past what is in flight", [](RingMemory& m, FakeDevice&, const auto&) { m.set_used_index(3); },
            "used index 3 is 3 past the last one seen (0), but only 2 buffers are in flight" },
        { "used index behind (wrapped backwards)",
            [](RingMemory& m, FakeDevice&, const auto&) { m.set_used_index(0xffff); },
            "used index 65535 is 65535 past the last one seen (0), but only 2 buffers are in flight" },
    };
    for (const Case& c : cases) {
        INFO(c.what);
        RingMemory memory(8);
        SplitQueue queue = make_queue(memory);
        FakeDevice device(memory);
        BufferSegment out = { 0x1000, 16 };
        BufferSegment in = { 0x2000, 512 };
        REQUIRE(queue.add(&out, 1, &in, 1, token(1)).is_ok());     // descriptors 0, 1
        REQUIRE(queue.add(&out, 1, nullptr, 0, token(2)).is_ok()); // descriptor 2
        auto chains = device.take_available();
        c.attack(memory, device, chains);

        Diagnostic diagnostic;
        auto used = queue.pop_used(&diagnostic);
        REQUIRE(used.is_error());
        CHECK(used.error() == Error::EIO);
        CHECK(std::string(diagnostic.message) == c.message);
        CHECK(queue.is_broken());
        // Broken stays broken until reset.
        CHECK(queue.pop_used().error() == Error::EIO);
        CHECK(queue.add(&out, 1, nullptr, 0, token(3)).error() == Error::EIO);
        CHECK_FALSE(queue.kick_prepare());
        CHECK_FALSE(queue.has_used());
        // A driver that polls until enable_callbacks says nothing is
        // pending (virtio_net's transmit, with its ring full) must not
        // spin on the entry that broke the queue.
        CHECK(queue.enable_callbacks());
        CHECK(queue.enable_callbacks_delayed());

        // The driver resets the device and takes its buffers back.
        std::set<void*> detached;
        while (auto t = queue.detach_unused())
            detached.insert(t.value());
        CHECK(detached == std::set<void*> { token(1), token(2) });
        REQUIRE(queue.reset().is_ok());
        CHECK_FALSE(queue.is_broken());
        CHECK(queue.free_descriptors() == 8);
        CHECK(memory.avail_index() == 0);
        CHECK(memory.used_index() == 0);
        FakeDevice fresh(memory);
        REQUIRE(queue.add(&out, 1, &in, 1, token(4)).is_ok());
        auto again = fresh.take_available();
        REQUIRE(again.size() == 1);
        fresh.complete(again[0].head, 512, false);
        CHECK(queue.pop_used().value().token == token(4));
    }
}

TEST_CASE("a device that completes a buffer twice is caught the second time")
{
    RingMemory memory(4);
    SplitQueue queue = make_queue(memory);
    FakeDevice device(memory);
    BufferSegment in = { 0x2000, 8 };
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(1)).is_ok());
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(2)).is_ok());
    auto chains = device.take_available();
    device.complete(chains[0].head, 8, false);
    device.complete(chains[0].head, 8, false);
    CHECK(queue.pop_used().value().token == token(1));
    Diagnostic diagnostic;
    CHECK(queue.pop_used(&diagnostic).error() == Error::EIO);
    CHECK(std::string(diagnostic.message) == "used entry 1 (used index 1): id 0 is not the head of a buffer in flight");
}

TEST_CASE("detach_unused returns every buffer in flight after a reset")
{
    RingMemory memory(8);
    SplitQueue queue = make_queue(memory);
    FakeDevice device(memory);
    BufferSegment seg[2] = { { 0x1000, 8 }, { 0x2000, 8 } };
    for (uintptr_t i = 1; i <= 4; ++i)
        REQUIRE(queue.add(seg, 1, seg + 1, 1, token(i)).is_ok());
    auto chains = device.take_available();
    device.complete(chains[2].head, 8, false);
    CHECK(queue.pop_used().value().token == token(3));
    CHECK(queue.reset().error() == Error::EBUSY);

    std::set<void*> detached;
    while (auto t = queue.detach_unused())
        detached.insert(t.value());
    CHECK(detached == std::set<void*> { token(1), token(2), token(4) });
    CHECK(queue.in_flight() == 0);
    CHECK(queue.free_descriptors() == 8);
    CHECK(queue.detach_unused().error() == Error::ENODATA);
    REQUIRE(queue.reset().is_ok());
}

TEST_CASE("a long random run: many wraps, random chain shapes, random completion order")
{
    for (uint32_t size : { 1u, 2u, 8u, 64u }) {
        for (bool event_index : { false, true }) {
            INFO("size " << size << " event index " << event_index);
            RingMemory memory(size);
            SplitQueue queue = make_queue(memory, event_index, uint16_t(65536 - 3 * size));
            FakeDevice device(memory, uint16_t(65536 - 3 * size));
            std::mt19937 random(size * 2 + event_index);
            std::vector<FakeDevice::Chain> pending;
            std::map<uint16_t, uintptr_t> token_of_head;
            std::map<uintptr_t, uint32_t> writable_of;
            uintptr_t next_token = 1;
            uint64_t completed = 0;
            for (int step = 0; step < 40000; ++step) {
                if (random() % 2) {
                    uint32_t outs = random() % 3;
                    uint32_t ins = random() % 3;
                    if (outs + ins == 0)
                        ins = 1;
                    BufferSegment segs[6];
                    uint32_t writable = 0;
                    for (uint32_t i = 0; i < outs + ins; ++i) {
                        segs[i] = { 0x1000u * (i + 1), uint32_t(1 + random() % 4096) };
                        if (i >= outs)
                            writable += segs[i].length;
                    }
                    auto added = queue.add(segs, outs, segs + outs, ins, token(next_token));
                    if (added.is_error() && outs + ins > size) {
                        REQUIRE(added.error() == Error::EINVAL); // longer than the queue
                        continue;
                    }
                    if (added.is_error()) {
                        REQUIRE(added.error() == Error::ENOSPC);
                        REQUIRE(queue.free_descriptors() < outs + ins);
                        continue;
                    }
                    writable_of[next_token++] = writable;
                    queue.kick_prepare();
                    for (auto& chain : device.take_available())
                        pending.push_back(chain);
                } else if (!pending.empty()) {
                    size_t pick = random() % pending.size();
                    FakeDevice::Chain chain = pending[pick];
                    pending.erase(pending.begin() + long(pick));
                    uint32_t written = chain.writable_bytes() ? random() % (chain.writable_bytes() + 1) : 0;
                    device.complete(chain.head, written, event_index);
                    auto used = queue.pop_used();
                    REQUIRE(used.is_ok());
                    auto t = reinterpret_cast<uintptr_t>(used.value().token);
                    REQUIRE(writable_of.count(t) == 1);
                    REQUIRE(writable_of[t] == chain.writable_bytes());
                    REQUIRE(used.value().written == written);
                    writable_of.erase(t);
                    ++completed;
                }
                REQUIRE(queue.in_flight() == pending.size());
            }
            CHECK(completed > 1000);
            CHECK(writable_of.size() == pending.size());
        }
    }
}

// Where the barriers fall: a barrier type that checks, at each barrier,
// what the ring memory already holds.
namespace {

struct BarrierLog {
    RingMemory* memory = nullptr;
    std::vector<std::string> events;
    uint16_t expected_new_index = 0;
};
BarrierLog* g_log = nullptr;

struct RecordingBarriers {
    static void write()
    {
        // Publishing: the entry is in the ring, the index not yet moved.
        RingMemory& m = *g_log->memory;
        uint16_t index = m.avail_index();
        bool entry_written = m.avail_entry(index & (m.size - 1)) != 0xffff;
        g_log->events.push_back(
            std::string("write index=") + std::to_string(index) + (entry_written ? " entry" : " no-entry"));
    }
    static void read() { g_log->events.push_back("read used=" + std::to_string(g_log->memory->used_index())); }
    static void full() { g_log->events.push_back("full avail=" + std::to_string(g_log->memory->avail_index())); }
};

} // namespace

template class keel::virtio::SplitQueueT<RecordingBarriers>;

TEST_CASE("barriers: entries before the index, the index before reading the device's wishes")
{
    RingMemory memory(4);
    BarrierLog log;
    log.memory = &memory;
    g_log = &log;
    auto created = SplitQueueT<RecordingBarriers>::create(memory.config(true, 7));
    REQUIRE(created.is_ok());
    auto queue = created.release_value();
    // Mark the ring entries so the barrier can tell whether one was written.
    for (uint32_t slot = 0; slot < 4; ++slot)
        store_le16(memory.available() + available_entry_offset(slot), 0xffff);
    FakeDevice device(memory, 7);

    BufferSegment in = { 0x1000, 8 };
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(1)).is_ok());
    REQUIRE(queue.add(nullptr, 0, &in, 1, token(2)).is_ok());
    queue.kick_prepare();
    auto chains = device.take_available();
    device.complete(chains[0].head, 8, true);
    REQUIRE(queue.pop_used().is_ok());
    queue.enable_callbacks();
    g_log = nullptr;

    std::vector<std::string> expected = {
        "write index=7 entry", // first chain: entry in slot 3, index still 7
        "write index=8 entry", // second chain
        "full avail=9",        // kick_prepare reads avail_event only after the index is out
        "read used=8",         // the used entry is read after its index
        "full avail=9",        // pop_used's used_event write before the next index read
        "full avail=9",        // enable_callbacks: the event before the re-check
    };
    CHECK(log.events == expected);
}
