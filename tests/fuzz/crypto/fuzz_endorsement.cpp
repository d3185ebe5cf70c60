// Fuzzes the endorsement parser: `keyctl add FILE` hands it any bytes.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/crypto/endorsement.h"

using namespace keel;

namespace {

// RFC 8032 TEST 2's public key: a valid vendor key for shaped inputs.
const uint8_t vendor_key[32] = { 0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b,
    0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c };

// Odd first byte: the input as is. Even: a well-formed header (with a
// valid vendor key) over the input's description and signature bytes, so
// the fuzzer spends its time past the cheap checks.
std::vector<uint8_t> shape_input(const uint8_t* data, size_t size)
{
    if (size == 0)
        return {};
    std::vector<uint8_t> rest(data + 1, data + size);
    if (data[0] & 1)
        return rest;
    size_t description_size = rest.size() > 64 ? rest.size() - 64 : 0;
    if (description_size > endorsement_format::max_description_size)
        description_size = endorsement_format::max_description_size;
    KeyId endorser = {};
    std::vector<uint8_t> record(endorsement_format::header_size + description_size);
    make_endorsement_header(
        vendor_key, endorser, reinterpret_cast<const char*>(rest.data()), description_size, record.data());
    record.insert(record.end(), rest.begin() + long(description_size), rest.end());
    return record;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::vector<uint8_t> record = shape_input(data, size);
    size = record.size();
    const uint8_t* bytes = record.data();

    Diagnostic diagnostic = {};
    auto parsed = parse_endorsement(bytes, size, &diagnostic);
    if (parsed.is_error()) {
        if (diagnostic.message[0] == '\0')
            abort();
    } else {
        const Endorsement& endorsement = parsed.value();
        if (endorsement.signed_size + ed25519_signature_size != size
            || endorsement.signature != bytes + endorsement.signed_size
            || endorsement.description_size > endorsement_format::max_description_size)
            abort();
        for (size_t i = 0; i < endorsement.description_size; ++i) {
            if (endorsement.description[i] < 0x20 || endorsement.description[i] > 0x7e)
                abort();
        }
        if (ed25519_check_public_key(endorsement.vendor_public_key) != Ed25519Status::Valid)
            abort();
    }

    // A trusted key named by the record itself, so verification runs the
    // signature check on fuzzed inputs too.
    TrustedKey key = {};
    if (size >= 80)
        memcpy(key.id.bytes, bytes + 64, KeyId::size);
    if (size >= 48)
        memcpy(key.public_key, bytes + 16, sizeof(key.public_key));
    auto check = verify_endorsement(bytes, size, &key, 1, &diagnostic);
    if (check.is_ok() && parsed.is_error())
        abort();
    return 0;
}
