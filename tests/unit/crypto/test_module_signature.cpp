#include <catch2/catch.hpp>

#include <memory>

#include <set>

#include "crypto_test_support.h"

#include "lib/crypto/module_signature.h"

using keel::Diagnostic;
using keel::Error;
using keel::ImageDigestAlgorithm;
using keel::TrustedKey;
namespace format = keel::module_signature;

namespace {

// A fake module: the verifier does not look inside the image.
Bytes make_image(std::mt19937_64& rng, size_t size)
{
    Bytes image = random_bytes(rng, size);
    const uint8_t elf[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
    std::copy(elf, elf + sizeof(elf), image.begin());
    return image;
}

const EVP_MD* openssl_md(ImageDigestAlgorithm algorithm)
{
    return algorithm == ImageDigestAlgorithm::Sha512 ? EVP_sha512() : EVP_blake2b512();
}

// The image digest as OpenSSL computes it: the verifier's own hashes are
// checked against it.
keel::ImageDigest reference_digest(ImageDigestAlgorithm algorithm, const Bytes& image)
{
    Bytes bytes = openssl_digest(openssl_md(algorithm), image.data(), image.size());
    keel::ImageDigest digest;
    digest.algorithm = algorithm;
    std::copy(bytes.begin(), bytes.end(), digest.bytes);
    return digest;
}

// Appends one record per key, as kmod-sign does (BLAKE2b-512 digests
// unless told otherwise).
Bytes sign_image(const Bytes& image, const std::vector<const OpensslKey*>& signers,
    ImageDigestAlgorithm algorithm = ImageDigestAlgorithm::Blake2b)
{
    keel::ImageDigest digest = reference_digest(algorithm, image);
    Bytes file = image;
    for (const OpensslKey* key : signers) {
        uint8_t header[format::signed_header_size];
        keel::make_signed_header(keel::key_id_of(key->public_key()), image.size(), digest, header);
        Bytes signature = key->sign(header, sizeof(header));
        file.insert(file.end(), header, header + sizeof(header));
        file.insert(file.end(), signature.begin(), signature.end());
    }
    uint8_t footer[format::footer_size];
    keel::make_signature_footer(signers.size(), file.size() - image.size(), footer);
    file.insert(file.end(), footer, footer + sizeof(footer));
    return file;
}

using Outcome = VerifyOutcome<keel::ModuleSignatureCheck>;

Outcome verify(const Bytes& file, const std::vector<TrustedKey>& keys, const keel::KnownImages& known = {})
{
    return verify_copy<keel::ModuleSignatureCheck>(file, keys,
        [&](const uint8_t* bytes, size_t size, const TrustedKey* key_list, size_t key_count, Diagnostic* diagnostic) {
            return keel::verify_module_signature(bytes, size, key_list, key_count, diagnostic, known);
        });
}

keel::Blake2bDigest blake2b_of(const Bytes& image)
{
    Bytes digest = openssl_digest(openssl_md(ImageDigestAlgorithm::Blake2b), image.data(), image.size());
    keel::Blake2bDigest out;
    std::copy(digest.begin(), digest.end(), out.bytes);
    return out;
}

struct Fixture {
    std::mt19937_64 rng { 4242 };
    OpensslKey vendor { random_bytes(rng, 32) };
    OpensslKey distro { random_bytes(rng, 32) };
    OpensslKey stranger { random_bytes(rng, 32) };
    int vendor_tag = 1, distro_tag = 2;
    std::vector<TrustedKey> trusted { keel::make_trusted_key(vendor.public_key(), &vendor_tag),
        keel::make_trusted_key(distro.public_key(), &distro_tag) };
};

uint16_t le16(const Bytes& b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }
uint32_t le32(const Bytes& b, size_t at) { return uint32_t(le16(b, at)) | uint32_t(le16(b, at + 2)) << 16; }
uint64_t le64(const Bytes& b, size_t at) { return uint64_t(le32(b, at)) | uint64_t(le32(b, at + 4)) << 32; }
void put_le16(Bytes& b, size_t at, uint16_t v)
{
    b[at] = uint8_t(v);
    b[at + 1] = uint8_t(v >> 8);
}
void put_le32(Bytes& b, size_t at, uint32_t v)
{
    put_le16(b, at, uint16_t(v));
    put_le16(b, at + 2, uint16_t(v >> 16));
}

} // namespace

TEST_CASE("module signature: the documented layout", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 1000);
    // Algorithm 2 (the default): BLAKE2b-512 image digest; 1: SHA-512.
    auto [algorithm, algorithm_id]
        = GENERATE(std::make_pair(ImageDigestAlgorithm::Blake2b, 2), std::make_pair(ImageDigestAlgorithm::Sha512, 1));
    INFO("algorithm " << algorithm_id);
    Bytes file = sign_image(image, { &f.vendor }, algorithm);
    REQUIRE(file.size() == 1000 + 168 + 32);

