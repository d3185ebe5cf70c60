#include <catch2/catch.hpp>

#include "crypto_test_support.h"

#include "lib/crypto/ed25519.h"
#include "lib/crypto/keys.h"
#include "lib/crypto/sha512.h"

using keel::ed25519_check_public_key;
using keel::ed25519_verify;
using keel::ed25519_verify_detailed;
using keel::Ed25519Status;

namespace {

struct Rfc8032Vector {
    const char* name;
    const char* secret;
    const char* public_key;
    std::string message; // hex
    const char* signature;
};

// RFC 8032 section 7.1.
const std::string test_1024_message = "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12"
                                      "ee50f8f54e9f77b1e355f6c50544e23fb"
                                      "1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d6"
                                      "58675fc6ea534e0810a4432826bf58c94"
                                      "1efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5"
                                      "d02e82d522c4feba15452f80288a821a5"
                                      "79116ec6dad2b3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9a39"
                                      "ce767967ed628c6ad573cb116dbefefd7"
                                      "5499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed34"
                                      "55c68c83f4a41da4af2b74ef5c53f1d8a"
                                      "c70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba"
                                      "70eb6248e594e1a2297acbbb39d502f1a"
                                      "8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b"
                                      "13fd65f27088d78b7e883c8759d2c4f5c"
                                      "65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089beccf80c"
                                      "fe2df16a2cf65bd92dd597b0707e0917a"
                                      "f48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab27af87a71314f318c782b23"
                                      "ebfe808b82b0ce26401d2e22f04d83d12"
                                      "55dc51addd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429ec96031dbc"
                                      "ad3dad9af0dcbaaaf268cb8fcffead94f"
                                      "3c7ca495e056a9b47acdb751fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e229"
                                      "04cc8c42f58c30c04aafdb038dda0847d"
                                      "d988dcda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b6"
                                      "5e614ad6808d6f6ee34dff7310fdc82ae"
                                      "bfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4"
                                      "aca7984a74d37145986780fc0b16ac451"
                                      "649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b96561"
                                      "0b5480109c8b17b80e1b7b750dfc7598d"
                                      "5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d9"
                                      "7e6aed3fb0f9cd71a43dd497f01f17c0e"
                                      "2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f7914f90cc2"
                                      "c7fff357876e506b50d334ba77c225bc3"
                                      "07ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d034"
                                      "12c091c6315cf4fde7cb68606937380db"
                                      "2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef6"
                                      "8d3a101e8a3b8cac60c905c15fc910840"
                                      "b94c00a0b9d0";

const Rfc8032Vector rfc8032_vectors[] = {
    { "TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
        "2465"
        "5141438e7a100b" },
    { "TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
        "ee"
        "b00d291612bb0c00" },
    { "TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed2"
        "8d"
        "c027beceea1ec40a" },
    { "TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", test_1024_message,
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30"
        "a6"
        "ac00a9704a188a03" },
    { "TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce8"
        "0e"
        "2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac1"
        "7a"
        "d9bef1177331a704" },
};

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const Bytes group_order = from_hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

// a + b for 32-byte little-endian numbers (no overflow in these tests).
Bytes add_le(const Bytes& a, const Bytes& b)
{
    Bytes sum(32);
    unsigned carry = 0;
    for (size_t i = 0; i < 32; ++i) {
        unsigned value = a[i] + b[i] + carry;
        sum[i] = uint8_t(value);
        carry = value >> 8;
    }
    return sum;
}

// The y coordinates (canonical, little-endian) of the eight points of
// order dividing 8 on edwards25519: 0 (order 4), 1 (identity), p-1
// (order 2) and +-c for the four points of order 8.
const char* small_order_y[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
};

Bytes with_sign(Bytes encoding, bool sign)
{
    encoding[31] = uint8_t((encoding[31] & 0x7f) | (sign ? 0x80 : 0));
    return encoding;
}

} // namespace

