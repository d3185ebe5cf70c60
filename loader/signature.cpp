#include "loader/signature.h"

#include "debug/taint.h"
#include "lib/base/string.h"
#include "lib/crypto/module_signature.h"
#include "loader/internal.h"
#include "loader/keyring.h"
#include "log/log.h"

namespace keel {

namespace {

constexpr size_t kMaxTrusted = 32;

// A trailer whose footer was cut off or damaged leaves its records behind
// the ELF image; such a file is not "unsigned", its signature is broken.
// The records sit within the largest trailer's length of the end; memchr
// finds candidates for the magic's first byte a word at a time, so
// unsigned modules, the common case, pay little for the search.
bool has_orphaned_signature_record(const uint8_t* file, size_t size)
{
    constexpr size_t kMagic = sizeof(module_signature::record_magic);
    constexpr size_t kSearch
        = module_signature::max_records * module_signature::ed25519_record_size + module_signature::footer_size;
    const uint8_t* end = file + size;
    for (const uint8_t* p = size > kSearch ? end - kSearch : file; size_t(end - p) >= kMagic; ++p) {
        p = static_cast<const uint8_t*>(memchr(p, module_signature::record_magic[0], size_t(end - p) - kMagic + 1));
        if (!p)
            return false;
        if (memcmp(p, module_signature::record_magic, kMagic) == 0)
            return true;
    }
    return false;
}

bool signed_by_blocked_key(const uint8_t* file, size_t size, char* key_text)
{
    auto trailer = parse_signature_trailer(file, size, nullptr);
    if (trailer.is_error())
        return false;
    for (size_t i = 0; i < trailer.value().record_count; i++) {
        const SignatureRecord& record = trailer.value().records[i];
        if (record.supported && keyring_key_blocked(record.key_id)) {
            format_key_id(record.key_id, key_text);
            return true;
        }
    }
    return false;
}

// The digest blocklist holds BLAKE2b-512 digests of module images
// (loader/keyring.h). A BLAKE2b-signed module brings that digest from its
// verification; a SHA-512-signed one is hashed again, but only when there
// is a blocklist to check.
bool image_digest_blocked(const uint8_t* file, const ModuleSignatureCheck& check)
{
    if (check.image_digest.algorithm == ImageDigestAlgorithm::Blake2b) {
        Blake2bDigest digest;
        memcpy(digest.bytes, check.image_digest.bytes, Blake2bDigest::size);
        return keyring_digest_blocked(digest);
    }
    return keyring_blocked_digest_count() > 0 && keyring_digest_blocked(Blake2b::hash(file, check.image_length));
}

void describe_signer(const TrustedKey& key, char* out, size_t size)
{
    const KeyringEntry* entry = keyring_entry_for(key);
    char id[key_id_text_size];
    format_key_id(key.id, id);
    format(out, size, "%s (%s, key %s)", entry ? entry->description : "?",
        entry && entry->origin == KeyOrigin::Secondary ? "secondary" : "built-in", id);
}

} // namespace

namespace {
bool g_cmdline_sig_enforce = false;
}

void set_signature_enforcement(bool enforce) { g_cmdline_sig_enforce = enforce; }

bool signature_enforced() { return g_builtin_sig_enforce || g_cmdline_sig_enforce; }

Result<SignatureVerdict> check_module_signature(const uint8_t* file, size_t size, const char* path, Diagnostic& error)
{
    TrustedKey keys[kMaxTrusted];
    size_t key_count = keyring_trusted_keys(keys, kMaxTrusted, false);
    Diagnostic diagnostic {};
    auto check = verify_module_signature(file, size, keys, key_count, &diagnostic);
    bool enforce = signature_enforced();
    SignatureVerdict verdict {};

    if (check.is_ok()) {
        if (image_digest_blocked(file, check.value())) {
            return error.fail(
                Error::EKEYREJECTED, "%s: module verification failed: the module's digest is blocklisted", path);
        }
        verdict.trusted = true;
        verdict.image_length = check.value().image_length;
        describe_signer(*check.value().key, verdict.signer, sizeof(verdict.signer));
        return verdict;
    }

    char blocked_key[key_id_text_size];
    switch (check.error()) {
    case Error::EBADMSG:
    case Error::EKEYREJECTED:
        diagnose(&error, "%s: module verification failed: %s", path, diagnostic.message);
        return Err(check.error());
    case Error::ENOKEY:
        if (signed_by_blocked_key(file, size, blocked_key)) {
            return error.fail(
                Error::EKEYREJECTED, "%s: module verification failed: signed by blocked key %s", path, blocked_key);
        }
        break;
    case Error::ENODATA:
        if (has_orphaned_signature_record(file, size)) {
            diagnose(&error,
                "%s: module verification failed: the signature trailer is damaged or truncated "
                "(a signature record without its footer)",
                path);
            return Err(Error::EBADMSG);
        }
        break;
    case Error::ENOTSUP: break;
    default:
        diagnose(&error, "%s: module verification failed: %s", path, diagnostic.message);
        return Err(check.error());
    }

    // Unsigned, unknown key or unknown algorithm: a matter of policy. The
    // blocklist holds digests of module images (what signatures cover), so
    // hash the image without its trailer: re-signing a blocked module with
    // some other key or digest must not get it past the blocklist.
    auto trailer = parse_signature_trailer(file, size, nullptr);
    size_t image_length = trailer.is_ok() ? trailer.value().image_length : size;
    // Hashing is the cost of an unsigned load: skip it when nothing is blocked.
    if (keyring_blocked_digest_count() > 0 && keyring_digest_blocked(Blake2b::hash(file, image_length))) {
        return error.fail(
            Error::EKEYREJECTED, "%s: module verification failed: the module's digest is blocklisted", path);
    }
    if (enforce) {
        diagnose(&error, "%s: module verification failed: %s (module.sig_enforce is on)", path,
            check.error() == Error::ENODATA ? "unsigned module" : diagnostic.message);
        return Err(check.error() == Error::ENOKEY ? Error::ENOKEY : Error::EKEYREJECTED);
    }
    format(verdict.reason, sizeof(verdict.reason), "%s",
        check.error() == Error::ENODATA ? "signature and/or required key missing" : diagnostic.message);
    verdict.image_length = image_length;
    return verdict;
}

Result<void> verify_module(Module& module, const char* path, const LoadOptions&, Diagnostic& error)
{
    SignatureVerdict verdict = TRY(check_module_signature(module.file, module.file_size, path, error));
    module.image_size = verdict.image_length;
    if (verdict.trusted) {
        module.signature_valid = true;
        format(module.signer, sizeof(module.signer), "%s", verdict.signer);
        return {};
    }
    // As Linux: the warning goes to the console once, when the kernel
    // becomes tainted; later ones only to the log (every line on the serial
    // console costs as much as the rest of the load).
    if (is_tainted(Taint::UnsignedModule))
        log_info("%s: module verification failed: %s", path, verdict.reason);
    else
        log_warn("%s: module verification failed: %s - tainting kernel", path, verdict.reason);
    add_taint(Taint::UnsignedModule);
    module.taint_letters |= 1u << unsigned(Taint::UnsignedModule);
    return {};
}

SignatureInfo describe_signature(const uint8_t* file, size_t size)
{
    SignatureInfo info {};
    info.image_length = size;
    Diagnostic diagnostic {};
    auto trailer = parse_signature_trailer(file, size, &diagnostic);
    if (trailer.is_error()) {
        format(info.status, sizeof(info.status), "%s",
            trailer.error() == Error::ENODATA ? "unsigned" : diagnostic.message);
        return info;
    }
    info.image_length = trailer.value().image_length;
    TrustedKey keys[kMaxTrusted];
    size_t key_count = keyring_trusted_keys(keys, kMaxTrusted, false);
    auto check = verify_module_signature(file, size, keys, key_count, &diagnostic);
    if (check.is_ok()) {
        bool blocked = image_digest_blocked(file, check.value());
        format(info.status, sizeof(info.status), "%s (%zu signature(s); Ed25519, %s image digest)",
            blocked ? "valid, but blocklisted" : "valid", trailer.value().record_count,
            image_digest_name(check.value().image_digest.algorithm));
        describe_signer(*check.value().key, info.signer, sizeof(info.signer));
    } else {
        format(info.status, sizeof(info.status), "not trusted: %s", diagnostic.message);
        const SignatureRecord& first = trailer.value().records[0];
        char id[key_id_text_size];
        format_key_id(first.key_id, id);
        if (first.supported)
            format(info.signer, sizeof(info.signer), "key %s (Ed25519, %s image digest)", id,
                image_digest_name(first.digest_algorithm));
        else
            format(info.signer, sizeof(info.signer), "key %s", id);
    }
    return info;
}

} // namespace keel