    // Footer: u16 version, u16 count, u32 trailer length, magic at the very end.
    size_t footer = file.size() - 32;
    CHECK(le16(file, footer) == 1);
    CHECK(le16(file, footer + 2) == 1);
    CHECK(le32(file, footer + 4) == 200);
    CHECK(std::string(file.end() - 24, file.end()) == "~Keel module signature~\n");

    // Record: magic, length, version, algorithm, key id, image length, digest, signature.
    size_t record = 1000;
    CHECK(std::string(file.begin() + record, file.begin() + record + 8) == "KeelMSig");
    CHECK(le32(file, record + 8) == 168);
    CHECK(le16(file, record + 12) == 1);
    CHECK(le16(file, record + 14) == algorithm_id);
    auto id = keel::key_id_of(f.vendor.public_key());
    CHECK(Bytes(file.begin() + record + 16, file.begin() + record + 32) == Bytes(id.bytes, id.bytes + 16));
    CHECK(le64(file, record + 32) == 1000);
    CHECK(Bytes(file.begin() + record + 40, file.begin() + record + 104)
        == openssl_digest(openssl_md(algorithm), image.data(), image.size()));
    // The signature covers exactly the 104-byte header.
    CHECK(openssl_verify(file.data() + record + 104, f.vendor.public_key(), file.data() + record, 104));

    Diagnostic diagnostic = {};
    auto trailer = keel::parse_signature_trailer(file.data(), file.size(), &diagnostic);
    REQUIRE(trailer.is_ok());
    CHECK(trailer.value().image_length == 1000);
    CHECK(trailer.value().trailer_length == 200);
    CHECK(trailer.value().record_count == 1);
    const auto& parsed = trailer.value().records[0];
    CHECK(parsed.supported);
    CHECK(parsed.algorithm == algorithm_id);
    CHECK(parsed.digest_algorithm == algorithm);
    CHECK(parsed.key_id == id);
    CHECK(parsed.image_length == 1000);
    CHECK(parsed.signature == file.data() + record + 104);
}

TEST_CASE("module signature: a valid signature verifies", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 6000);
    auto algorithm = GENERATE(ImageDigestAlgorithm::Blake2b, ImageDigestAlgorithm::Sha512);
    Bytes file = sign_image(image, { &f.distro }, algorithm);
    Outcome outcome = verify(file, f.trusted);
    REQUIRE(outcome.ok);
    CHECK(outcome.message.empty());
    CHECK(outcome.check.image_length == 6000);
    CHECK(outcome.check.key == &f.trusted[1]);
    CHECK(outcome.check.key->tag == &f.distro_tag);
    CHECK(outcome.check.record_index == 0);
    CHECK(outcome.check.record_count == 1);
    CHECK(outcome.check.image_digest.algorithm == algorithm);
    CHECK(Bytes(outcome.check.image_digest.bytes, outcome.check.image_digest.bytes + 64)
        == openssl_digest(openssl_md(algorithm), image.data(), image.size()));
}