TEST_CASE("ed25519: RFC 8032 section 7.1 test vectors", "[crypto][ed25519]")
{
    for (const auto& vector : rfc8032_vectors) {
        INFO(vector.name);
        Bytes public_key = from_hex(vector.public_key);
        Bytes message = from_hex(vector.message);
        Bytes signature = from_hex(vector.signature);
        CHECK(ed25519_verify_detailed(signature.data(), public_key.data(), message.data(), message.size())
            == Ed25519Status::Valid);
        CHECK(ed25519_check_public_key(public_key.data()) == Ed25519Status::Valid);

        // The vectors agree with OpenSSL (deterministic signatures).
        OpensslKey key(from_hex(vector.secret));
        CHECK(Bytes(key.public_key(), key.public_key() + 32) == public_key);
        CHECK(key.sign(message) == signature);

        // Any change to the message, signature or key breaks it.
        Bytes longer = message;
        longer.push_back(0);
        CHECK_FALSE(ed25519_verify(signature.data(), public_key.data(), longer.data(), longer.size()));
        if (!message.empty()) {
            Bytes changed = message;
            changed[changed.size() / 2] ^= 0x10;
            CHECK_FALSE(ed25519_verify(signature.data(), public_key.data(), changed.data(), changed.size()));
        }
        for (size_t byte : { 0, 17, 31, 32, 47, 63 }) {
            Bytes bad = signature;
            bad[byte] ^= 0x01;
            CHECK_FALSE(ed25519_verify(bad.data(), public_key.data(), message.data(), message.size()));
        }
    }
    SECTION("the 1023-byte message is 1023 bytes") { CHECK(from_hex(test_1024_message).size() == 1023); }
}

TEST_CASE("ed25519: agrees with OpenSSL on 10,000 random keys and messages", "[crypto][ed25519]")
{
    std::mt19937_64 rng(25519);
    int valid = 0, corrupted_signatures = 0, corrupted_messages = 0, corrupted_keys = 0;
    for (int round = 0; round < 10000; ++round) {
        OpensslKey key(random_bytes(rng, 32));
        Bytes message = random_bytes(rng, rng() % 200);
        Bytes signature = key.sign(message);
        const uint8_t* public_key = key.public_key();
        INFO("round " << round);

        bool ours = ed25519_verify(signature.data(), public_key, message.data(), message.size());
        REQUIRE(ours == openssl_verify(signature.data(), public_key, message.data(), message.size()));
        REQUIRE(ours);
        ++valid;

        Bytes bad_signature = signature;
        size_t bit = rng() % 512;
        bad_signature[bit / 8] ^= uint8_t(1 << (bit % 8));
        ours = ed25519_verify(bad_signature.data(), public_key, message.data(), message.size());
        REQUIRE(ours == openssl_verify(bad_signature.data(), public_key, message.data(), message.size()));
        REQUIRE_FALSE(ours);
        ++corrupted_signatures;

        if (!message.empty()) {
            Bytes bad_message = message;
            bit = rng() % (8 * message.size());
            bad_message[bit / 8] ^= uint8_t(1 << (bit % 8));
            ours = ed25519_verify(signature.data(), public_key, bad_message.data(), bad_message.size());
            REQUIRE(ours == openssl_verify(signature.data(), public_key, bad_message.data(), bad_message.size()));
            REQUIRE_FALSE(ours);
            ++corrupted_messages;
        }

        if (round % 4 == 0) {
            Bytes bad_key(public_key, public_key + 32);
            bit = rng() % 256;
            bad_key[bit / 8] ^= uint8_t(1 << (bit % 8));
            ours = ed25519_verify(signature.data(), bad_key.data(), message.data(), message.size());
            REQUIRE(ours == openssl_verify(signature.data(), bad_key.data(), message.data(), message.size()));
            REQUIRE_FALSE(ours);
            ++corrupted_keys;
        }
    }
    CHECK(valid == 10000);
    CHECK(corrupted_signatures == 10000);
    CHECK(corrupted_messages > 9900);
    CHECK(corrupted_keys == 2500);
}

