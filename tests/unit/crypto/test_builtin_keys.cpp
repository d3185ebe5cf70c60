// Built-in keys come prepared by the build (scripts/gen-builtin-keys.py
// computes the status, torsion, odd multiples and key id in Python): for
// keys of every kind (gen_prepared_key_cases.py), what it wrote is what
// ed25519_prepare_key computes at run time, and both verify alike.
#include <catch2/catch.hpp>

#include <stdio.h>
#include <string>

#include <openssl/pem.h>

#include "crypto_test_support.h"

#include "lib/crypto/curve25519.h"
#include "lib/crypto/ed25519.h"
#include "loader/keyring.h"

using keel::Ed25519PublicKey;
using keel::Ed25519Status;
using namespace keel::curve25519;

namespace {

// The seed of tests/keys/blocked-test.pem, the "honest" key's private half.
Bytes honest_seed()
{
    FILE* file = fopen(KEEL_HONEST_KEY_PEM, "r");
    REQUIRE(file);
    EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
    fclose(file);
    REQUIRE(key);
    Bytes seed(32);
    size_t size = seed.size();
    bool ok = EVP_PKEY_get_raw_private_key(key, seed.data(), &size) == 1 && size == 32;
    EVP_PKEY_free(key);
    REQUIRE(ok);
    return seed;
}

} // namespace

TEST_CASE("builtin keys: the build prepares each key as ed25519_prepare_key does", "[crypto][ed25519][keys]")
{
    REQUIRE(keel::g_builtin_key_count == 7);
    int valid = 0, torsion_free = 0;
    for (size_t i = 0; i < keel::g_builtin_key_count; ++i) {
        const keel::BuiltinKey& builtin = keel::g_builtin_keys[i];
        INFO("key " << builtin.description);
        Ed25519PublicKey runtime;
        Ed25519Status status = keel::ed25519_prepare_key(builtin.prepared.bytes, runtime);
        REQUIRE(builtin.prepared.status == status);
        REQUIRE(builtin.prepared.status == runtime.status);
        REQUIRE(builtin.prepared.torsion_free == runtime.torsion_free);
        REQUIRE(std::equal(builtin.prepared.bytes, builtin.prepared.bytes + 32, runtime.bytes));
        // The id too: the boot takes it as the build computed it.
        CHECK(builtin.id == keel::key_id_of(builtin.prepared.bytes));
        if (status != Ed25519Status::Valid)
            continue;
        ++valid;
        torsion_free += runtime.torsion_free;
        for (size_t table = 0; table < Ed25519PublicKey::table_count; ++table) {
            for (size_t j = 0; j < Ed25519PublicKey::table_size; ++j) {
                INFO("table " << table << ", entry " << j);
                const Niels& built = builtin.prepared.odd_multiples[table][j];
                const Niels& computed = runtime.odd_multiples[table][j];
                CHECK(fe_bytes(built.y_plus_x) == fe_bytes(computed.y_plus_x));
                CHECK(fe_bytes(built.y_minus_x) == fe_bytes(computed.y_minus_x));
                CHECK(fe_bytes(built.xy2d) == fe_bytes(computed.xy2d));
                // Canonical limbs, within what the arithmetic accepts.
                for (const Fe* fe : { &built.y_plus_x, &built.y_minus_x, &built.xy2d })
                    for (uint64_t limb : fe->v)
                        CHECK(limb < (uint64_t(1) << 51));
            }
        }
    }
    CHECK(valid == 4);
    CHECK(torsion_free == 1);
    std::string statuses;
    for (size_t i = 0; i < keel::g_builtin_key_count; ++i)
        statuses += keel::ed25519_status_text(keel::g_builtin_keys[i].prepared.status) + std::string("; ");
    CHECK(statuses.find("small order") != std::string::npos);
    CHECK(statuses.find("not a point") != std::string::npos);
    CHECK(statuses.find("non-canonical") != std::string::npos);
}

TEST_CASE("builtin keys: a key prepared by the build verifies as one prepared at run time", "[crypto][ed25519][keys]")
{
    // Signatures by the honest key: valid, and refused once changed.
    OpensslKey signer(honest_seed());
    const keel::BuiltinKey& honest = keel::g_builtin_keys[0];
    REQUIRE(std::equal(honest.prepared.bytes, honest.prepared.bytes + 32, signer.public_key()));
    std::mt19937_64 rng(12);
    for (int round = 0; round < 200; ++round) {
        Bytes message = random_bytes(rng, rng() % 200);
        Bytes signature = signer.sign(message);
        CHECK(keel::ed25519_verify_prepared(signature.data(), honest.prepared, message.data(), message.size())
            == Ed25519Status::Valid);
        size_t bit = rng() % 512;
        signature[bit / 8] ^= uint8_t(1 << (bit % 8));
        Ed25519PublicKey runtime;
        keel::ed25519_prepare_key(signer.public_key(), runtime);
        Ed25519Status status
            = keel::ed25519_verify_prepared(signature.data(), honest.prepared, message.data(), message.size());
        CHECK(status != Ed25519Status::Valid);
        CHECK(status == keel::ed25519_verify_prepared(signature.data(), runtime, message.data(), message.size()));
    }
    for (size_t i = 0; i < keel::g_builtin_key_count; ++i) {
        const keel::BuiltinKey& builtin = keel::g_builtin_keys[i];
        INFO("key " << builtin.description);
        Ed25519PublicKey runtime;
        keel::ed25519_prepare_key(builtin.prepared.bytes, runtime);
        for (int round = 0; round < 20; ++round) {
            // No private key for these: random signatures (R a random
            // encoding, S canonical or not) and messages exercise every
            // path to a refusal, the same on both.
            Bytes signature = random_bytes(rng, 64);
            signature[63] &= round % 4 ? 0x0f : 0xff;
            Bytes message = random_bytes(rng, rng() % 64);
            REQUIRE(keel::ed25519_verify_prepared(signature.data(), builtin.prepared, message.data(), message.size())
                == keel::ed25519_verify_prepared(signature.data(), runtime, message.data(), message.size()));
        }
    }
}