TEST_CASE("module signature: the algorithm id binds the digest algorithm", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 700);
    // A record claiming one algorithm but holding the other's digest, with a
    // valid signature over that header: the digest check refuses it.
    for (auto [claimed, held] : { std::make_pair(ImageDigestAlgorithm::Sha512, ImageDigestAlgorithm::Blake2b),
             std::make_pair(ImageDigestAlgorithm::Blake2b, ImageDigestAlgorithm::Sha512) }) {
        keel::ImageDigest digest = reference_digest(claimed, image);
        keel::ImageDigest other = reference_digest(held, image);
        std::copy(other.bytes, other.bytes + 64, digest.bytes);
        uint8_t header[format::signed_header_size];
        keel::make_signed_header(keel::key_id_of(f.vendor.public_key()), image.size(), digest, header);
        Bytes signature = f.vendor.sign(header, sizeof(header));
        Bytes file = image;
        file.insert(file.end(), header, header + sizeof(header));
        file.insert(file.end(), signature.begin(), signature.end());
        uint8_t footer[format::footer_size];
        keel::make_signature_footer(1, 168, footer);
        file.insert(file.end(), footer, footer + sizeof(footer));
        Outcome outcome = verify(file, f.trusted);
        CHECK(outcome.error == Error::EKEYREJECTED);
        CHECK(outcome.message.find("image digest differs") != std::string::npos);
    }
}

TEST_CASE("module signature: SHA-512 and BLAKE2b records side by side", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 5000);
    // A vendor's SHA-512 record, then a distribution's BLAKE2b one, as
    // --append writes them.
    Bytes old_record = sign_image(image, { &f.vendor }, ImageDigestAlgorithm::Sha512);
    Bytes new_record = sign_image(image, { &f.distro }, ImageDigestAlgorithm::Blake2b);
    Bytes file = image;
    file.insert(file.end(), old_record.begin() + 5000, old_record.end() - 32);
    file.insert(file.end(), new_record.begin() + 5000, new_record.end() - 32);
    uint8_t footer[format::footer_size];
    keel::make_signature_footer(2, 2 * 168, footer);
    file.insert(file.end(), footer, footer + sizeof(footer));

    Outcome by_vendor = verify(file, { f.trusted[0] });
    REQUIRE(by_vendor.ok);
    CHECK(by_vendor.check.record_index == 0);
    CHECK(by_vendor.check.image_digest.algorithm == ImageDigestAlgorithm::Sha512);
    Outcome by_distro = verify(file, { f.trusted[1] });
    REQUIRE(by_distro.ok);
    CHECK(by_distro.check.record_index == 1);
    CHECK(by_distro.check.image_digest.algorithm == ImageDigestAlgorithm::Blake2b);
    CHECK(Bytes(by_distro.check.image_digest.bytes, by_distro.check.image_digest.bytes + 64)
        == openssl_digest(EVP_blake2b512(), image.data(), image.size()));

    // A broken SHA-512 record does not hide the good BLAKE2b one.
    file[5000 + 104] ^= 1;
    Outcome outcome = verify(file, f.trusted);
    REQUIRE(outcome.ok);
    CHECK(outcome.check.record_index == 1);
    CHECK(verify(file, { f.trusted[0] }).error == Error::EKEYREJECTED);
}

TEST_CASE("module signature: image digests by name", "[crypto][modsig]")
{
    Bytes data = { 'a', 'b', 'c' };
    for (auto algorithm : { ImageDigestAlgorithm::Blake2b, ImageDigestAlgorithm::Sha512 }) {
        keel::ImageDigest digest = keel::hash_module_image(algorithm, data.data(), data.size());
        CHECK(digest.algorithm == algorithm);
        CHECK(Bytes(digest.bytes, digest.bytes + 64) == openssl_digest(openssl_md(algorithm), data.data(), 3));
    }
    CHECK(std::string(keel::image_digest_name(ImageDigestAlgorithm::Blake2b)) == "BLAKE2b-512");
    CHECK(std::string(keel::image_digest_name(ImageDigestAlgorithm::Sha512)) == "SHA-512");
    CHECK(keel::image_digest_algorithm(keel::SignatureAlgorithm::Ed25519Blake2b) == ImageDigestAlgorithm::Blake2b);
    CHECK(keel::image_digest_algorithm(keel::SignatureAlgorithm::Ed25519Sha512) == ImageDigestAlgorithm::Sha512);
}

