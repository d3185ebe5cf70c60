#include "lib/crypto/module_signature.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"

namespace keel {

using namespace module_signature;

namespace {

// Offsets inside a record (the first signed_header_size bytes are signed).
constexpr size_t record_magic_offset = 0;
constexpr size_t record_length_offset = 8;
constexpr size_t record_version_offset = 12;
constexpr size_t record_algorithm_offset = 14;
constexpr size_t record_key_id_offset = 16;
constexpr size_t record_image_length_offset = 32;
constexpr size_t record_digest_offset = 40;

static_assert(record_digest_offset + ImageDigest::size == signed_header_size);

// The digest algorithm of a signature algorithm this code knows.
bool known_digest_algorithm(uint16_t algorithm, ImageDigestAlgorithm& digest)
{
    switch (static_cast<SignatureAlgorithm>(algorithm)) {
    case SignatureAlgorithm::Ed25519Sha512: digest = ImageDigestAlgorithm::Sha512; return true;
    case SignatureAlgorithm::Ed25519Blake2b: digest = ImageDigestAlgorithm::Blake2b; return true;
    }
    return false;
}

SignatureAlgorithm signature_algorithm_for(ImageDigestAlgorithm digest)
{
    return digest == ImageDigestAlgorithm::Sha512 ? SignatureAlgorithm::Ed25519Sha512
                                                  : SignatureAlgorithm::Ed25519Blake2b;
}

// The image's digests, each computed the first time a record needs it: a
// module signed with one algorithm is hashed once.
class ImageDigests {
public:
    ImageDigests(const uint8_t* image, size_t length)
        : m_image(image)
        , m_length(length)
    {
    }

