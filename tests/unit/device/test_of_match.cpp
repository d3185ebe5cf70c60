// The of bus's match (core/device/of/match.cpp): Linux's best entry, not
// the first that matches, over a table KEEL_DEVICE_TABLE wrote.
#include <catch2/catch.hpp>

#include <keel/device.h>

#include "device/of/of.h"
#include "lib/devmatch/device_table.h"

using namespace keel;
using namespace keel::devmatch;

namespace {

// The generic entry comes first; the node's first (most specific)
// compatible second; a name-only entry last.
KEEL_DEVICE_TABLE(
    of, ids, KEEL_OF_COMPATIBLE("arm,primecell"), KEEL_OF_COMPATIBLE("arm,pl031"), { "pl031", "", "", 0 });

DeviceTable table()
{
    auto read = DeviceTableReader(&ids, sizeof(ids)).next();
    REQUIRE(read.is_ok());
    return read.value();
}

} // namespace

TEST_CASE("the best entry wins, as in Linux's __of_match_node")
{
    DeviceTable entries = table();
    const char compatible[] = "arm,pl031\0arm,primecell";
    OfNode rtc { "pl031@9010000", nullptr, compatible, sizeof(compatible) };
    CHECK_FALSE(of_best_entry(rtc, entries, 0));
    CHECK(of_best_entry(rtc, entries, 1));
    CHECK_FALSE(of_best_entry(rtc, entries, 2));
    CHECK_FALSE(of_best_entry(rtc, entries, 3)); // past the table

    // Only the generic string: the first entry is the best there is.
    const char generic[] = "arm,primecell";
    OfNode other { "serial@9000000", nullptr, generic, sizeof(generic) };
    CHECK(of_best_entry(other, entries, 0));
    CHECK_FALSE(of_best_entry(other, entries, 1));

    // No compatible string matches: the name does.
    const char unrelated[] = "acme,widget";
    OfNode named { "pl031@1000", nullptr, unrelated, sizeof(unrelated) };
    CHECK(of_best_entry(named, entries, 2));
    OfNode nothing { "uart@1000", nullptr, unrelated, sizeof(unrelated) };
    for (uint32_t i = 0; i < 3; i++)
        CHECK_FALSE(of_best_entry(nothing, entries, i));

    // A compatible property without its final NUL matches nothing.
    const char unterminated[] = { 'a', 'r', 'm', ',', 'p', 'l', '0', '3', '1' };
    OfNode broken { "pl031@9010000", nullptr, unterminated, sizeof(unterminated) };
    for (uint32_t i = 0; i < 3; i++)
        CHECK_FALSE(of_best_entry(broken, entries, i));
}