TEST_CASE("ed25519: S + L is refused (malleability)", "[crypto][ed25519]")
{
    for (const auto& vector : rfc8032_vectors) {
        INFO(vector.name);
        Bytes public_key = from_hex(vector.public_key);
        Bytes message = from_hex(vector.message);
        Bytes signature = from_hex(vector.signature);
        Bytes s(signature.begin() + 32, signature.end());
        Bytes malleated = signature;
        Bytes s_plus_l = add_le(s, group_order);
        std::copy(s_plus_l.begin(), s_plus_l.end(), malleated.begin() + 32);
        // [S + L]B = [S]B, so a lax verifier would accept this too.
        CHECK(ed25519_verify_detailed(malleated.data(), public_key.data(), message.data(), message.size())
            == Ed25519Status::NonCanonicalS);
        CHECK_FALSE(openssl_verify(malleated.data(), public_key.data(), message.data(), message.size()));

        Bytes s_is_l = signature;
        std::copy(group_order.begin(), group_order.end(), s_is_l.begin() + 32);
        CHECK(ed25519_verify_detailed(s_is_l.data(), public_key.data(), message.data(), message.size())
            == Ed25519Status::NonCanonicalS);
        Bytes s_top_bit = signature;
        s_top_bit[63] |= 0x80;
        CHECK(ed25519_verify_detailed(s_top_bit.data(), public_key.data(), message.data(), message.size())
            == Ed25519Status::NonCanonicalS);
    }
}

TEST_CASE("ed25519: L - 1 is a canonical S", "[crypto][ed25519]")
{
    Bytes vector_key = from_hex(rfc8032_vectors[0].public_key);
    Bytes signature = from_hex(rfc8032_vectors[0].signature);
    Bytes l_minus_1 = group_order;
    l_minus_1[0] -= 1;
    std::copy(l_minus_1.begin(), l_minus_1.end(), signature.begin() + 32);
    // Passes the range check, then fails the equation.
    CHECK(ed25519_verify_detailed(signature.data(), vector_key.data(), "", 0) == Ed25519Status::EquationMismatch);
}

TEST_CASE("ed25519: non-canonical encodings of R and A are refused", "[crypto][ed25519]")
{
    Bytes public_key = from_hex(rfc8032_vectors[0].public_key);
    Bytes signature = from_hex(rfc8032_vectors[0].signature);
    // y = p + k for k in [0, 19) encodes y = k a second time.
    for (int k = 0; k < 19; ++k) {
        for (bool sign : { false, true }) {
            Bytes encoding = from_hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
            encoding[0] = uint8_t(0xed + k);
            encoding = with_sign(encoding, sign);
            INFO("y = p + " << k << ", sign " << sign);
            Bytes bad_r = signature;
            std::copy(encoding.begin(), encoding.end(), bad_r.begin());
            CHECK(ed25519_verify_detailed(bad_r.data(), public_key.data(), "", 0) == Ed25519Status::NonCanonicalR);
            CHECK(ed25519_verify_detailed(signature.data(), encoding.data(), "", 0) == Ed25519Status::NonCanonicalKey);
            CHECK(ed25519_check_public_key(encoding.data()) == Ed25519Status::NonCanonicalKey);
        }
    }
    // p - 1 itself is canonical (it is the point of order 2).
    Bytes minus_one = from_hex(small_order_y[2]);
    CHECK(ed25519_check_public_key(minus_one.data()) == Ed25519Status::SmallOrderKey);
}

TEST_CASE("ed25519: small-order public keys and R are refused", "[crypto][ed25519]")
{
    Bytes good_key = from_hex(rfc8032_vectors[1].public_key);
    Bytes good_signature = from_hex(rfc8032_vectors[1].signature);
    Bytes message = from_hex(rfc8032_vectors[1].message);
    int small_order_points = 0;
    for (const char* y : small_order_y) {
        for (bool sign : { false, true }) {
            Bytes encoding = with_sign(from_hex(y), sign);
            INFO("encoding " << to_hex(encoding.data(), 32));
            Ed25519Status key_status = ed25519_check_public_key(encoding.data());
            // x = 0 (y = +-1) has no negative twin: those encodings are
            // not points at all; every other one is a small-order point.
            bool x_is_zero = y == small_order_y[1] || y == small_order_y[2];
            if (x_is_zero && sign) {
                CHECK(key_status == Ed25519Status::KeyNotOnCurve);
            } else {
                CHECK(key_status == Ed25519Status::SmallOrderKey);
                ++small_order_points;
            }
            Bytes bad_r = good_signature;
            std::copy(encoding.begin(), encoding.end(), bad_r.begin());
            CHECK(ed25519_verify_detailed(bad_r.data(), good_key.data(), message.data(), message.size())
                == Ed25519Status::SmallOrderR);
        }
    }
    CHECK(small_order_points == 8);
}

