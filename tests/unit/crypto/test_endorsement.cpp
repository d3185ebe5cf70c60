#include <catch2/catch.hpp>

#include <memory>

#include "crypto_test_support.h"

#include "lib/crypto/endorsement.h"

using keel::Error;
using keel::TrustedKey;

namespace {

Bytes make_endorsement(const OpensslKey& endorser, const uint8_t* vendor_public_key, const std::string& description)
{
    Bytes record(keel::endorsement_format::header_size + description.size());
    keel::make_endorsement_header(vendor_public_key, keel::key_id_of(endorser.public_key()), description.data(),
        description.size(), record.data());
    Bytes signature = endorser.sign(record);
    record.insert(record.end(), signature.begin(), signature.end());
    return record;
}

using Outcome = VerifyOutcome<keel::EndorsementCheck>;

Outcome verify(const Bytes& record, const std::vector<TrustedKey>& keys)
{
    return verify_copy<keel::EndorsementCheck>(record, keys, keel::verify_endorsement);
}

struct Fixture {
    std::mt19937_64 rng { 1701 };
    OpensslKey builtin { random_bytes(rng, 32) };
    OpensslKey vendor { random_bytes(rng, 32) };
    OpensslKey stranger { random_bytes(rng, 32) };
    int builtin_tag = 0;
    std::vector<TrustedKey> trusted { keel::make_trusted_key(builtin.public_key(), &builtin_tag) };
};

} // namespace

TEST_CASE("endorsement: the documented layout", "[crypto][endorsement]")
{
    Fixture f;
    Bytes record = make_endorsement(f.builtin, f.vendor.public_key(), "ACME drivers");
    REQUIRE(record.size() == 80 + 12 + 64);
    CHECK(std::string(record.begin(), record.begin() + 8) == "KeelEndo");
    CHECK((record[8] | record[9] << 8) == 1);
    CHECK((record[10] | record[11] << 8) == 1);
    CHECK((record[12] | record[13] << 8) == 12);
    CHECK((record[14] | record[15] << 8) == 0);
    CHECK(Bytes(record.begin() + 16, record.begin() + 48) == Bytes(f.vendor.public_key(), f.vendor.public_key() + 32));
    auto vendor_id = keel::key_id_of(f.vendor.public_key());
    auto builtin_id = keel::key_id_of(f.builtin.public_key());
    CHECK(Bytes(record.begin() + 48, record.begin() + 64) == Bytes(vendor_id.bytes, vendor_id.bytes + 16));
    CHECK(Bytes(record.begin() + 64, record.begin() + 80) == Bytes(builtin_id.bytes, builtin_id.bytes + 16));
    CHECK(std::string(record.begin() + 80, record.begin() + 92) == "ACME drivers");
    CHECK(openssl_verify(record.data() + 92, f.builtin.public_key(), record.data(), 92));
}

TEST_CASE("endorsement: a valid endorsement verifies", "[crypto][endorsement]")
{
    Fixture f;
    for (std::string description : { std::string(), std::string("ACME Corp. storage drivers, 2025"),
             std::string(keel::endorsement_format::max_description_size, 'x') }) {
        Outcome outcome = verify(make_endorsement(f.builtin, f.vendor.public_key(), description), f.trusted);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.endorser == &f.trusted[0]);
        CHECK(outcome.check.endorser->tag == &f.builtin_tag);
        const auto& endorsement = outcome.check.endorsement;
        CHECK(endorsement.vendor_key_id == keel::key_id_of(f.vendor.public_key()));
        CHECK(std::string(endorsement.description, endorsement.description_size) == description);
    }
}

TEST_CASE("endorsement: every single-byte change and every truncation is refused", "[crypto][endorsement]")
{
    Fixture f;
    Bytes record = make_endorsement(f.builtin, f.vendor.public_key(), "vendor");
    for (size_t at = 0; at < record.size(); ++at) {
        for (uint8_t flip : { 0x01, 0x40, 0xff }) {
            Bytes tampered = record;
            tampered[at] ^= flip;
            Outcome outcome = verify(tampered, f.trusted);
            INFO("byte " << at << " ^ " << int(flip) << ": " << outcome.message);
            REQUIRE_FALSE(outcome.ok);
            REQUIRE((outcome.error == Error::EBADMSG || outcome.error == Error::ENOKEY
                || outcome.error == Error::EKEYREJECTED));
            REQUIRE_FALSE(outcome.message.empty());
        }
    }
    for (size_t size = 0; size < record.size(); ++size) {
        Outcome outcome = verify(Bytes(record.begin(), record.begin() + long(size)), f.trusted);
        REQUIRE(outcome.error == Error::EBADMSG);
    }
    Bytes longer = record;
    longer.push_back(0);
    CHECK(verify(longer, f.trusted).error == Error::EBADMSG);
}

TEST_CASE("endorsement: refusals name the reason", "[crypto][endorsement]")
{
    Fixture f;
    SECTION("endorsed by a key that is not trusted: ENOKEY")
    {
        Outcome outcome = verify(make_endorsement(f.stranger, f.vendor.public_key(), ""), f.trusted);
        CHECK(outcome.error == Error::ENOKEY);
        CHECK(outcome.message.find("not trusted") != std::string::npos);
    }
    SECTION("a forged signature: EKEYREJECTED")
    {
        Bytes record = make_endorsement(f.stranger, f.vendor.public_key(), "");
        auto builtin_id = keel::key_id_of(f.builtin.public_key());
        std::copy(builtin_id.bytes, builtin_id.bytes + 16, record.begin() + 64);
        CHECK(verify(record, f.trusted).error == Error::EKEYREJECTED);
    }
    SECTION("control characters in the description: EBADMSG")
    {
        Outcome outcome = verify(make_endorsement(f.builtin, f.vendor.public_key(), "evil\x1b[2J"), f.trusted);
        CHECK(outcome.error == Error::EBADMSG);
        CHECK(outcome.message.find("0x1b") != std::string::npos);
    }
    SECTION("a small-order vendor key: EBADMSG")
    {
        Bytes identity(32, 0);
        identity[0] = 1;
        Outcome outcome = verify(make_endorsement(f.builtin, identity.data(), ""), f.trusted);
        CHECK(outcome.error == Error::EBADMSG);
        CHECK(outcome.message.find("small order") != std::string::npos);
    }
    SECTION("a vendor key id that is not the vendor key's: EBADMSG")
    {
        Bytes record = make_endorsement(f.builtin, f.vendor.public_key(), "");
        record[48] ^= 1;
        Outcome outcome = verify(record, f.trusted);
        CHECK(outcome.error == Error::EBADMSG);
        CHECK(outcome.message.find("vendor key id") != std::string::npos);
    }
    SECTION("a description longer than allowed: EBADMSG")
    {
        Bytes record = make_endorsement(f.builtin, f.vendor.public_key(), "");
        record[12] = 0x01;
        record[13] = 0x04; // 1025
        record.insert(record.begin() + 80, 1025, 'a');
        CHECK(verify(record, f.trusted).error == Error::EBADMSG);
    }
}
