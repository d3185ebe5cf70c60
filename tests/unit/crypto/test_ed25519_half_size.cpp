// The short Ed25519 check (ed25519.cpp) gives the full-length check's
// verdict on every input: random valid and corrupted signatures, keys with
// a torsion component, R with a small-order component, and challenges for
// which the first lattice candidate c is even. Also: the scalar reduction
// behind it, the precomputed base-point tables and prepared keys, and the
// field multiplication against its portable form.
#include <catch2/catch.hpp>

#include "crypto_test_support.h"
#include "ed25519_vectors.h"

#include "lib/crypto/curve25519.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/ed25519_scalar.h"
#include "lib/crypto/keys.h"
// The fallback crypto_arch/field51.h, for architectures without their own; built
// here so that it keeps compiling where this machine has an assembly one.
#include "lib/crypto/portable/crypto_arch/field51.h"

using keel::Ed25519PublicKey;
using keel::Ed25519Status;
using namespace keel::curve25519;
using namespace keel::ed25519_scalar;

namespace {

Scalar scalar_of(const Bytes& bytes) { return scalar_from_bytes(bytes.data()); }

Scalar random_scalar_below_l(std::mt19937_64& rng)
{
    Bytes wide = random_bytes(rng, 64);
    return reduce_wide(wide.data());
}

bool equal(const Scalar& a, const Scalar& b) { return !scalar_less(a, b) && !scalar_less(b, a); }

constexpr Scalar one = { { 1, 0, 0, 0 } };

// a + b mod L for a, b < L.
Scalar add_mod_l(const Scalar& a, const Scalar& b)
{
    Scalar total;
    uint64_t carry = 0;
    for (int i = 0; i < 4; ++i) {
        unsigned __int128 sum = (unsigned __int128)a.v[i] + b.v[i] + carry;
        total.v[i] = uint64_t(sum);
        carry = uint64_t(sum >> 64);
    }
    return mul_mod_l(total, one);
}

// Every verification path on one input; they must agree.
struct Verdicts {
    Ed25519Status prepared;
    Ed25519Status full_length;
    Ed25519Status from_bytes;
};

Verdicts verify_all_ways(const uint8_t* signature, const uint8_t* public_key, const Bytes& message)
{
    Ed25519PublicKey key;
    keel::ed25519_prepare_key(public_key, key);
    return { keel::ed25519_verify_prepared(signature, key, message.data(), message.size()),
        keel::ed25519_verify_full_length(signature, key, message.data(), message.size()),
        keel::ed25519_verify_detailed(signature, public_key, message.data(), message.size()) };
}

// What challenge_pair promises for k: c odd and 0 < |c| < L, and
// d = c k (mod L); returns the doublings the pair costs. The pair rarely
// costs more than 64 (when c had to be replaced and the Euclidean quotient
// there was large), and then only a few more doublings.
int check_challenge_pair(const Scalar& k)
{
    ChallengePair pair = challenge_pair(k);
    REQUIRE((pair.c.v[0] & 1) == 1);
    REQUIRE(scalar_less(pair.c, order_l));
    Scalar c_mod_l = pair.c_negative ? negate_mod_l(pair.c) : pair.c;
    REQUIRE(equal(mul_mod_l(c_mod_l, k), pair.d));
    int length = challenge_pair_length(pair);
    REQUIRE(length >= std::max(scalar_bit_length(pair.c), scalar_bit_length(pair.d) - (key_parts - 1) * split_bits));
    REQUIRE(length >= split_bits);
    return length;
}

void check_short_challenge_pair(const Scalar& k, int& longer_than_64)
{
    int length = check_challenge_pair(k);
    REQUIRE(length <= 90);
    longer_than_64 += length > split_bits;
}

} // namespace

bool same_limbs(const Fe& a, const Fe& b)
{
    for (int i = 0; i < 5; ++i)
        if (a.v[i] != b.v[i])
            return false;
    return true;
}

