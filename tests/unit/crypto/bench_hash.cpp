// Host micro-benchmark for the module-signing crypto, run by scripts/bench
// (not a test). Prints, one figure per line:
//   blake2b, sha512 and sha256 MB/s over 1 MiB (ours; median of N runs)
//   and the BLAKE2b/SHA-512 speed ratio, the evidence for hashing module
//   images with BLAKE2b-512 (the guest figures are in
//   docs/module-signing.md);
//   Ed25519 verifications per second, ours (with the key prepared, as the
//   kernel's keyring holds it, and from the key's bytes) and OpenSSL's over
//   the same inputs, their time ratio (the target is at most 2x OpenSSL's)
//   and what preparing a key costs.
//   bench-crypto [RUNS]    (default 15)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include <openssl/evp.h>

#include "lib/crypto/blake2b.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/sha256.h"
#include "lib/crypto/sha512.h"

namespace {

double now_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

template<typename F> double median_seconds(int runs, F&& body)
{
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        double start = now_seconds();
        body();
        times.push_back(now_seconds() - start);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// Keeps the optimiser from dropping work whose result is unused.
volatile uint8_t sink;

} // namespace

int main(int argc, char** argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 15;
    if (runs < 1)
        runs = 1;

    std::vector<uint8_t> data(1 << 20);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (auto& byte : data) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        byte = uint8_t(state >> 56);
    }
    double mib = double(data.size()) / (1024.0 * 1024.0);
    double blake2b = median_seconds(runs, [&] { sink = keel::Blake2b::hash(data.data(), data.size()).bytes[0]; });
    double sha512 = median_seconds(runs, [&] { sink = keel::Sha512::hash(data.data(), data.size()).bytes[0]; });
    double sha256 = median_seconds(runs, [&] { sink = keel::Sha256::hash(data.data(), data.size()).bytes[0]; });
    printf("blake2b %.1f MB/s\n", mib / blake2b);
    printf("sha512 %.1f MB/s\n", mib / sha512);
    printf("sha256 %.1f MB/s\n", mib / sha256);
    printf("blake2b/sha512 speed ratio %.2f\n", sha512 / blake2b);

    // 64 key/signature pairs over a 104-byte message: the module
    // signature's signed header.
    constexpr int pairs = 64;
    struct Sample {
        uint8_t public_key[32];
        uint8_t signature[64];
    };
    std::vector<Sample> samples(pairs);
    uint8_t message[104];
    for (size_t i = 0; i < sizeof(message); ++i)
        message[i] = uint8_t(i * 7);
    std::vector<EVP_PKEY*> public_keys;
    for (int i = 0; i < pairs; ++i) {
        uint8_t seed[32];
        for (auto& byte : seed) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            byte = uint8_t(state >> 56);
        }
        EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, sizeof(seed));
        size_t size = 32;
        EVP_PKEY_get_raw_public_key(key, samples[i].public_key, &size);
        EVP_MD_CTX* context = EVP_MD_CTX_new();
        size = 64;
        EVP_DigestSignInit(context, nullptr, nullptr, nullptr, key);
        EVP_DigestSign(context, samples[i].signature, &size, message, sizeof(message));
        EVP_MD_CTX_free(context);
        EVP_PKEY_free(key);
        public_keys.push_back(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, samples[i].public_key, 32));
    }

    std::vector<keel::Ed25519PublicKey> prepared(pairs);
    double preparing = median_seconds(runs, [&] {
        for (int i = 0; i < pairs; ++i)
            keel::ed25519_prepare_key(samples[i].public_key, prepared[i]);
    });
    int failures = 0;
    double ours = median_seconds(runs, [&] {
        for (int i = 0; i < pairs; ++i) {
            failures += keel::ed25519_verify_prepared(samples[i].signature, prepared[i], message, sizeof(message))
                != keel::Ed25519Status::Valid;
        }
    });
    double ours_from_bytes = median_seconds(runs, [&] {
        for (const auto& sample : samples)
            failures += !keel::ed25519_verify(sample.signature, sample.public_key, message, sizeof(message));
    });
    // OpenSSL as the kernel would use it: the key is already parsed.
    double openssl = median_seconds(runs, [&] {
        for (int i = 0; i < pairs; ++i) {
            EVP_MD_CTX* context = EVP_MD_CTX_new();
            EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, public_keys[i]);
            failures += EVP_DigestVerify(context, samples[i].signature, 64, message, sizeof(message)) != 1;
            EVP_MD_CTX_free(context);
        }
    });
    for (EVP_PKEY* key : public_keys)
        EVP_PKEY_free(key);
    if (failures) {
        printf("error: %d verifications failed\n", failures);
        return 1;
    }
    printf("ed25519 verify (ours) %.0f ops/s, %.1f us each\n", pairs / ours, ours / pairs * 1e6);
    printf("ed25519 verify (ours, from key bytes) %.0f ops/s, %.1f us each\n", pairs / ours_from_bytes,
        ours_from_bytes / pairs * 1e6);
    printf("ed25519 key preparation (ours) %.1f us each\n", preparing / pairs * 1e6);
    printf("ed25519 verify (openssl) %.0f ops/s, %.1f us each\n", pairs / openssl, openssl / pairs * 1e6);
    printf("ed25519 verify ratio ours/openssl %.2f\n", ours / openssl);
    return 0;
}
