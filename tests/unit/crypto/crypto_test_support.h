// Helpers shared by the crypto tests: hex, randomness and OpenSSL as the
// independent reference (signing and verifying with EVP, hashing).
#pragma once

#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "lib/base/errno.h"
#include "lib/base/utility.h"
#include "lib/crypto/curve25519.h"
#include "lib/crypto/keys.h"

using Bytes = std::vector<uint8_t>;

// A field element's canonical bytes, to compare elements whatever their limbs.
inline Bytes fe_bytes(const keel::curve25519::Fe& a)
{
    Bytes out(32);
    keel::curve25519::fe_to_bytes(out.data(), a);
    return out;
}

inline Bytes from_hex(const std::string& text)
{
    auto nibble = [](char c) -> int {
        int value = keel::hex_digit_value(uint8_t(c));
        if (value < 0)
            throw std::invalid_argument("bad hex digit");
        return value;
    };
    if (text.size() % 2)
        throw std::invalid_argument("odd hex length");
    Bytes out(text.size() / 2);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = uint8_t(nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]));
    return out;
}

inline std::string to_hex(const uint8_t* data, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (size_t i = 0; i < size; ++i) {
        text += digits[data[i] >> 4];
        text += digits[data[i] & 15];
    }
    return text;
}

inline Bytes random_bytes(std::mt19937_64& rng, size_t size)
{
    Bytes out(size);
    for (auto& byte : out)
        byte = uint8_t(rng());
    return out;
}

// An Ed25519 key pair held by OpenSSL, made from a 32-byte seed so tests
// are reproducible.
class OpensslKey {
public:
    explicit OpensslKey(const Bytes& seed)
    {
        m_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
        if (!m_key)
            throw std::runtime_error("EVP_PKEY_new_raw_private_key failed");
        size_t size = sizeof(m_public);
        if (EVP_PKEY_get_raw_public_key(m_key, m_public, &size) != 1 || size != 32)
            throw std::runtime_error("EVP_PKEY_get_raw_public_key failed");
    }
    OpensslKey(const OpensslKey&) = delete;
    OpensslKey& operator=(const OpensslKey&) = delete;
    ~OpensslKey() { EVP_PKEY_free(m_key); }

    const uint8_t* public_key() const { return m_public; }

    Bytes sign(const uint8_t* message, size_t size) const
    {
        EVP_MD_CTX* context = EVP_MD_CTX_new();
        Bytes signature(64);
        size_t signature_size = signature.size();
        bool ok = context && EVP_DigestSignInit(context, nullptr, nullptr, nullptr, m_key) == 1
            && EVP_DigestSign(context, signature.data(), &signature_size, message, size) == 1;
        EVP_MD_CTX_free(context);
        if (!ok || signature_size != 64)
            throw std::runtime_error("EVP_DigestSign failed");
        return signature;
    }
    Bytes sign(const Bytes& message) const { return sign(message.data(), message.size()); }

private:
    EVP_PKEY* m_key = nullptr;
    uint8_t m_public[32];
};

// OpenSSL's verdict on (signature, public key, message).
inline bool openssl_verify(const uint8_t* signature, const uint8_t* public_key, const uint8_t* message, size_t size)
{
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key, 32);
    if (!key)
        return false;
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    bool ok = context && EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, key) == 1
        && EVP_DigestVerify(context, signature, 64, message, size) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}

inline Bytes openssl_digest(const EVP_MD* md, const uint8_t* data, size_t size)
{
    Bytes out(EVP_MD_get_size(md));
    unsigned int out_size = 0;
    if (EVP_Digest(data, size, out.data(), &out_size, md, nullptr) != 1)
        throw std::runtime_error("EVP_Digest failed");
    return out;
}

// Runs a verifier (verify_module_signature, verify_endorsement) on exactly
// `bytes` copied to the heap, so ASan sees any overread; the outcome keeps
// the copy alive, since what the verifier returns are views into it.
template<typename Check> struct VerifyOutcome {
    bool ok;
    keel::Error error;
    std::string message;
    Check check;
    std::unique_ptr<uint8_t[]> storage;
};

template<typename Check, typename Verifier>
VerifyOutcome<Check> verify_copy(const Bytes& bytes, const std::vector<keel::TrustedKey>& keys, Verifier verifier)
{
    keel::Diagnostic diagnostic = {};
    std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size() + 1]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
    auto result = verifier(copy.get(), bytes.size(), keys.data(), keys.size(), &diagnostic);
    VerifyOutcome<Check> outcome { result.is_ok(), result.is_ok() ? keel::Error(0) : result.error(), diagnostic.message,
        {}, {} };
    if (result.is_ok())
        outcome.check = result.value();
    outcome.storage = std::move(copy);
    return outcome;
}