    const ImageDigest& get(ImageDigestAlgorithm algorithm)
    {
        size_t index = static_cast<size_t>(algorithm);
        if (!m_computed[index]) {
            m_digests[index] = hash_module_image(algorithm, m_image, m_length);
            m_computed[index] = true;
        }
        return m_digests[index];
    }

private:
    const uint8_t* m_image;
    size_t m_length;
    ImageDigest m_digests[2];
    bool m_computed[2] = {};
};

Result<void> parse_record(const uint8_t* bytes, size_t available, size_t index, size_t image_length,
    SignatureRecord& record, Diagnostic* diagnostic)
{
    if (available < record_prefix_size) {
        diagnose(diagnostic, "signature record %zu: only %zu bytes left before the footer, a record needs at least %zu",
            index, available, record_prefix_size);
        return Err(Error::EBADMSG);
    }
    if (memcmp(bytes + record_magic_offset, record_magic, sizeof(record_magic)) != 0) {
        diagnose(diagnostic, "signature record %zu: magic is not \"KeelMSig\"", index);
        return Err(Error::EBADMSG);
    }
    uint32_t length = load_le32(bytes + record_length_offset);
    if (length < record_prefix_size || length > available) {
        diagnose(diagnostic, "signature record %zu: record_length %u outside [%zu, %zu]", index, length,
            record_prefix_size, available);
        return Err(Error::EBADMSG);
    }

    record = {};
    record.bytes = bytes;
    record.size = length;
    record.version = load_le16(bytes + record_version_offset);
    record.algorithm = load_le16(bytes + record_algorithm_offset);
    // A record of a later format version is skipped, not refused: a module
    // may carry a newer signature next to one this kernel understands.
    if (record.version != record_version)
        return {};

    if (length < signed_header_size) {
        diagnose(diagnostic, "signature record %zu: record_length %u is shorter than the %zu-byte signed header", index,
            length, signed_header_size);
        return Err(Error::EBADMSG);
    }
    memcpy(record.key_id.bytes, bytes + record_key_id_offset, KeyId::size);
    record.image_length = load_le64(bytes + record_image_length_offset);
    record.image_digest = bytes + record_digest_offset;
    record.signed_header = bytes;
    // Every record covers exactly the bytes before the whole trailer, so
    // records can be added or stripped independently.
    if (record.image_length != image_length) {
        diagnose(diagnostic, "signature record %zu: image_length %llu but %zu bytes precede the trailer", index,
            static_cast<unsigned long long>(record.image_length), image_length);
        return Err(Error::EBADMSG);
    }
    if (!known_digest_algorithm(record.algorithm, record.digest_algorithm))
        return {};
    if (length != ed25519_record_size) {
        diagnose(diagnostic, "signature record %zu: record_length %u, an Ed25519 record is %zu bytes", index, length,
            ed25519_record_size);
        return Err(Error::EBADMSG);
    }
    record.signature = bytes + signed_header_size;
    record.supported = true;
    return {};
}

} // namespace

ImageDigest hash_module_image(ImageDigestAlgorithm algorithm, const uint8_t* image, size_t length)
{
    ImageDigest digest;
    digest.algorithm = algorithm;
    if (algorithm == ImageDigestAlgorithm::Sha512)
        memcpy(digest.bytes, Sha512::hash(image, length).bytes, ImageDigest::size);
    else
        memcpy(digest.bytes, Blake2b::hash(image, length).bytes, ImageDigest::size);
    return digest;
}

const char* image_digest_name(ImageDigestAlgorithm algorithm)
{
    return algorithm == ImageDigestAlgorithm::Sha512 ? "SHA-512" : "BLAKE2b-512";
}

ImageDigestAlgorithm image_digest_algorithm(SignatureAlgorithm algorithm)
{
    return algorithm == SignatureAlgorithm::Ed25519Sha512 ? ImageDigestAlgorithm::Sha512
                                                          : ImageDigestAlgorithm::Blake2b;
}

Result<SignatureTrailer> parse_signature_trailer(const uint8_t* file, size_t size, Diagnostic* diagnostic)
{
    if (size < footer_size || memcmp(file + size - footer_magic_size, footer_magic, footer_magic_size) != 0) {
        diagnose(diagnostic, "not signed: the file does not end with the signature magic");
        return Err(Error::ENODATA);
    }
    const uint8_t* footer = file + size - footer_size;
    uint16_t version = load_le16(footer);
    uint16_t count = load_le16(footer + 2);
    uint32_t trailer_length = load_le32(footer + 4);
    if (version != footer_version) {
        diagnose(diagnostic, "signature footer: version %u is not supported (this kernel reads version %u)", version,
            footer_version);
        return Err(Error::EBADMSG);
    }
    if (count == 0 || count > max_records) {
        diagnose(diagnostic, "signature footer: record count %u outside [1, %zu]", count, max_records);
        return Err(Error::EBADMSG);
    }
    size_t minimum = footer_size + count * record_prefix_size;
    if (trailer_length < minimum || trailer_length >= size) {
        diagnose(diagnostic, "signature footer: trailer_length %u outside [%zu, %zu) for %u records in a %zu-byte file",
            trailer_length, minimum, size, count, size);
        return Err(Error::EBADMSG);
    }

    SignatureTrailer trailer = {};
    trailer.image_length = size - trailer_length;
    trailer.trailer_length = trailer_length;
    trailer.record_count = count;
    size_t offset = trailer.image_length;
    size_t records_end = size - footer_size;
    for (size_t i = 0; i < count; ++i) {
        TRY(parse_record(file + offset, records_end - offset, i, trailer.image_length, trailer.records[i], diagnostic));
        offset += trailer.records[i].size;
    }
    if (offset != records_end) {
        diagnose(diagnostic, "signature footer: %u records take %zu bytes, trailer_length %u leaves %zu", count,
            offset - trailer.image_length, trailer_length, records_end - trailer.image_length);
        return Err(Error::EBADMSG);
    }
    return trailer;
}

bool known_image_length(const KnownImages& known, size_t image_length)
{
    for (size_t i = 0; i < known.count; ++i) {
        if (known.lengths[i] == image_length)
            return true;
    }
    return false;
}

long find_known_image(const KnownImages& known, size_t image_length, const uint8_t* digest)
{
    for (size_t i = 0; i < known.count; ++i) {
        if (known.lengths[i] == image_length && memcmp(known.digests[i].bytes, digest, Blake2bDigest::size) == 0)
            return long(i);
    }
    return -1;
}

Result<ModuleSignatureCheck> verify_module_signature(const uint8_t* file, size_t size, const TrustedKey* keys,
    size_t key_count, Diagnostic* diagnostic, const KnownImages& known)
{
    if (diagnostic)
        diagnostic->message[0] = '\0';
    SignatureTrailer trailer = TRY(parse_signature_trailer(file, size, diagnostic));

    ModuleSignatureCheck check = {};
    check.image_length = trailer.image_length;
    check.record_count = trailer.record_count;
    ImageDigests digests(file, trailer.image_length);
    // A known image first, hashed only when one has this image's length:
    // every other module is checked exactly as without known images.
    if (known_image_length(known, trailer.image_length)) {
        const ImageDigest& digest = digests.get(ImageDigestAlgorithm::Blake2b);
        if (find_known_image(known, trailer.image_length, digest.bytes) >= 0) {
            check.image_digest = digest;
            check.known_image = true;
            return check;
        }
    }

    bool any_supported = false;
    bool rejected = false;
    for (size_t i = 0; i < trailer.record_count; ++i) {
        const SignatureRecord& record = trailer.records[i];
        if (!record.supported)
            continue;
        any_supported = true;
        const TrustedKey* key = find_trusted_key(keys, key_count, record.key_id);
        if (!key)
            continue;
        char id_text[key_id_text_size];
        format_key_id(record.key_id, id_text);
        // The signature first: until it verifies, the header's digest is
        // just bytes anyone could have written.
        Ed25519Status status
            = verify_with_trusted_key(*key, record.signature, record.signed_header, signed_header_size);
        if (status != Ed25519Status::Valid) {
            if (!rejected)
                diagnose(diagnostic, "signature record %zu by key %s: %s", i, id_text, ed25519_status_text(status));
            rejected = true;
            continue;
        }
        const ImageDigest& digest = digests.get(record.digest_algorithm);
        if (memcmp(record.image_digest, digest.bytes, ImageDigest::size) != 0) {
            if (!rejected)
                diagnose(diagnostic,
                    "signature record %zu by key %s: image digest differs (module modified, or the signature belongs "
                    "to another module)",
                    i, id_text);
            rejected = true;
            continue;
        }
        check.image_digest = digest;
        check.key = key;
        check.record_index = i;
        if (diagnostic)
            diagnostic->message[0] = '\0';
        return check;
    }

    if (rejected)
        return Err(Error::EKEYREJECTED);
    if (!any_supported) {
        diagnose(diagnostic,
            "none of the %zu signature records uses a supported format (record 0: version %u, "
            "algorithm %u)",
            trailer.record_count, trailer.records[0].version, trailer.records[0].algorithm);
        return Err(Error::ENOTSUP);
    }
    // Name the first unknown signer: what an administrator needs to enrol.
    for (size_t i = 0; i < trailer.record_count; ++i) {
        if (!trailer.records[i].supported)
            continue;
        char id_text[key_id_text_size];
        format_key_id(trailer.records[i].key_id, id_text);
        if (trailer.record_count == 1)
            diagnose(diagnostic, "signed by key %s, which is not trusted", id_text);
        else
            diagnose(diagnostic, "none of the %zu signers is trusted (record %zu: key %s)", trailer.record_count, i,
                id_text);
        break;
    }
    return Err(Error::ENOKEY);
}

void make_signed_header(const KeyId& key_id, uint64_t image_length, const ImageDigest& image_digest, uint8_t* out)
{
    memcpy(out + record_magic_offset, record_magic, sizeof(record_magic));
    store_le32(out + record_length_offset, ed25519_record_size);
    store_le16(out + record_version_offset, record_version);
    store_le16(out + record_algorithm_offset, static_cast<uint16_t>(signature_algorithm_for(image_digest.algorithm)));
    memcpy(out + record_key_id_offset, key_id.bytes, KeyId::size);
    store_le64(out + record_image_length_offset, image_length);
    memcpy(out + record_digest_offset, image_digest.bytes, ImageDigest::size);
}

void make_signature_footer(size_t record_count, size_t records_size, uint8_t* out)
{
    store_le16(out, footer_version);
    store_le16(out + 2, static_cast<uint16_t>(record_count));
    store_le32(out + 4, static_cast<uint32_t>(records_size + footer_size));
    memcpy(out + 8, footer_magic, footer_magic_size);
}

} // namespace keel
