// The pool of indirect tables (lib/virtio/indirect_pool.h) over a split
// queue and a fake device: chains of 2 to kIndirectMax segments take one
// ring descriptor each, the rest go in the ring directly, tokens come back
// as given, tables are reused once their chain is back, and a full queue
// or a bad chain leaves every record free.
#include <catch2/catch.hpp>

#include <stdint.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "lib/virtio/indirect_pool.h"
#include "ring_memory.h"

using keel::Diagnostic;
using keel::Error;
using namespace keel::virtio;
using namespace virtio_test;

namespace {

void* token_of(uintptr_t n) { return reinterpret_cast<void*>(n); }

constexpr uint64_t kTablesDevice = 0x9000'0000;

// A queue with indirect descriptors negotiated.
SplitQueue indirect_queue(RingMemory& memory)
{
    auto created = SplitQueue::create(memory.config(false, 0, true));
    REQUIRE(created.is_ok());
    return created.value();
}

struct Fixture {
    explicit Fixture(uint32_t size)
        : memory(size)
        , device(memory)
        , records(size)
    {
        tables = static_cast<uint8_t*>(aligned_alloc(16, indirect_pool_bytes(size)));
        Diagnostic diagnostic;
        auto made = IndirectPool::create(records.data(), size, { tables, kTablesDevice }, &diagnostic);
        REQUIRE(made.is_ok());
        pool = made.value();
        device.indirect_table = tables;
        device.indirect_device_address = kTablesDevice;
        device.indirect_span = indirect_pool_bytes(size);
    }
    ~Fixture() { free(tables); }

    RingMemory memory;
    FakeDevice device;
    std::vector<IndirectRecord> records;
    uint8_t* tables = nullptr;
    SplitQueue queue = indirect_queue(memory);
    IndirectPool pool;
};

// A block request's shape: a header out, `data` segments in, a status byte in.
std::vector<BufferSegment> request(uint32_t data, uint64_t base)
{
    std::vector<BufferSegment> chain { { base, 16 } };
    for (uint32_t i = 0; i < data; i++)
        chain.push_back({ base + 0x1000 * (i + 1), 512 });
    chain.push_back({ base + 0x100000, 1 });
    return chain;
}

} // namespace

