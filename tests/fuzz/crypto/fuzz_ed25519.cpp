// Fuzzes Ed25519 verification: the signature and public key come straight
// from module files. Input: 64-byte signature, 32-byte key, message. The
// prepared-key, full-length and byte-key paths must give one verdict.
#include <stdint.h>
#include <stdlib.h>

#include <vector>

#include "lib/crypto/ed25519.h"

using namespace keel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 96)
        return 0;
    std::vector<uint8_t> input(data, data + size);
    Ed25519Status status = ed25519_verify_detailed(input.data(), input.data() + 64, input.data() + 96, size - 96);
    if (status == Ed25519Status::Valid) {
        // Random bytes never form a valid signature; a fuzzer that finds
        // one has found a forgery (or a bug).
        abort();
    }
    Ed25519Status key_status = ed25519_check_public_key(input.data() + 64);
    if (key_status != Ed25519Status::Valid && key_status != Ed25519Status::NonCanonicalKey
        && key_status != Ed25519Status::KeyNotOnCurve && key_status != Ed25519Status::SmallOrderKey)
        abort();
    Ed25519PublicKey key;
    if (ed25519_prepare_key(input.data() + 64, key) != key_status)
        abort();
    if (ed25519_verify_prepared(input.data(), key, input.data() + 96, size - 96) != status
        || ed25519_verify_full_length(input.data(), key, input.data() + 96, size - 96) != status)
        abort();
    return 0;
}