TEST_CASE(
    "curve25519: fe_mul and fe_sq give the portable code's limbs, up to the largest lazy limbs", "[crypto][ed25519]")
{
    // Multiplication accepts limbs below 2^59 (curve25519.h): the extremes
    // carry the most out of each column and out of the top one.
    constexpr uint64_t largest = (uint64_t(1) << 59) - 1;
    std::vector<Fe> inputs = { fe_zero, fe_one, { { mask51, mask51, mask51, mask51, mask51 } },
        { { largest, largest, largest, largest, largest } }, { { largest, 0, largest, 0, largest } },
        { { 0, largest, 0, largest, 0 } }, { { mask51 - 18, mask51, mask51, mask51, mask51 } } }; // p
    std::mt19937_64 rng(25519);
    for (int i = 0; i < 2000; ++i) {
        // Limbs of 51 to 59 bits, as carried and lazy values have.
        uint64_t bound = uint64_t(1) << (51 + rng() % 9);
        Fe random;
        for (uint64_t& limb : random.v)
            limb = rng() % bound;
        inputs.push_back(random);
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
        const Fe& a = inputs[i];
        const Fe& b = inputs[(i * 7 + 3) % inputs.size()];
        INFO("input " << i);
        REQUIRE(same_limbs(fe_mul(a, b), fe_mul_portable(a, b)));
        REQUIRE(same_limbs(fe_sq(a), fe_sq_portable(a)));
        REQUIRE(fe_bytes(fe_sq(a)) == fe_bytes(fe_mul(a, a)));
        for (uint64_t limb : fe_mul(a, b).v)
            REQUIRE(limb < (uint64_t(1) << 52));
    }
    // The portable fallback header agrees too.
    for (size_t i = 0; i < inputs.size(); i += 97) {
        Fe h;
        uint64_t b[5] = { 3, 1, 4, 1, 5 };
        unsigned __int128 top = keel::crypto_arch::field51_mul(h.v, inputs[i].v, b);
        Fe expected;
        REQUIRE(top == keel::field51_portable::mul(expected.v, inputs[i].v, b));
        REQUIRE(same_limbs(h, expected));
        top = keel::crypto_arch::field51_square(h.v, inputs[i].v);
        REQUIRE(top == keel::field51_portable::square(expected.v, inputs[i].v));
        REQUIRE(same_limbs(h, expected));
    }
    // (p - 1)^2 = 1, where p's limbs are 2^51 - 19 and four of 2^51 - 1.
    Fe minus_one = { { mask51 - 19, mask51, mask51, mask51, mask51 } };
    REQUIRE(fe_bytes(fe_sq(minus_one)) == fe_bytes(fe_one));
    REQUIRE(fe_bytes(fe_mul(minus_one, minus_one)) == fe_bytes(fe_one));
}

TEST_CASE("ed25519 tables: the checked-in base tables are (2i+1)[2^(64j)]B", "[crypto][ed25519]")
{
    Point base = base_point();
    for (size_t table = 0; table < base_table_count; ++table) {
        if (table > 0) {
            for (int i = 0; i < base_table_split; ++i)
                base = to_extended(point_double(base));
        }
        Cached twice = to_cached(to_extended(point_double(base)));
        Point multiple = base;
        for (size_t i = 0; i < base_table_size; ++i) {
            INFO("table " << table << ", entry " << i);
            Niels expected = to_niels(multiple);
            CHECK(fe_bytes(base_table[table][i].y_plus_x) == fe_bytes(expected.y_plus_x));
            CHECK(fe_bytes(base_table[table][i].y_minus_x) == fe_bytes(expected.y_minus_x));
            CHECK(fe_bytes(base_table[table][i].xy2d) == fe_bytes(expected.xy2d));
            multiple = to_extended(point_add(multiple, twice));
        }
    }
}

