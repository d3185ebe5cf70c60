// Netdev references that name their holder.
#include <string.h>

#include <catch2/catch.hpp>

#include "lib/netdev/holders.h"

using namespace keel;
using namespace keel::netdev;

TEST_CASE("holders: counted per name", "[holders]")
{
    HolderTable holders;
    CHECK(holders.total() == 0);
    CHECK(strcmp(holders.first_holder(), "") == 0);
    REQUIRE(!holders.get("inet").is_error());
    REQUIRE(!holders.get("inet").is_error());
    REQUIRE(!holders.get("ping").is_error());
    CHECK(holders.total() == 3);
    CHECK(holders.count("inet") == 2);
    CHECK(holders.count("ping") == 1);
    CHECK(strcmp(holders.first_holder(), "inet") == 0);
    REQUIRE(!holders.put("inet").is_error());
    REQUIRE(!holders.put("inet").is_error());
    CHECK(holders.put("inet").error() == Error::ENOENT);
    CHECK(strcmp(holders.first_holder(), "ping") == 0);
    REQUIRE(!holders.put("ping").is_error());
    CHECK(holders.total() == 0);
}

TEST_CASE("holders: bad names and a full table", "[holders]")
{
    HolderTable holders;
    CHECK(holders.get("").error() == Error::EINVAL);
    CHECK(holders.get(nullptr).error() == Error::EINVAL);
    CHECK(holders.get("a-name-that-is-far-too-long").error() == Error::EINVAL);
    CHECK(holders.put(nullptr).error() == Error::ENOENT);
    char name[8];
    for (size_t i = 0; i < HolderTable::kSlots; i++) {
        snprintf(name, sizeof(name), "h%zu", i);
        REQUIRE(!holders.get(name).is_error());
    }
    CHECK(holders.get("one-more").error() == Error::EMFILE);
    CHECK(holders.count(nullptr) == 0);
    REQUIRE(!holders.get("h3").is_error()); // an existing holder still counts up
    CHECK(holders.count("h3") == 2);
    // A slot freed is reused.
    REQUIRE(!holders.put("h0").is_error());
    REQUIRE(!holders.get("one-more").is_error());
    CHECK(holders.total() == HolderTable::kSlots + 1);
}

TEST_CASE("holders: a name whose references all went keeps its slot until another needs it", "[holders]")
{
    HolderTable holders;
    REQUIRE(!holders.get("inet").is_error());
    REQUIRE(!holders.put("inet").is_error());
    CHECK(holders.count("inet") == 0);
    CHECK(holders.total() == 0);
    CHECK(strcmp(holders.first_holder(), "") == 0);
    CHECK(holders.put("inet").error() == Error::ENOENT); // named, but holding nothing
    // Taken again: counted once, in one slot.
    REQUIRE(!holders.get("inet").is_error());
    REQUIRE(!holders.get("ping").is_error());
    CHECK(holders.count("inet") == 1);
    CHECK(strcmp(holders.first_holder(), "inet") == 0);
    REQUIRE(!holders.put("inet").is_error());
    CHECK(strcmp(holders.first_holder(), "ping") == 0);
    // Every other slot taken: the first new name takes the idle named slot.
    char name[8];
    for (size_t i = 2; i < HolderTable::kSlots; i++) {
        snprintf(name, sizeof(name), "h%zu", i);
        REQUIRE(!holders.get(name).is_error());
    }
    REQUIRE(!holders.get("newcomer").is_error());
    CHECK(holders.count("newcomer") == 1);
    CHECK(holders.count("inet") == 0);
    CHECK(holders.get("inet").error() == Error::EMFILE);
    CHECK(holders.total() == HolderTable::kSlots);

    // The name keeps its own slot: "a" comes back to the first slot even
    // though "b" was taken again first.
    HolderTable kept;
    REQUIRE(!kept.get("a").is_error());
    REQUIRE(!kept.get("b").is_error());
    REQUIRE(!kept.put("a").is_error());
    REQUIRE(!kept.put("b").is_error());
    REQUIRE(!kept.get("b").is_error());
    REQUIRE(!kept.get("a").is_error());
    CHECK(strcmp(kept.first_holder(), "a") == 0);
}
