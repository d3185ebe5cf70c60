// The Internet checksum and its incremental update.
#include <stdlib.h>
#include <string.h>

#include <catch2/catch.hpp>

#include "lib/net/checksum.h"

using namespace keel::net;

TEST_CASE("checksum: RFC 1071's example", "[checksum]")
{
    // RFC 1071 1.3: the sum of 0001 f203 f4f5 f6f7 is 0xddf2 (one's
    // complement, before complementing).
    const uint8_t bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    CHECK(internet_checksum(bytes, sizeof(bytes)) == uint16_t(~0xddf2));
}

TEST_CASE("checksum: a buffer holding its checksum sums to zero", "[checksum]")
{
    uint8_t bytes[101];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = uint8_t(i * 37 + 11);
    for (size_t length : { 2u, 10u, 11u, 100u, 101u }) {
        bytes[0] = bytes[1] = 0;
        store16(bytes, internet_checksum(bytes, length));
        CHECK(internet_checksum(bytes, length) == 0);
    }
}

TEST_CASE("checksum: pieces add up when only the last is odd", "[checksum]")
{
    uint8_t bytes[33];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = uint8_t(i * 91 + 7);
    uint64_t sum = checksum_add(0, bytes, 10);
    sum = checksum_add(sum, bytes + 10, 23);
    CHECK(checksum_finish(sum) == internet_checksum(bytes, sizeof(bytes)));
}

namespace {

// The definition, one big-endian 16-bit word at a time.
uint16_t reference_checksum(uint64_t sum, const uint8_t* bytes, size_t length)
{
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += uint16_t(bytes[i] << 8 | bytes[i + 1]);
    if (length % 2)
        sum += uint16_t(bytes[length - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

} // namespace

TEST_CASE("checksum: the word-wide sum equals the definition at every length and alignment", "[checksum]")
{
    srand(11);
    uint8_t buffer[1600];
    for (int round = 0; round < 4; round++) {
        for (uint8_t& byte : buffer)
            byte = round == 0 ? 0xff : round == 1 ? 0 : uint8_t(rand());
        for (size_t offset = 0; offset < 8; offset++) {
            for (size_t length = 0; length + offset <= sizeof(buffer); length += length < 80 ? 1 : 97) {
                uint64_t start = round == 3 ? uint64_t(rand()) : 0;
                REQUIRE(checksum_finish(checksum_add(start, buffer + offset, length))
                    == reference_checksum(start, buffer + offset, length));
            }
        }
    }
}

TEST_CASE("checksum: copying and summing at once equals summing, and copies exactly", "[checksum]")
{
    srand(12);
    uint8_t buffer[1600];
    uint8_t copy[1600 + 16];
    for (int round = 0; round < 3; round++) {
        for (uint8_t& byte : buffer)
            byte = round == 0 ? 0xff : uint8_t(rand());
        for (size_t offset = 0; offset < 8; offset++) {
            for (size_t length = 0; length + offset <= sizeof(buffer); length += length < 80 ? 1 : 97) {
                uint64_t start = round == 2 ? uint64_t(rand()) : 0;
                memset(copy, 0xa5, sizeof(copy));
                uint64_t sum = checksum_copy(start, copy + 3, buffer + offset, length);
                REQUIRE(sum == checksum_add(start, buffer + offset, length));
                REQUIRE(memcmp(copy + 3, buffer + offset, length) == 0);
                REQUIRE(copy[2] == 0xa5); // nothing written outside
                REQUIRE(copy[3 + length] == 0xa5);
            }
        }
    }
}

TEST_CASE("checksum: the incremental update equals recomputing (RFC 1624)", "[checksum]")
{
    srand(7);
    for (int round = 0; round < 2000; round++) {
        uint8_t bytes[20];
        for (uint8_t& byte : bytes)
            byte = uint8_t(rand());
        store16(bytes + 10, 0);
        uint16_t checksum = internet_checksum(bytes, sizeof(bytes));
        size_t word = size_t(rand() % 10) * 2;
        if (word == 10)
            continue;
        uint16_t old_word = load16(bytes + word);
        uint16_t new_word = round % 7 ? uint16_t(rand()) : uint16_t(round % 2 ? 0 : 0xffff);
        store16(bytes + word, new_word);
        CHECK(checksum_update16(checksum, old_word, new_word) == internet_checksum(bytes, sizeof(bytes)));
    }
}

TEST_CASE("checksum: the pseudo-header", "[checksum]")
{
    uint8_t pseudo[12];
    store32(pseudo, ipv4(192, 168, 1, 2));
    store32(pseudo + 4, ipv4(10, 0, 0, 255));
    pseudo[8] = 0;
    pseudo[9] = 17;
    store16(pseudo + 10, 1234);
    CHECK(checksum_finish(pseudo_header_sum(ipv4(192, 168, 1, 2), ipv4(10, 0, 0, 255), 17, 1234))
        == internet_checksum(pseudo, sizeof(pseudo)));
}
