// Fuzzes the module signature trailer: a module file is untrusted until its
// signature verifies, so the parser sees whatever an attacker wrote.
// Besides the sanitizers, checks that every view the parser returns lies
// inside the file and that every refusal explains itself.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/crypto/bytes.h"
#include "lib/crypto/module_signature.h"

using namespace keel;

namespace {

void require_inside(const uint8_t* base, size_t size, const uint8_t* view, size_t view_size)
{
    if (view < base || view_size > size || view > base + size - view_size)
        abort();
}

// RFC 8032 TEST 1's public key: a valid key the structured inputs name.
const uint8_t test_public_key[32] = { 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9,
    0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a };

// Random bytes almost never end with the 24-byte magic, so most inputs
// are shaped first: the first byte picks raw bytes, bytes plus the magic,
// or a structurally plausible trailer whose fields come from the input.
std::vector<uint8_t> shape_input(const uint8_t* data, size_t size)
{
    if (size == 0)
        return {};
    uint8_t mode = data[0] % 3;
    std::vector<uint8_t> rest(data + 1, data + size);
    if (mode == 0)
        return rest;
    if (mode == 1) {
        rest.insert(rest.end(), module_signature::footer_magic,
            module_signature::footer_magic + module_signature::footer_magic_size);
        return rest;
    }
    size_t cursor = 0;
    auto next = [&]() -> uint8_t { return cursor < rest.size() ? rest[cursor++] : 0; };
    uint8_t flags = next();
    size_t image_length = next();
    size_t count = next() % (module_signature::max_records + 2);
    std::vector<uint8_t> file;
    for (size_t i = 0; i < image_length; ++i)
        file.push_back(next());
    KeyId id = key_id_of(test_public_key);
    // Both algorithm ids: 1 (SHA-512 image digest) and 2 (BLAKE2b-512).
    ImageDigestAlgorithm digest_algorithm = flags & 32 ? ImageDigestAlgorithm::Blake2b : ImageDigestAlgorithm::Sha512;
    for (size_t r = 0; r < count; ++r) {
        std::vector<uint8_t> record(module_signature::ed25519_record_size);
        for (auto& byte : record)
            byte = next();
        memcpy(record.data(), module_signature::record_magic, sizeof(module_signature::record_magic));
        if (flags & 1) {
            store_le32(record.data() + 8, module_signature::ed25519_record_size);
            store_le16(record.data() + 12, module_signature::record_version);
            store_le16(record.data() + 14, flags & 32 ? 2 : 1);
        }
        if (flags & 2)
            memcpy(record.data() + 16, id.bytes, KeyId::size);
        if (flags & 4)
            store_le64(record.data() + 32, image_length);
        if (flags & 8) {
            ImageDigest digest = hash_module_image(digest_algorithm, file.data(), image_length);
            memcpy(record.data() + 40, digest.bytes, ImageDigest::size);
        }
        file.insert(file.end(), record.begin(), record.end());
    }
    uint8_t footer[module_signature::footer_size];
    make_signature_footer(count, count * module_signature::ed25519_record_size, footer);
    if (flags & 16)
        footer[next() % 8] ^= next();
    file.insert(file.end(), footer, footer + sizeof(footer));
    return file;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // An exact-size heap copy: ASan then catches a read one byte too far.
    std::vector<uint8_t> file = shape_input(data, size);
    size = file.size();
    const uint8_t* bytes = file.data();

    Diagnostic diagnostic = {};
    auto trailer = parse_signature_trailer(bytes, size, &diagnostic);
    if (trailer.is_error()) {
        if (diagnostic.message[0] == '\0'
            || strnlen(diagnostic.message, sizeof(diagnostic.message)) == sizeof(diagnostic.message))
            abort();
    } else {
        const SignatureTrailer& parsed = trailer.value();
        if (parsed.image_length + parsed.trailer_length != size || parsed.record_count == 0
            || parsed.record_count > module_signature::max_records)
            abort();
        for (size_t i = 0; i < parsed.record_count; ++i) {
            const SignatureRecord& record = parsed.records[i];
            require_inside(bytes, size, record.bytes, record.size);
            if (record.supported) {
                require_inside(bytes, size, record.signed_header, module_signature::signed_header_size);
                require_inside(bytes, size, record.image_digest, ImageDigest::size);
                if (record.digest_algorithm != image_digest_algorithm(SignatureAlgorithm(record.algorithm)))
                    abort();
                require_inside(bytes, size, record.signature, ed25519_signature_size);
                if (record.image_length != parsed.image_length)
                    abort();
            }
        }
    }

    // Verification with the key the shaped inputs name, and one whose id
    // comes from the input.
    TrustedKey keys[2] = {};
    keys[0] = make_trusted_key(
        size >= 32 ? bytes : reinterpret_cast<const uint8_t*>("0123456789abcdef0123456789abcdef"), nullptr);
    if (size >= 48)
        memcpy(keys[1].id.bytes, bytes + 32, KeyId::size);
    memcpy(keys[1].public_key, keys[0].public_key, sizeof(keys[1].public_key));
    auto check = verify_module_signature(bytes, size, keys, 2, &diagnostic);
    if (check.is_ok() != trailer.is_ok() && check.is_ok())
        abort(); // verification cannot accept what parsing refuses
    if (check.is_ok() && check.value().key != &keys[0] && check.value().key != &keys[1])
        abort();
    // An accepted module's digest is the one its verifying record names.
    if (check.is_ok()) {
        const SignatureRecord& record = trailer.value().records[check.value().record_index];
        const ImageDigest& digest = check.value().image_digest;
        if (digest.algorithm != record.digest_algorithm
            || memcmp(digest.bytes, record.image_digest, ImageDigest::size) != 0
            || memcmp(digest.bytes, hash_module_image(digest.algorithm, bytes, trailer.value().image_length).bytes,
                   ImageDigest::size)
                != 0)
            abort();
    }

    // With known images, one of them this input's image (so the trailer
    // alone decides): accepted exactly when the trailer parses, with that
    // BLAKE2b digest and no key.
    if (trailer.is_ok()) {
        Blake2bDigest known[2] = {};
        known[1] = Blake2b::hash(bytes, trailer.value().image_length);
        uint64_t lengths[2] = { trailer.value().image_length, trailer.value().image_length };
        auto by_digest = verify_module_signature(bytes, size, keys, 2, &diagnostic, { known, lengths, 2 });
        if (by_digest.is_error() || !by_digest.value().known_image || by_digest.value().key
            || memcmp(by_digest.value().image_digest.bytes, known[1].bytes, ImageDigest::size) != 0)
            abort();
    } else {
        // Nothing without a whole trailer, even when the file's digest is known.
        Blake2bDigest known = Blake2b::hash(bytes, size);
        uint64_t length = size;
        if (verify_module_signature(bytes, size, keys, 2, &diagnostic, { &known, &length, 1 }).is_ok())
            abort();
    }
    return 0;
}