TEST_CASE("module signature: every single-byte change is refused", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 400);
    auto algorithm = GENERATE(ImageDigestAlgorithm::Blake2b, ImageDigestAlgorithm::Sha512);
    Bytes file = sign_image(image, { &f.vendor }, algorithm);
    const std::set<Error> refusals { Error::EKEYREJECTED, Error::EBADMSG, Error::ENOKEY, Error::ENODATA,
        Error::ENOTSUP };
    for (size_t at = 0; at < file.size(); ++at) {
        for (uint8_t flip : { 0x01, 0x80, 0xff }) {
            Bytes tampered = file;
            tampered[at] ^= flip;
            Outcome outcome = verify(tampered, f.trusted);
            INFO("byte " << at << " ^ " << int(flip) << ": " << outcome.message);
            REQUIRE_FALSE(outcome.ok);
            REQUIRE(refusals.count(outcome.error) == 1);
            REQUIRE_FALSE(outcome.message.empty());
            // The image, the signed header and the signature are all bound.
            if (at < 400 || (at >= 400 + 40 && at < 400 + 168))
                REQUIRE(outcome.error == Error::EKEYREJECTED);
        }
    }
}

TEST_CASE("module signature: unsigned and truncated modules", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 500);
    Outcome unsigned_module = verify(image, f.trusted);
    CHECK(unsigned_module.error == Error::ENODATA);
    CHECK(unsigned_module.message.find("not signed") != std::string::npos);
    CHECK(verify(Bytes(), f.trusted).error == Error::ENODATA);

    Bytes file = sign_image(image, { &f.vendor });
    SECTION("cut from the end: the magic is gone, so it reads as unsigned")
    {
        for (size_t cut = 1; cut < file.size(); ++cut) {
            Bytes truncated(file.begin(), file.end() - long(cut));
            Outcome outcome = verify(truncated, f.trusted);
            REQUIRE_FALSE(outcome.ok);
            REQUIRE((outcome.error == Error::ENODATA || outcome.error == Error::EBADMSG));
        }
    }
    SECTION("bytes missing inside the trailer: EBADMSG")
    {
        for (size_t missing = 1; missing <= 168; ++missing) {
            for (size_t at : { size_t(500), size_t(500 + 168 - missing) }) {
                Bytes truncated = file;
                truncated.erase(truncated.begin() + long(at), truncated.begin() + long(at + missing));
                Outcome outcome = verify(truncated, f.trusted);
                INFO("missing " << missing << " at " << at << ": " << outcome.message);
                REQUIRE(outcome.error == Error::EBADMSG);
            }
        }
    }
    SECTION("only a footer")
    {
        Bytes footer(file.end() - 32, file.end());
        CHECK(verify(footer, f.trusted).error == Error::EBADMSG);
    }
}

TEST_CASE("module signature: unknown key, wrong key, pasted signatures", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 3000);

    SECTION("signed by a key nobody trusts: ENOKEY naming the key id")
    {
        Outcome outcome = verify(sign_image(image, { &f.stranger }), f.trusted);
        CHECK(outcome.error == Error::ENOKEY);
        char id[keel::key_id_text_size];
        keel::format_key_id(keel::key_id_of(f.stranger.public_key()), id);
        CHECK(outcome.message.find(id) != std::string::npos);
        CHECK(verify(sign_image(image, { &f.vendor }), {}).error == Error::ENOKEY);
    }
    SECTION("a trusted key id with a different public key: EKEYREJECTED")
    {
        std::vector<TrustedKey> impostor { keel::make_trusted_key(f.stranger.public_key(), nullptr) };
        impostor[0].id = keel::key_id_of(f.vendor.public_key());
        CHECK(verify(sign_image(image, { &f.vendor }), impostor).error == Error::EKEYREJECTED);
    }
    SECTION("a signature pasted from another module of the same size: EKEYREJECTED")
    {
        Bytes other = make_image(f.rng, 3000);
        Bytes signed_other = sign_image(other, { &f.vendor });
        Bytes pasted = image;
        pasted.insert(pasted.end(), signed_other.begin() + 3000, signed_other.end());
        Outcome outcome = verify(pasted, f.trusted);
        CHECK(outcome.error == Error::EKEYREJECTED);
        CHECK(outcome.message.find("image digest") != std::string::npos);
    }
    SECTION("a signature pasted from a module of another size: EBADMSG")
    {
        Bytes other = make_image(f.rng, 2000);
        Bytes signed_other = sign_image(other, { &f.vendor });
        Bytes pasted = image;
        pasted.insert(pasted.end(), signed_other.begin() + 2000, signed_other.end());
        Outcome outcome = verify(pasted, f.trusted);
        CHECK(outcome.error == Error::EBADMSG);
        CHECK(outcome.message.find("image_length 2000") != std::string::npos);
    }
}