TEST_CASE("ed25519 scalars: scalar_bits splits a scalar into parts that add up to it", "[crypto][ed25519]")
{
    std::mt19937_64 rng(85);
    for (int round = 0; round < 1000; ++round) {
        Scalar a = round == 0 ? order_l : random_scalar_below_l(rng);
        int split = 1 + int(rng() % 200);
        Scalar low = scalar_bits(a, 0, split), high = scalar_bits(a, split, 256);
        INFO("round " << round << ", split " << split);
        REQUIRE(scalar_bit_length(low) <= split);
        REQUIRE(scalar_bit_length(high) <= std::max(0, scalar_bit_length(a) - split));
        // low + high 2^split, computed mod L (a < L).
        Scalar power = one;
        for (int i = 0; i < split; ++i)
            power = add_mod_l(power, power);
        REQUIRE(equal(add_mod_l(mul_mod_l(low, one), mul_mod_l(high, power)), mul_mod_l(a, one)));
    }
}

TEST_CASE("ed25519 scalars: challenge_pair gives an odd c and d = c k mod L, short for most k", "[crypto][ed25519]")
{
    int longer_than_64 = 0;
    std::mt19937_64 rng(1252);
    for (int i = 0; i < 20000; ++i)
        check_short_challenge_pair(random_scalar_below_l(rng), longer_than_64);
    CHECK(longer_than_64 < 1000);

    Scalar l_minus_1 = order_l;
    l_minus_1.v[0] -= 1;
    const Scalar edges[] = {
        { { 0, 0, 0, 0 } },
        { { 1, 0, 0, 0 } },
        { { 2, 0, 0, 0 } },
        { { 0, 0x4000000000000000, 0, 0 } },     // 2^126
        { { ~0ull, 0x3fffffffffffffff, 0, 0 } }, // 2^126 - 1
        { { 0, 0, 1, 0 } },                      // 2^128
        { { 0, 0, 0, 0x0800000000000000 } },     // 2^251
        l_minus_1,
    };
    // Right for every k, short for most: k = 2^251 = (L - c') / 2, for
    // instance, has an even first candidate (2) whose odd neighbours are
    // (1, 2^251) and a 127-bit c, which cost about 125 doublings.
    for (const Scalar& k : edges)
        check_challenge_pair(k);
    // k = (L - 1) / 2: L = 2k + 1, so the first remainder below 2^192 is 1,
    // its cofactor -2 is even, and the one after is 0 with cofactor L, a c
    // that would accept anything. The pair (1, k) is long but right.
    Scalar half_l_minus_1
        = { { (l_minus_1.v[0] >> 1) | (l_minus_1.v[1] << 63), (l_minus_1.v[1] >> 1) | (l_minus_1.v[2] << 63),
            (l_minus_1.v[2] >> 1) | (l_minus_1.v[3] << 63), l_minus_1.v[3] >> 1 } };
    check_challenge_pair(half_l_minus_1);
    ChallengePair degenerate = challenge_pair(half_l_minus_1);
    CHECK(equal(degenerate.c, one));
    CHECK(equal(degenerate.d, half_l_minus_1));
    // k = 0 and k = 1 need no reduction: c = 1, d = k.
    for (int value : { 0, 1 }) {
        ChallengePair pair = challenge_pair(edges[value]);
        CHECK(equal(pair.c, one));
        CHECK_FALSE(pair.c_negative);
        CHECK(equal(pair.d, edges[value]));
    }
    // k = L - 1 = -1: one step, c = -1 and d = 1.
    ChallengePair minus_one = challenge_pair(l_minus_1);
    CHECK(equal(minus_one.c, one));
    CHECK(minus_one.c_negative);
    CHECK(equal(minus_one.d, one));
}

TEST_CASE("ed25519 scalars: an odd first candidate gives |c| < 2^61 and d < 2^192", "[crypto][ed25519]")
{
    std::mt19937_64 rng(170);
    int within = 0;
    for (int i = 0; i < 20000; ++i) {
        ChallengePair pair = challenge_pair(random_scalar_below_l(rng));
        bool short_pair = scalar_bit_length(pair.c) <= 61 && scalar_bit_length(pair.d) <= 192;
        within += short_pair;
        if (short_pair)
            REQUIRE(challenge_pair_length(pair) == split_bits);
    }
    // The first candidate is odd for about two k in three; the odd
    // neighbours of an even one are usually as short.
    CHECK(within > 12000);
}

