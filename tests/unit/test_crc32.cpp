// CRC-32 (lib/base/crc32.h): the standard check value, chaining, and
// agreement with a bit-at-a-time reference over random data, and with the
// decompressor's table-driven CRC that gzip streams are checked with.
#include <catch2/catch.hpp>

#include <stdint.h>
#include <string.h>

#include <memory>
#include <random>
#include <vector>

#include "lib/base/crc32.h"
#include "lib/compress/crc32.h"

namespace {

uint32_t reference_crc32(const uint8_t* data, size_t size)
{
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < size; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ ((crc & 1) ? 0xedb88320 : 0);
    }
    return ~crc;
}

} // namespace

TEST_CASE("crc32 check values")
{
    CHECK(keel::crc32("", 0) == 0);
    CHECK(keel::crc32("123456789", 9) == 0xcbf43926);
    CHECK(keel::crc32("a", 1) == 0xe8b7be43);
    const char* fox = "The quick brown fox jumps over the lazy dog";
    CHECK(keel::crc32(fox, strlen(fox)) == 0x414fa339);
    uint8_t zeros[32] = {};
    CHECK(keel::crc32(zeros, sizeof(zeros)) == 0x190a55ad);
}

TEST_CASE("crc32 chains and agrees with the reference and the decompressor's")
{
    std::mt19937 random(1);
    auto tables = std::make_unique<keel::Crc32Tables>();
    keel::crc32_make_tables(*tables);
    for (size_t size : { 1, 7, 8, 92, 128, 511, 512, 4096, 16384 }) {
        std::vector<uint8_t> data(size);
        for (auto& byte : data)
            byte = uint8_t(random());
        uint32_t expected = reference_crc32(data.data(), size);
        CHECK(keel::crc32(data.data(), size) == expected);
        CHECK(keel::crc32_update(*tables, 0, data.data(), size) == expected);
        size_t split = size / 3;
        CHECK(keel::crc32(data.data() + split, size - split, keel::crc32(data.data(), split)) == expected);
    }
}
