// The socket families and types protocol modules register.
#include <catch2/catch.hpp>

#include "lib/netdev/socket_families.h"

using namespace keel;
using namespace keel::netdev;

namespace {
constexpr uint32_t kInet = 2, kStream = 1, kDgram = 2;
int g_tables[SocketFamilies::kCapacity + 2];
} // namespace

TEST_CASE("socket families: one table a pair, EEXIST for a taken pair or table", "[socket]")
{
    SocketFamilies families;
    auto tcp = families.add(kInet, kStream, &g_tables[0], nullptr);
    REQUIRE(!tcp.is_error());
    CHECK(tcp.value()->ops == &g_tables[0]);
    CHECK(families.add(kInet, kStream, &g_tables[1], nullptr).error() == Error::EEXIST);
    CHECK(families.add(kInet, kDgram, &g_tables[0], nullptr).error() == Error::EEXIST);
    REQUIRE(!families.add(kInet, kDgram, &g_tables[1], nullptr).is_error());
    CHECK(families.find(kInet, kStream)->ops == &g_tables[0]);
    CHECK(families.find(kInet, kDgram)->ops == &g_tables[1]);
    CHECK(families.find(10, kStream) == nullptr);
    CHECK(families.count() == 2);
}

TEST_CASE("socket families: refused input", "[socket]")
{
    SocketFamilies families;
    CHECK(families.add(kInet, kStream, nullptr, nullptr).error() == Error::EINVAL);
    CHECK(families.add(0, kStream, &g_tables[0], nullptr).error() == Error::EINVAL);
    CHECK(families.add(kInet, 0, &g_tables[0], nullptr).error() == Error::EINVAL);
    CHECK(families.remove(&g_tables[0]).error() == Error::ENOENT);
    CHECK(families.remove(nullptr).error() == Error::ENOENT);
    CHECK(families.count() == 0);
}

TEST_CASE("socket families: a full table says ENOSPC, a freed slot is reused", "[socket]")
{
    SocketFamilies families;
    for (uint32_t i = 0; i < SocketFamilies::kCapacity; i++)
        REQUIRE(!families.add(100 + i, kStream, &g_tables[i], nullptr).is_error());
    CHECK(families.add(kInet, kStream, &g_tables[SocketFamilies::kCapacity], nullptr).error() == Error::ENOSPC);
    REQUIRE(!families.remove(&g_tables[3]).is_error());
    REQUIRE(!families.add(kInet, kStream, &g_tables[SocketFamilies::kCapacity], nullptr).is_error());
    CHECK(families.count() == SocketFamilies::kCapacity);
}

TEST_CASE("socket families: no removal while sockets are open", "[socket]")
{
    SocketFamilies families;
    int owner = 0;
    auto entry = families.add(kInet, kStream, &g_tables[0], &owner);
    REQUIRE(!entry.is_error());
    CHECK(entry.value()->owner == &owner);
    entry.value()->sockets = 2;
    CHECK(families.remove(&g_tables[0]).error() == Error::EBUSY);
    CHECK(families.find_ops(&g_tables[0]) == entry.value());
    entry.value()->sockets = 0;
    REQUIRE(!families.remove(&g_tables[0]).is_error());
    CHECK(families.find(kInet, kStream) == nullptr);
}
