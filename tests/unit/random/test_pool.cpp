// The entropy pool and generator (core/lib/random): readiness only after
// 256 credited bits, output that depends on every input and never repeats,
// fast key erasure, and output statistics that a broken generator fails.
#include <catch2/catch.hpp>

#include <set>
#include <string.h>
#include <string>
#include <vector>

#include "lib/random/pool.h"

using namespace keel;

namespace {

std::string draw(EntropyPool& pool, size_t size = 32)
{
    std::string out(size, '\0');
    pool.generate(out.data(), size);
    return out;
}

} // namespace

TEST_CASE("random: not ready until 256 bits are credited")
{
    EntropyPool pool;
    CHECK_FALSE(pool.ready());
    uint8_t timing[64] = { 1, 2, 3 };
    pool.add(timing, sizeof(timing), 0); // timings: credited nothing
    draw(pool);
    CHECK_FALSE(pool.ready());
    uint8_t hardware[31] = { 7 };
    pool.add(hardware, sizeof(hardware), 248);
    draw(pool);
    CHECK_FALSE(pool.ready());
    CHECK(pool.credited_bits() == 248);
    pool.add(hardware, 1, 8);
    draw(pool);
    CHECK(pool.ready());
    CHECK(pool.pending_bits() == 0);
}

TEST_CASE("random: credit is at most 8 bits per byte")
{
    EntropyPool pool;
    uint8_t four[4] = {};
    pool.add(four, sizeof(four), 1000);
    CHECK(pool.credited_bits() == 32);
    pool.add(four, 0, 1000);
    CHECK(pool.credited_bits() == 32);
}

TEST_CASE("random: output is a function of every input")
{
    EntropyPool a, b, c;
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = uint8_t(i * 13);
    a.add(seed, 32, 256);
    b.add(seed, 32, 256);
    seed[31] ^= 1;
    c.add(seed, 32, 256);
    std::string first = draw(a);
    CHECK(first == draw(b)); // the same inputs, the same stream
    CHECK(first != draw(c)); // one bit differs
    // Uncredited input counts from the next reseed on.
    uint8_t jitter = 5;
    a.add(&jitter, 1, 0);
    a.add(seed, 32, 256);
    b.add(seed, 32, 256);
    CHECK(draw(a) != draw(b));
}

TEST_CASE("random: no output repeats, and each request erases the key")
{
    EntropyPool pool;
    uint8_t seed[32] = { 42 };
    pool.add(seed, sizeof(seed), 256);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; i++)
        CHECK(seen.insert(draw(pool, 16)).second);
    // A request's bytes are not a continuation of the previous request's
    // stream: two requests of 64 differ from one of 128.
    EntropyPool x, y;
    x.add(seed, sizeof(seed), 256);
    y.add(seed, sizeof(seed), 256);
    std::string two = draw(x, 64) + draw(x, 64);
    std::string one = draw(y, 128);
    CHECK(two.substr(0, 64) == one.substr(0, 64));
    CHECK(two.substr(64) != one.substr(64));
}

TEST_CASE("random: reseeds after each further 256 credited bits")
{
    EntropyPool pool;
    uint8_t bytes[32] = {};
    pool.add(bytes, 32, 256);
    draw(pool);
    uint64_t reseeds = pool.reseeds();
    pool.add(bytes, 16, 128);
    draw(pool);
    CHECK(pool.reseeds() == reseeds);
    pool.add(bytes, 16, 128);
    draw(pool);
    CHECK(pool.reseeds() == reseeds + 1);
}

TEST_CASE("random: a megabyte of output looks uniform")
{
    EntropyPool pool;
    uint8_t seed[32] = { 9 };
    pool.add(seed, sizeof(seed), 256);
    std::vector<uint8_t> out(1 << 20);
    pool.generate(out.data(), out.size());
    uint64_t counts[256] = {};
    for (uint8_t byte : out)
        counts[byte]++;
    // Chi-square with 255 degrees of freedom: 99.99% of uniform streams
    // stay below 360; a stuck or biased generator is far above it.
    double expected = double(out.size()) / 256, chi = 0;
    for (uint64_t count : counts)
        chi += (double(count) - expected) * (double(count) - expected) / expected;
    CHECK(chi < 360);
    CHECK(pool.bytes_generated() == out.size());
}
