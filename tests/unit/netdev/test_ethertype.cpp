// The ethertype table: registering, the refusals, and unregistering that
// waits for handlers still running.
#include <catch2/catch.hpp>

#include "lib/netdev/ethertype_table.h"

using namespace keel;
using namespace keel::netdev;

namespace {
void handler_a(void*, void*, void*) { }
void handler_b(void*, void*, void*) { }
} // namespace

TEST_CASE("ethertype: register, find, refuse a taken type with EEXIST", "[ethertype]")
{
    EthertypeTable table;
    int context = 0;
    REQUIRE(!table.add(0x0800, handler_a, &context).is_error());
    auto again = table.add(0x0800, handler_b, nullptr);
    REQUIRE(again.is_error());
    CHECK(again.error() == Error::EEXIST);
    // The first registration is untouched by the refusal.
    const EthertypeEntry* entry = table.find(0x0800);
    REQUIRE(entry);
    CHECK(entry->handler == handler_a);
    CHECK(entry->context == &context);
    REQUIRE(!table.add(0x0806, handler_b, nullptr).is_error());
    CHECK(table.find(0x0806)->handler == handler_b);
    CHECK(table.find(0x86dd) == nullptr);
}

TEST_CASE("ethertype: bad registrations", "[ethertype]")
{
    EthertypeTable table;
    CHECK(table.add(0x05ff, handler_a, nullptr).error() == Error::EINVAL); // an 802.3 length
    CHECK(table.add(0x0800, nullptr, nullptr).error() == Error::EINVAL);
    for (uint16_t i = 0; i < EthertypeTable::kCapacity; i++)
        REQUIRE(!table.add(uint16_t(0x9000 + i), handler_a, nullptr).is_error());
    CHECK(table.add(0x0800, handler_a, nullptr).error() == Error::ENOSPC);
    CHECK(table.begin_remove(0x0800).error() == Error::ENOENT);
}

TEST_CASE("ethertype: unregister waits until no handler runs", "[ethertype]")
{
    EthertypeTable table;
    REQUIRE(!table.add(0x0800, handler_a, nullptr).is_error());
    const EthertypeEntry* first = table.enter(0x0800);
    const EthertypeEntry* second = table.enter(0x0800);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->running == 2);
    CHECK(first->frames == 2);

    REQUIRE(!table.begin_remove(0x0800).is_error());
    CHECK(table.begin_remove(0x0800).error() == Error::EBUSY);
    // Leaving: no new frames go in, the slot stays taken.
    CHECK(table.enter(0x0800) == nullptr);
    CHECK(table.add(0x0800, handler_b, nullptr).error() == Error::EEXIST);
    CHECK(!table.is_idle(0x0800));
    table.exit(first);
    CHECK(!table.is_idle(0x0800));
    table.exit(second);
    CHECK(table.is_idle(0x0800));
    table.finish_remove(0x0800);
    CHECK(table.find(0x0800) == nullptr);

    // The slot is free for a new handler, whose counts start afresh.
    REQUIRE(!table.add(0x0800, handler_b, nullptr).is_error());
    CHECK(table.find(0x0800)->frames == 0);
    CHECK(table.enter(0x0800)->handler == handler_b);
}
