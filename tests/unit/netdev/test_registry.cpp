// The netdev registry: names, indexes, and removal refused while held.
#include <string.h>

#include <catch2/catch.hpp>

#include "lib/netdev/netdev.h"

using namespace keel;
using namespace keel::netdev;

namespace {
void name_device(Netdev& device, const char* name) { strcpy(device.name, name); }
} // namespace

TEST_CASE("registry: names", "[registry]")
{
    CHECK(valid_name("lo"));
    CHECK(valid_name("eth0"));
    CHECK(valid_name("veth-a.1_b"));
    CHECK(!valid_name(""));
    CHECK(!valid_name(nullptr));
    CHECK(!valid_name("Eth0"));
    CHECK(!valid_name("eth 0"));
    CHECK(!valid_name("eth/0"));
    CHECK(!valid_name("sixteen-chars-xx"));
    CHECK(valid_name("fifteen-chars-x"));
}

TEST_CASE("registry: add, find, duplicate names, indexes", "[registry]")
{
    Registry registry;
    Netdev lo, eth0, other;
    name_device(lo, "lo");
    name_device(eth0, "eth0");
    name_device(other, "eth0");
    REQUIRE(!registry.add(lo).is_error());
    REQUIRE(!registry.add(eth0).is_error());
    CHECK(registry.add(other).error() == Error::EEXIST);
    CHECK(lo.index == 1);
    CHECK(eth0.index == 2);
    CHECK(registry.find("eth0") == &eth0);
    CHECK(registry.find("eth1") == nullptr);
    CHECK(registry.count() == 2);

    Netdev bad;
    name_device(bad, "Bad");
    CHECK(registry.add(bad).error() == Error::EINVAL);

    char name[kNameMax + 1];
    REQUIRE(!registry.pick_name("eth", name).is_error());
    CHECK(strcmp(name, "eth1") == 0);
    CHECK(registry.pick_name("ETH", name).error() == Error::EINVAL);
    CHECK(registry.pick_name("a-long-prefix", name).error() == Error::EINVAL);

    REQUIRE(!registry.remove(eth0, nullptr).is_error());
    REQUIRE(!registry.remove(lo, nullptr).is_error());
    CHECK(registry.count() == 0);
}

TEST_CASE("registry: removal refused while a reference is held, naming the holder", "[registry]")
{
    Registry registry;
    Netdev eth0;
    name_device(eth0, "eth0");
    REQUIRE(!registry.add(eth0).is_error());
    REQUIRE(!eth0.holders.get("inet").is_error());
    const char* holder = nullptr;
    auto removed = registry.remove(eth0, &holder);
    REQUIRE(removed.is_error());
    CHECK(removed.error() == Error::EBUSY);
    REQUIRE(holder);
    CHECK(strcmp(holder, "inet") == 0);
    CHECK(registry.find("eth0") == &eth0);
    REQUIRE(!eth0.holders.put("inet").is_error());
    REQUIRE(!registry.remove(eth0, &holder).is_error());
    CHECK(registry.find("eth0") == nullptr);
}