TEST_CASE("module signature: several signatures", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 2500);

    SECTION("one unknown, one trusted: accepted by the trusted one")
    {
        Outcome outcome = verify(sign_image(image, { &f.stranger, &f.distro }), f.trusted);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.record_index == 1);
        CHECK(outcome.check.record_count == 2);
        CHECK(outcome.check.key->tag == &f.distro_tag);
        outcome = verify(sign_image(image, { &f.vendor, &f.stranger }), f.trusted);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.record_index == 0);
    }
    SECTION("two unknown: ENOKEY")
    {
        CHECK(verify(sign_image(image, { &f.stranger, &f.stranger }), f.trusted).error == Error::ENOKEY);
    }
    SECTION("a broken trusted signature does not hide a good one")
    {
        Bytes file = sign_image(image, { &f.vendor, &f.distro });
        file[2500 + 104] ^= 1; // the vendor's signature
        Outcome outcome = verify(file, f.trusted);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.record_index == 1);
        // Without the distribution key, the broken one is the verdict.
        outcome = verify(file, { f.trusted[0] });
        CHECK(outcome.error == Error::EKEYREJECTED);
    }
    SECTION("the maximum number of records")
    {
        std::vector<const OpensslKey*> signers(format::max_records, &f.stranger);
        signers.back() = &f.vendor;
        Outcome outcome = verify(sign_image(image, signers), f.trusted);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.record_index == format::max_records - 1);
        signers.push_back(&f.vendor);
        outcome = verify(sign_image(image, signers), f.trusted);
        CHECK(outcome.error == Error::EBADMSG);
        CHECK(outcome.message.find("record count 9") != std::string::npos);
    }
}

TEST_CASE("module signature: unknown versions and algorithms", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 800);
    Bytes file = sign_image(image, { &f.vendor });

    SECTION("unknown footer version: EBADMSG")
    {
        put_le16(file, file.size() - 32, 2);
        Outcome outcome = verify(file, f.trusted);
        CHECK(outcome.error == Error::EBADMSG);
        CHECK(outcome.message.find("version 2") != std::string::npos);
    }
    SECTION("a record with an algorithm this kernel does not know: ENOTSUP")
    {
        put_le16(file, 800 + 14, 7);
        Outcome outcome = verify(file, f.trusted);
        CHECK(outcome.error == Error::ENOTSUP);
        CHECK(outcome.message.find("algorithm 7") != std::string::npos);
    }
    SECTION("an unknown record next to a good one is skipped")
    {
        // A made-up version-9 record of 40 bytes, before the real one.
        Bytes future(40, 0xaa);
        std::copy(format::record_magic, format::record_magic + 8, future.begin());
        put_le32(future, 8, 40);
        put_le16(future, 12, 9);
        put_le16(future, 14, 1);
        Bytes combined = image;
        combined.insert(combined.end(), future.begin(), future.end());
        combined.insert(combined.end(), file.begin() + 800, file.end() - 32);
        uint8_t footer[format::footer_size];
        keel::make_signature_footer(2, 40 + 168, footer);
        combined.insert(combined.end(), footer, footer + sizeof(footer));
        Outcome outcome = verify(combined, f.trusted);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.record_index == 1);

        Diagnostic diagnostic = {};
        auto trailer = keel::parse_signature_trailer(combined.data(), combined.size(), &diagnostic);
        REQUIRE(trailer.is_ok());
        CHECK_FALSE(trailer.value().records[0].supported);
        CHECK(trailer.value().records[0].version == 9);
        CHECK(trailer.value().records[0].size == 40);
    }
    SECTION("record_length that disagrees with the footer: EBADMSG")
    {
        put_le32(file, 800 + 8, 167);
        CHECK(verify(file, f.trusted).error == Error::EBADMSG);
        put_le32(file, 800 + 8, 0xffffffff);
        CHECK(verify(file, f.trusted).error == Error::EBADMSG);
    }
    SECTION("trailer_length pointing outside the file: EBADMSG")
    {
        for (uint32_t length : { 0u, 31u, 47u, 199u, 201u, uint32_t(file.size()), 0xffffffffu }) {
            Bytes bad = file;
            put_le32(bad, bad.size() - 28, length);
            Outcome outcome = verify(bad, f.trusted);
            INFO("trailer_length " << length << ": " << outcome.message);
            CHECK(outcome.error == Error::EBADMSG);
        }
    }
    SECTION("the diagnostic is optional")
    {
        auto result = keel::verify_module_signature(file.data(), file.size() - 1, f.trusted.data(), 2, nullptr);
        CHECK(result.error() == Error::ENODATA);
    }
}

