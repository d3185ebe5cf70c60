#include "lib/crypto/endorsement.h"

#include "lib/base/string.h"
#include "lib/crypto/bytes.h"

namespace keel {

using namespace endorsement_format;

namespace {

constexpr size_t version_offset = 8;
constexpr size_t algorithm_offset = 10;
constexpr size_t description_length_offset = 12;
constexpr size_t reserved_offset = 14;
constexpr size_t vendor_key_offset = 16;
constexpr size_t vendor_key_id_offset = 48;
constexpr size_t endorser_key_id_offset = 64;

static_assert(endorser_key_id_offset + KeyId::size == header_size);

} // namespace

Result<Endorsement> parse_endorsement(const uint8_t* data, size_t size, Diagnostic* diagnostic)
{
    if (size < min_size) {
        diagnose(diagnostic, "endorsement: %zu bytes, at least %zu needed", size, min_size);
        return Err(Error::EBADMSG);
    }
    if (memcmp(data, magic, sizeof(magic)) != 0) {
        diagnose(diagnostic, "endorsement: magic is not \"KeelEndo\"");
        return Err(Error::EBADMSG);
    }
    uint16_t record_version = load_le16(data + version_offset);
    if (record_version != version) {
        diagnose(diagnostic, "endorsement: version %u is not supported (expected %u)", record_version, version);
        return Err(Error::EBADMSG);
    }
    uint16_t algorithm = load_le16(data + algorithm_offset);
    if (algorithm != 1) {
        diagnose(diagnostic, "endorsement: algorithm %u is not supported (1 is Ed25519)", algorithm);
        return Err(Error::EBADMSG);
    }
    uint16_t reserved = load_le16(data + reserved_offset);
    if (reserved != 0) {
        diagnose(diagnostic, "endorsement: reserved field is %u, must be 0", reserved);
        return Err(Error::EBADMSG);
    }
    size_t description_size = load_le16(data + description_length_offset);
    if (description_size > max_description_size) {
        diagnose(diagnostic, "endorsement: description_length %zu exceeds %zu", description_size, max_description_size);
        return Err(Error::EBADMSG);
    }
    if (size != min_size + description_size) {
        diagnose(diagnostic, "endorsement: %zu bytes, description_length %zu makes it %zu", size, description_size,
            min_size + description_size);
        return Err(Error::EBADMSG);
    }

    Endorsement endorsement;
    endorsement.vendor_public_key = data + vendor_key_offset;
    memcpy(endorsement.vendor_key_id.bytes, data + vendor_key_id_offset, KeyId::size);
    memcpy(endorsement.endorser_key_id.bytes, data + endorser_key_id_offset, KeyId::size);
    endorsement.description = reinterpret_cast<const char*>(data + header_size);
    endorsement.description_size = description_size;
    endorsement.signed_bytes = data;
    endorsement.signed_size = header_size + description_size;
    endorsement.signature = data + header_size + description_size;

    // The description ends up on the console and in `keyctl list`: no
    // control characters that could forge output.
    for (size_t i = 0; i < description_size; ++i) {
        auto c = static_cast<uint8_t>(endorsement.description[i]);
        if (c < 0x20 || c > 0x7e) {
            diagnose(diagnostic, "endorsement: description byte %zu is 0x%02x, only printable ASCII is allowed", i, c);
            return Err(Error::EBADMSG);
        }
    }
    Ed25519Status key_status = ed25519_check_public_key(endorsement.vendor_public_key);
    if (key_status != Ed25519Status::Valid) {
        diagnose(diagnostic, "endorsement: vendor %s", ed25519_status_text(key_status));
        return Err(Error::EBADMSG);
    }
    if (!(key_id_of(endorsement.vendor_public_key) == endorsement.vendor_key_id)) {
        char id_text[key_id_text_size];
        format_key_id(endorsement.vendor_key_id, id_text);
        diagnose(diagnostic, "endorsement: vendor key id %s is not the id of the vendor public key", id_text);
        return Err(Error::EBADMSG);
    }
    return endorsement;
}

Result<EndorsementCheck> verify_endorsement(
    const uint8_t* data, size_t size, const TrustedKey* keys, size_t key_count, Diagnostic* diagnostic)
{
    EndorsementCheck check;
    check.endorsement = TRY(parse_endorsement(data, size, diagnostic));
    const Endorsement& endorsement = check.endorsement;
    char id_text[key_id_text_size];
    format_key_id(endorsement.endorser_key_id, id_text);
    check.endorser = find_trusted_key(keys, key_count, endorsement.endorser_key_id);
    if (!check.endorser) {
        diagnose(diagnostic, "endorsement: endorsing key %s is not trusted to endorse", id_text);
        return Err(Error::ENOKEY);
    }
    Ed25519Status status = verify_with_trusted_key(
        *check.endorser, endorsement.signature, endorsement.signed_bytes, endorsement.signed_size);
    if (status != Ed25519Status::Valid) {
        diagnose(diagnostic, "endorsement by key %s: %s", id_text, ed25519_status_text(status));
        return Err(Error::EKEYREJECTED);
    }
    return check;
}

void make_endorsement_header(const uint8_t* vendor_public_key, const KeyId& endorser_key_id, const char* description,
    size_t description_size, uint8_t* out)
{
    memcpy(out, magic, sizeof(magic));
    store_le16(out + version_offset, version);
    store_le16(out + algorithm_offset, 1);
    store_le16(out + description_length_offset, static_cast<uint16_t>(description_size));
    store_le16(out + reserved_offset, 0);
    memcpy(out + vendor_key_offset, vendor_public_key, ed25519_public_key_size);
    KeyId vendor_id = key_id_of(vendor_public_key);
    memcpy(out + vendor_key_id_offset, vendor_id.bytes, KeyId::size);
    memcpy(out + endorser_key_id_offset, endorser_key_id.bytes, KeyId::size);
    if (description_size > 0)
        memcpy(out + header_size, description, description_size);
}

} // namespace keel