TEST_CASE("ed25519 scalars: an even first candidate c is replaced by an odd one", "[crypto][ed25519]")
{
    int longer_than_64 = 0;
    size_t count = 0;
    for (const char* hex : even_first_candidate_challenges) {
        INFO("k = " << hex);
        check_short_challenge_pair(scalar_of(from_hex(hex)), longer_than_64);
        ++count;
    }
    CHECK(count >= 10);
}

TEST_CASE("ed25519 scalars: wNAF digits add up to the scalar", "[crypto][ed25519]")
{
    std::mt19937_64 rng(8);
    for (int width : { 5, 7 }) {
        for (int round = 0; round < 500; ++round) {
            Scalar k = round == 0 ? order_l : random_scalar_below_l(rng);
            INFO("width " << width << ", round " << round);
            int8_t digits[wnaf_digits];
            size_t used = scalar_to_wnaf(k, width, digits);
            // Horner's rule from the top digit, mod L.
            Scalar sum = { { 0, 0, 0, 0 } };
            int previous = -1;
            for (size_t i = wnaf_digits; i-- > 0;) {
                sum = add_mod_l(sum, sum);
                int digit = digits[i];
                if (digit == 0)
                    continue;
                REQUIRE(i < used);
                REQUIRE((digit & 1) == 1);
                REQUIRE(std::abs(digit) < (1 << (width - 1)));
                if (previous >= 0)
                    REQUIRE(previous - int(i) >= width);
                previous = int(i);
                Scalar magnitude = { { uint64_t(std::abs(digit)), 0, 0, 0 } };
                sum = add_mod_l(sum, digit < 0 ? negate_mod_l(magnitude) : magnitude);
            }
            REQUIRE(equal(sum, mul_mod_l(k, one)));
        }
    }
}

TEST_CASE("ed25519: short and full-length paths agree on random valid and invalid inputs", "[crypto][ed25519]")
{
    std::mt19937_64 rng(2020);
    int valid = 0, invalid = 0;
    for (int round = 0; round < 2000; ++round) {
        OpensslKey key(random_bytes(rng, 32));
        Bytes message = random_bytes(rng, rng() % 120);
        Bytes signature = key.sign(message);
        INFO("round " << round);

        Ed25519PublicKey prepared;
        REQUIRE(keel::ed25519_prepare_key(key.public_key(), prepared) == Ed25519Status::Valid);
        REQUIRE(prepared.torsion_free);

        std::vector<Bytes> candidates { signature };
        Bytes flipped = signature;
        size_t bit = rng() % 512;
        flipped[bit / 8] ^= uint8_t(1 << (bit % 8));
        candidates.push_back(flipped);
        // R replaced by a random point, S by a random canonical scalar.
        Bytes forged = signature;
        Bytes random_s = random_bytes(rng, 64);
        Scalar s = reduce_wide(random_s.data());
        for (int i = 0; i < 4; ++i) {
            for (int j = 0; j < 8; ++j)
                forged[32 + 8 * i + j] = uint8_t(s.v[i] >> (8 * j));
        }
        if (round % 2)
            std::copy(key.public_key(), key.public_key() + 32, forged.begin());
        candidates.push_back(forged);

        for (const Bytes& candidate : candidates) {
            Verdicts verdicts = verify_all_ways(candidate.data(), key.public_key(), message);
            REQUIRE(verdicts.prepared == verdicts.full_length);
            REQUIRE(verdicts.prepared == verdicts.from_bytes);
            bool openssl = openssl_verify(candidate.data(), key.public_key(), message.data(), message.size());
            REQUIRE((verdicts.prepared == Ed25519Status::Valid) == openssl);
            (openssl ? valid : invalid)++;
        }
    }
    CHECK(valid == 2000);
    CHECK(invalid == 4000);
}