TEST_CASE("module signature: images the kernel knows by digest", "[crypto][modsig]")
{
    Fixture f;
    Bytes image = make_image(f.rng, 5000);
    Bytes other = make_image(f.rng, 5000);
    keel::Blake2bDigest known_digests[] = { blake2b_of(other), blake2b_of(image) };
    uint64_t known_lengths[] = { 5000, 5000 };
    keel::KnownImages known { known_digests, known_lengths, 2 };

    SECTION("a known image is trusted whatever key signed it, or none the kernel trusts")
    {
        auto algorithm = GENERATE(ImageDigestAlgorithm::Blake2b, ImageDigestAlgorithm::Sha512);
        auto* signer = GENERATE_REF(&f.vendor, &f.stranger);
        Outcome outcome = verify(sign_image(image, { signer }, algorithm), {}, known);
        REQUIRE(outcome.ok);
        CHECK(outcome.check.known_image);
        CHECK(outcome.check.key == nullptr);
        CHECK(outcome.check.image_length == 5000);
        // The digest it matched, which the blocklist is then checked against.
        CHECK(outcome.check.image_digest.algorithm == ImageDigestAlgorithm::Blake2b);
        CHECK(std::equal(known_digests[1].bytes, known_digests[1].bytes + 64, outcome.check.image_digest.bytes));
    }
    SECTION("one changed byte of the image makes it a stranger: the signature decides")
    {
        Bytes changed = image;
        changed[1234] ^= 0x01;
        Outcome by_stranger = verify(sign_image(changed, { &f.stranger }), f.trusted, known);
        CHECK(by_stranger.error == Error::ENOKEY);
        Outcome by_vendor = verify(sign_image(changed, { &f.vendor }), f.trusted, known);
        REQUIRE(by_vendor.ok);
        CHECK_FALSE(by_vendor.check.known_image);
        CHECK(by_vendor.check.key == &f.trusted[0]);
    }
    SECTION("the trailer must still be whole: a damaged one is refused before any digest")
    {
        Bytes file = sign_image(image, { &f.stranger });
        file[file.size() - 30] ^= 0xff; // the footer's record count
        CHECK(verify(file, {}, known).error == Error::EBADMSG);
    }
    SECTION("an unsigned copy of a known image is still unsigned")
    {
        CHECK(verify(image, f.trusted, known).error == Error::ENODATA);
    }
    SECTION("an entry of another length is not this image, whatever its digest")
    {
        uint64_t wrong_lengths[] = { 5000, 4999 };
        keel::KnownImages wrong { known_digests, wrong_lengths, 2 };
        CHECK(verify(sign_image(image, { &f.stranger }), f.trusted, wrong).error == Error::ENOKEY);
        CHECK(keel::find_known_image(known, 5000, known_digests[1].bytes) == 1);
        CHECK(keel::find_known_image(wrong, 5000, known_digests[1].bytes) == -1);
        CHECK(keel::find_known_image(known, 5000, blake2b_of(make_image(f.rng, 5000)).bytes) == -1);
    }
    SECTION("with no known images, a signed module is checked by its signature only")
    {
        Outcome outcome = verify(sign_image(image, { &f.stranger }), f.trusted, {});
        CHECK(outcome.error == Error::ENOKEY);
    }
}