TEST_CASE("indirect pool: a queue of 8 holds 8 three-segment requests, each in one descriptor")
{
    Fixture f(8);
    std::vector<std::vector<BufferSegment>> chains;
    for (uint32_t i = 0; i < 8; i++)
        chains.push_back(request(1, 0x10'0000 * (i + 1)));
    for (uint32_t i = 0; i < 8; i++)
        REQUIRE(f.pool.add(f.queue, chains[i].data(), 1, chains[i].data() + 1, 2, token_of(100 + i)).is_ok());
    CHECK(f.queue.free_descriptors() == 0);
    CHECK(f.pool.free_records() == 0);
    CHECK(f.pool.indirect_chains() == 8);
    Diagnostic diagnostic;
    CHECK(f.pool.add(f.queue, chains[0].data(), 1, chains[0].data() + 1, 2, token_of(1), &diagnostic).error()
        == Error::ENOSPC);

    auto published = f.device.take_available();
    REQUIRE(published.size() == 8);
    for (uint32_t i = 0; i < 8; i++) {
        CHECK(published[i].indirect);
        REQUIRE(published[i].readable.size() == 1);
        REQUIRE(published[i].writable.size() == 2);
        CHECK(published[i].readable[0].address == chains[i][0].address);
        CHECK(published[i].writable[1].address == chains[i][2].address);
    }
    // Completed out of order; each token comes back, each table is free again.
    for (uint32_t i : { 5u, 0u, 7u, 2u }) {
        f.device.complete(published[i].head, 513, false);
        auto used = f.pool.pop_used(f.queue);
        REQUIRE(used.is_ok());
        CHECK(used.value().token == token_of(100 + i));
        CHECK(used.value().written == 513);
    }
    CHECK(f.pool.free_records() == 4);
    CHECK(f.queue.free_descriptors() == 4);
    CHECK(f.pool.pop_used(f.queue).error() == Error::ENODATA);

    // The freed tables carry new chains without disturbing those in flight.
    for (uint32_t i = 0; i < 4; i++) {
        auto chain = request(3, 0x100'0000 * (i + 1));
        REQUIRE(f.pool.add(f.queue, chain.data(), 1, chain.data() + 1, 4, token_of(200 + i)).is_ok());
    }
    auto again = f.device.take_available();
    REQUIRE(again.size() == 4);
    for (const auto& chain : again)
        CHECK(chain.writable.size() == 4);
    for (uint32_t i : { 1u, 3u, 4u, 6u }) {
        f.device.complete(published[i].head, 1, false);
        CHECK(f.pool.pop_used(f.queue).value().token == token_of(100 + i));
    }
    for (uint32_t i = 0; i < 4; i++) {
        f.device.complete(again[i].head, 1, false);
        CHECK(f.pool.pop_used(f.queue).value().token == token_of(200 + i));
    }
    CHECK(f.pool.free_records() == 8);
    CHECK(f.queue.free_descriptors() == 8);
}

TEST_CASE("indirect pool: one segment and chains beyond a table go into the ring directly")
{
    Fixture f(32);
    BufferSegment one { 0x5000, 64 };
    REQUIRE(f.pool.add(f.queue, &one, 1, nullptr, 0, token_of(1)).is_ok());
    CHECK(f.queue.free_descriptors() == 31);

    std::vector<BufferSegment> fits = request(kIndirectMax - 2, 0x10'0000);
    REQUIRE(fits.size() == kIndirectMax);
    REQUIRE(f.pool.add(f.queue, fits.data(), 1, fits.data() + 1, kIndirectMax - 1, token_of(2)).is_ok());
    CHECK(f.queue.free_descriptors() == 30);

    std::vector<BufferSegment> longer = request(kIndirectMax - 1, 0x20'0000);
    REQUIRE(f.pool.add(f.queue, longer.data(), 1, longer.data() + 1, kIndirectMax, token_of(3)).is_ok());
    CHECK(f.queue.free_descriptors() == 30 - (kIndirectMax + 1));
    CHECK(f.pool.indirect_chains() == 1);

    auto published = f.device.take_available();
    REQUIRE(published.size() == 3);
    CHECK_FALSE(published[0].indirect);
    CHECK(published[1].indirect);
    CHECK(published[1].writable.size() == kIndirectMax - 1);
    CHECK_FALSE(published[2].indirect);
    CHECK(published[2].writable.size() == kIndirectMax);
    for (uint32_t i = 0; i < 3; i++) {
        f.device.complete(published[i].head, 0, false);
        CHECK(f.pool.pop_used(f.queue).value().token == token_of(i + 1));
    }
    CHECK(f.queue.free_descriptors() == 32);
    CHECK(f.pool.free_records() == 32);
}

TEST_CASE("indirect pool: refused chains keep their record, bad memory is refused")
{
    Fixture f(4);
    Diagnostic diagnostic;
    auto chain = request(1, 0x10'0000);
    CHECK(f.pool.add(f.queue, chain.data(), 1, chain.data() + 1, 2, nullptr, &diagnostic).error() == Error::EINVAL);
    BufferSegment empty[2] = { { 0x1000, 16 }, { 0x2000, 0 } };
    CHECK(f.pool.add(f.queue, empty, 1, empty + 1, 1, token_of(9), &diagnostic).error() == Error::EINVAL);
    CHECK(f.pool.free_records() == 4);
    CHECK(f.queue.free_descriptors() == 4);

    std::vector<IndirectRecord> records(4);
    alignas(16) static uint8_t tables[indirect_pool_bytes(4) + 8];
    CHECK(IndirectPool::create(records.data(), 4, { tables + 8, kTablesDevice + 8 }, &diagnostic).is_error());
    CHECK(std::string(diagnostic.message).find("16-byte aligned") != std::string::npos);
    CHECK(IndirectPool::create(nullptr, 4, { tables, kTablesDevice }, &diagnostic).is_error());
    CHECK(IndirectPool::create(records.data(), 0, { tables, kTablesDevice }, &diagnostic).is_error());
}
