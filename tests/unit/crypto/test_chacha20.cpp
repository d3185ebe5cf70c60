// ChaCha20 against RFC 8439's test vectors and against OpenSSL's ChaCha20
// on random keys, counters, nonces and lengths.
#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <random>
#include <string.h>
#include <vector>

#include "lib/crypto/chacha20.h"

using namespace keel;

namespace {

std::vector<uint8_t> from_hex(const char* hex)
{
    std::vector<uint8_t> out;
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        unsigned value;
        sscanf(hex + i, "%2x", &value);
        out.push_back(uint8_t(value));
    }
    return out;
}

ChaCha20Key sequential_key()
{
    ChaCha20Key key;
    for (int i = 0; i < 32; i++)
        key.bytes[i] = uint8_t(i);
    return key;
}

} // namespace

TEST_CASE("chacha20: RFC 8439 2.3.2 block")
{
    const uint8_t nonce[12] = { 0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0 };
    uint8_t out[64];
    chacha20_block(sequential_key(), 1, nonce, out);
    auto expected = from_hex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                             "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
    CHECK(memcmp(out, expected.data(), 64) == 0);
}

TEST_CASE("chacha20: RFC 8439 2.4.2 encryption")
{
    const uint8_t nonce[12] = { 0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0 };
    const char* text = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
                       "sunscreen would be it.";
    std::vector<uint8_t> data(text, text + strlen(text));
    REQUIRE(data.size() == 114);
    chacha20_xor(sequential_key(), 1, nonce, data.data(), data.size());
    auto expected = from_hex("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
                             "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
                             "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
                             "5af90bbf74a35be6b40b8eedf2785e42874d");
    CHECK(data == expected);
}

TEST_CASE("chacha20: the same keystream as OpenSSL")
{
    std::mt19937_64 random(8439);
    for (int round = 0; round < 200; round++) {
        ChaCha20Key key;
        uint8_t nonce[12];
        for (auto& byte : key.bytes)
            byte = uint8_t(random());
        for (auto& byte : nonce)
            byte = uint8_t(random());
        uint32_t counter = uint32_t(random() % 1000);
        size_t size = size_t(random() % 1000);
        std::vector<uint8_t> ours(size), theirs(size, 0), zeros(size, 0);
        chacha20_xor(key, counter, nonce, ours.data(), size);

        uint8_t iv[16] = { uint8_t(counter), uint8_t(counter >> 8), uint8_t(counter >> 16), uint8_t(counter >> 24) };
        memcpy(iv + 4, nonce, 12);
        EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
        REQUIRE(EVP_EncryptInit_ex(context, EVP_chacha20(), nullptr, key.bytes, iv) == 1);
        int length = 0;
        if (size)
            REQUIRE(EVP_EncryptUpdate(context, theirs.data(), &length, zeros.data(), int(size)) == 1);
        EVP_CIPHER_CTX_free(context);
        CHECK(ours == theirs);
    }
}
