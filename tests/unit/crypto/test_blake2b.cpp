#include <catch2/catch.hpp>

#include "crypto_test_support.h"

#include "crypto_arch/blake2b_compress.h"
#include "lib/crypto/blake2b.h"

using keel::Blake2b;

namespace {

std::string blake2b_hex(const std::string& message)
{
    auto digest = Blake2b::hash(message.data(), message.size());
    return to_hex(digest.bytes, sizeof(digest.bytes));
}

// Feeds `data` in pieces of random sizes (including empty ones), so every
// path through update() is taken: topping up a partial block, whole blocks
// from the input, and a full block held back in case it is the last.
Bytes streamed(std::mt19937_64& rng, const uint8_t* data, size_t size, size_t max_piece)
{
    Blake2b hasher;
    size_t done = 0;
    while (done < size) {
        size_t piece = std::min<size_t>(rng() % (max_piece + 1), size - done);
        hasher.update(data + done, piece);
        done += piece;
    }
    auto digest = hasher.finish();
    return Bytes(digest.bytes, digest.bytes + sizeof(digest.bytes));
}

} // namespace

// RFC 7693 Appendix A, and the digest of the empty message (which
// compresses one all-zero block with the final flag and a zero counter).
TEST_CASE("blake2b: RFC 7693 example and the empty message", "[crypto][blake2b]")
{
    CHECK(blake2b_hex("abc")
        == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8db"
           "f1925ab92386edd4009923");
    CHECK(blake2b_hex("")
        == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b"
           "1448b755d56f701afe9be2ce");
}

TEST_CASE("blake2b: every length 0-1024 against OpenSSL, one-shot and streamed", "[crypto][blake2b]")
{
    std::mt19937_64 rng(7693);
    Bytes data = random_bytes(rng, 1024);
    for (size_t length = 0; length <= data.size(); ++length) {
        INFO("length " << length);
        Bytes expected = openssl_digest(EVP_blake2b512(), data.data(), length);
        auto one_shot = Blake2b::hash(data.data(), length);
        REQUIRE(Bytes(one_shot.bytes, one_shot.bytes + 64) == expected);
        REQUIRE(streamed(rng, data.data(), length, 200) == expected);
        REQUIRE(streamed(rng, data.data(), length, 3) == expected);
    }
}

TEST_CASE("blake2b: large inputs against OpenSSL, streamed in random pieces", "[crypto][blake2b]")
{
    std::mt19937_64 rng(512);
    Bytes data = random_bytes(rng, 3 * 1024 * 1024 + 77);
    for (size_t length : { size_t(128 * 1024), size_t(128 * 1024 + 1), size_t(190 * 1000), size_t(231 * 1024 + 5),
             size_t(1024 * 1024), data.size() }) {
        INFO("length " << length);
        Bytes expected = openssl_digest(EVP_blake2b512(), data.data(), length);
        auto one_shot = Blake2b::hash(data.data(), length);
        REQUIRE(Bytes(one_shot.bytes, one_shot.bytes + 64) == expected);
        REQUIRE(streamed(rng, data.data(), length, 4096) == expected);
        REQUIRE(streamed(rng, data.data(), length, 300) == expected);
    }
}

TEST_CASE("blake2b: exact block multiples fed a block at a time", "[crypto][blake2b]")
{
    // The final block must be compressed with the final flag: a full block
    // is held back until more data (or finish) arrives.
    std::mt19937_64 rng(128);
    Bytes data = random_bytes(rng, 8 * Blake2b::block_size);
    for (size_t blocks = 1; blocks <= 8; ++blocks) {
        size_t length = blocks * Blake2b::block_size;
        Blake2b hasher;
        for (size_t i = 0; i < blocks; ++i)
            hasher.update(data.data() + i * Blake2b::block_size, Blake2b::block_size);
        auto digest = hasher.finish();
        CHECK(Bytes(digest.bytes, digest.bytes + 64) == openssl_digest(EVP_blake2b512(), data.data(), length));
    }
}

TEST_CASE("blake2b: reset starts a new message", "[crypto][blake2b]")
{
    Blake2b hasher;
    hasher.update("some other message", 18);
    hasher.reset();
    hasher.update("abc", 3);
    auto digest = hasher.finish();
    CHECK(to_hex(digest.bytes, 64) == blake2b_hex("abc"));
}

// Blake2b runs the architecture's compression function where the CPU has
// one (x86_64 with BMI2 and SSE4.1: crypto_arch/blake2b_compress.h); the C++ one is
// the fallback. Both must agree, block runs of any length, last or not.
TEST_CASE("blake2b: the architecture's compression function matches the C++ one", "[crypto][blake2b]")
{
    std::mt19937_64 rng(12);
    Bytes data = random_bytes(rng, 40 * Blake2b::block_size);
    for (size_t count = 1; count <= 40; count += 3) {
        for (bool last : { false, true }) {
            INFO("blocks " << count << (last ? ", last" : ""));
            uint64_t state[8], expected[8];
            for (auto& word : state)
                word = rng();
            std::copy(state, state + 8, expected);
            uint64_t counter = rng() >> 8;
            for (size_t i = 0; i < count; ++i)
                keel::blake2b_compress_portable(
                    expected, data.data() + i * Blake2b::block_size, counter + i * Blake2b::block_size, last);
            if (!keel::crypto_arch::blake2b_compress(state, data.data(), count, counter, last))
                for (size_t i = 0; i < count; ++i)
                    keel::blake2b_compress_portable(
                        state, data.data() + i * Blake2b::block_size, counter + i * Blake2b::block_size, last);
            REQUIRE(std::equal(state, state + 8, expected));
        }
    }
}
