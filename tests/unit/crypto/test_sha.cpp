#include <catch2/catch.hpp>

#include "crypto_test_support.h"

#include "lib/crypto/sha256.h"
#include "lib/crypto/sha512.h"

using keel::Sha256;
using keel::Sha512;

namespace {

std::string sha512_hex(const std::string& message)
{
    auto digest = Sha512::hash(message.data(), message.size());
    return to_hex(digest.bytes, sizeof(digest.bytes));
}

std::string sha256_hex(const std::string& message)
{
    auto digest = Sha256::hash(message.data(), message.size());
    return to_hex(digest.bytes, sizeof(digest.bytes));
}

const std::string two_block_448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string two_block_896
    = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
      "opqrsmnopqrstnopqrstu";

} // namespace

// FIPS 180-4 examples (NIST "Example Algorithms": SHA512.pdf, SHA256.pdf).
TEST_CASE("sha512: FIPS 180-4 examples", "[crypto][sha]")
{
    CHECK(sha512_hex("")
        == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd474"
           "17a81a538327af927da3e");
    CHECK(sha512_hex("abc")
        == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643"
           "ce80e2a9ac94fa54ca49f");
    CHECK(sha512_hex(two_block_448)
        == "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71"
           "dd70354ec631238ca3445");
    CHECK(sha512_hex(two_block_896)
        == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6d"
           "d26545e96e55b874be909");
    CHECK(sha512_hex(std::string(1000000, 'a'))
        == "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c4"
           "9aa2e4eadb217ad8cc09b");
}

TEST_CASE("sha256: FIPS 180-4 examples", "[crypto][sha]")
{
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex(two_block_448) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(two_block_896) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha512: one million 'a' fed in odd pieces", "[crypto][sha]")
{
    std::string piece(997, 'a');
    Sha512 sha;
    size_t left = 1000000;
    while (left > 0) {
        size_t take = std::min(left, piece.size());
        sha.update(piece.data(), take);
        left -= take;
    }
    auto digest = sha.finish();
    CHECK(to_hex(digest.bytes, 64) == sha512_hex(std::string(1000000, 'a')));
}

// Lengths around the padding boundaries (SHA-512: a block is 128 bytes and
// the length field 16, so 111/112 and 239/240 decide whether padding takes
// an extra block; SHA-256: 55/56 and 119/120) and every length up to 300,
// against OpenSSL.
TEST_CASE("sha512/sha256: boundary lengths match OpenSSL", "[crypto][sha]")
{
    std::mt19937_64 rng(512);
    Bytes data = random_bytes(rng, 300);
    for (size_t length :
        { 0, 1, 55, 56, 63, 64, 65, 111, 112, 113, 119, 120, 127, 128, 129, 239, 240, 255, 256, 257 }) {
        INFO("length " << length);
        auto ours512 = Sha512::hash(data.data(), length);
        CHECK(Bytes(ours512.bytes, ours512.bytes + 64) == openssl_digest(EVP_sha512(), data.data(), length));
        auto ours256 = Sha256::hash(data.data(), length);
        CHECK(Bytes(ours256.bytes, ours256.bytes + 32) == openssl_digest(EVP_sha256(), data.data(), length));
    }
    for (size_t length = 0; length <= data.size(); ++length) {
        auto ours512 = Sha512::hash(data.data(), length);
        auto ours256 = Sha256::hash(data.data(), length);
        REQUIRE(Bytes(ours512.bytes, ours512.bytes + 64) == openssl_digest(EVP_sha512(), data.data(), length));
        REQUIRE(Bytes(ours256.bytes, ours256.bytes + 32) == openssl_digest(EVP_sha256(), data.data(), length));
    }
}

TEST_CASE("sha512/sha256: random chunking equals one-shot", "[crypto][sha]")
{
    std::mt19937_64 rng(7);
    for (int round = 0; round < 300; ++round) {
        size_t length = rng() % 3000;
        Bytes data = random_bytes(rng, length);
        Sha512 sha512;
        Sha256 sha256;
        size_t offset = 0;
        while (offset < length) {
            // Mostly small chunks, sometimes empty, sometimes multi-block.
            size_t chunk = rng() % 4 == 0 ? rng() % 700 : rng() % 20;
            chunk = std::min(chunk, length - offset);
            sha512.update(data.data() + offset, chunk);
            sha256.update(data.data() + offset, chunk);
            offset += chunk;
        }
        auto streamed512 = sha512.finish();
        auto streamed256 = sha256.finish();
        auto oneshot512 = Sha512::hash(data.data(), length);
        auto oneshot256 = Sha256::hash(data.data(), length);
        REQUIRE(memcmp(streamed512.bytes, oneshot512.bytes, 64) == 0);
        REQUIRE(memcmp(streamed256.bytes, oneshot256.bytes, 32) == 0);
        REQUIRE(Bytes(oneshot512.bytes, oneshot512.bytes + 64) == openssl_digest(EVP_sha512(), data.data(), length));
    }
}

TEST_CASE("sha512: reset starts a new message", "[crypto][sha]")
{
    Sha512 sha;
    sha.update("garbage", 7);
    sha.reset();
    sha.update("abc", 3);
    auto digest = sha.finish();
    CHECK(to_hex(digest.bytes, 64) == sha512_hex("abc"));
    sha.reset();
    digest = sha.finish();
    CHECK(to_hex(digest.bytes, 64) == sha512_hex(""));
}