TEST_CASE("ed25519: generated signatures with torsion components get the cofactorless verdict", "[crypto][ed25519]")
{
    int torsion_keys = 0, valid_with_torsion_key = 0, small_order_r = 0, even_c = 0;
    for (const GeneratedVector& vector : generated_vectors) {
        std::string what = vector.what;
        INFO(what);
        Bytes public_key = from_hex(vector.public_key);
        Bytes message = from_hex(vector.message);
        Bytes signature = from_hex(vector.signature);

        Ed25519PublicKey prepared;
        REQUIRE(keel::ed25519_prepare_key(public_key.data(), prepared) == Ed25519Status::Valid);
        bool torsion_key = what.rfind("key + point of order", 0) == 0;
        CHECK(prepared.torsion_free == !torsion_key);

        Ed25519Status expected = vector.valid ? Ed25519Status::Valid : Ed25519Status::EquationMismatch;
        Verdicts verdicts = verify_all_ways(signature.data(), public_key.data(), message);
        CHECK(verdicts.prepared == expected);
        CHECK(verdicts.full_length == expected);
        CHECK(verdicts.from_bytes == expected);

        torsion_keys += torsion_key;
        valid_with_torsion_key += torsion_key && vector.valid;
        small_order_r += what.rfind("R + point of order", 0) == 0;
        even_c += what.rfind("first candidate c even", 0) == 0;
    }
    CHECK(torsion_keys == 18);
    CHECK(valid_with_torsion_key == 9);
    CHECK(small_order_r == 7);
    CHECK(even_c == 12);
}

TEST_CASE("ed25519: a prepared key that cannot verify keeps its status, after the signature's", "[crypto][ed25519]")
{
    OpensslKey signer(Bytes(32, 7));
    Bytes message = { 1, 2, 3 };
    Bytes signature = signer.sign(message);
    Bytes bad_s = signature;
    bad_s[63] |= 0x80;

    const char* keys[] = {
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
        "0200000000000000000000000000000000000000000000000000000000000000", // y = 2: no x
        "0100000000000000000000000000000000000000000000000000000000000000", // identity
    };
    for (const char* hex : keys) {
        Bytes public_key = from_hex(hex);
        INFO("key " << hex);
        Ed25519PublicKey prepared;
        Ed25519Status status = keel::ed25519_prepare_key(public_key.data(), prepared);
        CHECK(status == keel::ed25519_check_public_key(public_key.data()));
        CHECK(status != Ed25519Status::Valid);
        CHECK(prepared.status == status);
        CHECK(keel::ed25519_verify_prepared(signature.data(), prepared, message.data(), message.size()) == status);
        CHECK(keel::ed25519_verify_prepared(bad_s.data(), prepared, message.data(), message.size())
            == Ed25519Status::NonCanonicalS);
        CHECK(keel::ed25519_verify_detailed(signature.data(), public_key.data(), message.data(), message.size())
            == status);
    }
}

TEST_CASE("ed25519: trusted keys verify with or without a prepared key", "[crypto][ed25519][keys]")
{
    OpensslKey signer(Bytes(32, 9));
    Bytes message = { 'k', 'e', 'e', 'l' };
    Bytes signature = signer.sign(message);
    Ed25519PublicKey prepared;
    REQUIRE(keel::ed25519_prepare_key(signer.public_key(), prepared) == Ed25519Status::Valid);
    keel::TrustedKey with = keel::make_trusted_key(signer.public_key(), nullptr, &prepared);
    keel::TrustedKey without = keel::make_trusted_key(signer.public_key(), nullptr);
    CHECK(with.prepared == &prepared);
    CHECK(without.prepared == nullptr);
    for (const keel::TrustedKey* key : { &with, &without }) {
        CHECK(keel::verify_with_trusted_key(*key, signature.data(), message.data(), message.size())
            == Ed25519Status::Valid);
        Bytes other = message;
        other[0] ^= 1;
        CHECK(keel::verify_with_trusted_key(*key, signature.data(), other.data(), other.size())
            == Ed25519Status::EquationMismatch);
    }
}