TEST_CASE("ed25519: the identity key cannot sign everything", "[crypto][ed25519]")
{
    // With A = identity, [S]B - [k]A = [S]B for every message, so the
    // signature (R = B, S = 1) would verify for any message without the
    // small-order check.
    Bytes identity = from_hex(small_order_y[1]);
    Bytes signature = from_hex("5866666666666666666666666666666666666666666666666666666666666666"
                               "0100000000000000000000000000000000000000000000000000000000000000");
    for (const char* message : { "", "anything", "at all" }) {
        CHECK(ed25519_verify_detailed(signature.data(), identity.data(), message, strlen(message))
            == Ed25519Status::SmallOrderKey);
    }
}

TEST_CASE("ed25519: keys that are not on the curve are refused", "[crypto][ed25519]")
{
    // y = 2: x^2 = (y^2 - 1) / (d y^2 + 1) = 3 / (4d + 1), not a square.
    Bytes y2 = from_hex("0200000000000000000000000000000000000000000000000000000000000000");
    Bytes signature = from_hex(rfc8032_vectors[0].signature);
    Ed25519Status status = ed25519_check_public_key(y2.data());
    std::mt19937_64 rng(3);
    int not_on_curve = 0;
    for (int i = 0; i < 200; ++i) {
        Bytes candidate = random_bytes(rng, 32);
        candidate[31] &= 0x7f;
        Ed25519Status candidate_status = ed25519_check_public_key(candidate.data());
        REQUIRE((candidate_status == Ed25519Status::Valid || candidate_status == Ed25519Status::KeyNotOnCurve));
        if (candidate_status == Ed25519Status::KeyNotOnCurve) {
            ++not_on_curve;
            CHECK(ed25519_verify_detailed(signature.data(), candidate.data(), "", 0) == Ed25519Status::KeyNotOnCurve);
        }
    }
    // About half of all y values have no x.
    CHECK(not_on_curve > 50);
    CHECK(not_on_curve < 150);
    CHECK((status == Ed25519Status::Valid || status == Ed25519Status::KeyNotOnCurve));
}

TEST_CASE("ed25519: every status has a text", "[crypto][ed25519]")
{
    for (int status = 0; status <= int(Ed25519Status::EquationMismatch); ++status)
        CHECK(strlen(keel::ed25519_status_text(Ed25519Status(status))) > 4);
}

TEST_CASE("key ids are the first 16 bytes of SHA-512 of the public key", "[crypto][keys]")
{
    Bytes public_key = from_hex(rfc8032_vectors[0].public_key);
    keel::KeyId id = keel::key_id_of(public_key.data());
    Bytes digest = openssl_digest(EVP_sha512(), public_key.data(), 32);
    CHECK(Bytes(id.bytes, id.bytes + 16) == Bytes(digest.begin(), digest.begin() + 16));
    char text[keel::key_id_text_size];
    keel::format_key_id(id, text);
    CHECK(std::string(text) == to_hex(digest.data(), 16));

    int tag = 0;
    keel::TrustedKey keys[2] = { keel::make_trusted_key(from_hex(rfc8032_vectors[1].public_key).data(), nullptr),
        keel::make_trusted_key(public_key.data(), &tag) };
    const keel::TrustedKey* found = keel::find_trusted_key(keys, 2, id);
    REQUIRE(found == &keys[1]);
    CHECK(found->tag == &tag);
    keel::KeyId other = id;
    other.bytes[15] ^= 1;
    CHECK(keel::find_trusted_key(keys, 2, other) == nullptr);
}
