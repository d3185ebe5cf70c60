#include "loader/signature.h"

#include "debug/taint.h"
#include "lib/base/string.h"
#include "lib/crypto/module_signature.h"
#include "lib/kabi/module_check.h"
#include "loader/internal.h"
#include "loader/keyring.h"
#include "log/log.h"

namespace keel {

namespace {

constexpr size_t kMaxTrusted = 32;

bool key_blocked(const KeyId& id, const void*) { return keyring_key_blocked(id); }

bool digest_blocked(const Blake2bDigest& digest, const void*) { return keyring_digest_blocked(digest); }

// The digest blocklist holds BLAKE2b-512 digests of module images
// (loader/keyring.h), for modinfo's "valid, but blocklisted".
bool image_digest_blocked(const uint8_t* file, const ModuleSignatureCheck& check)
{
    if (check.image_digest.algorithm == ImageDigestAlgorithm::Blake2b) {
        Blake2bDigest digest;
        memcpy(digest.bytes, check.image_digest.bytes, Blake2bDigest::size);
        return keyring_digest_blocked(digest);
    }
    return keyring_blocked_digest_count() > 0 && keyring_digest_blocked(Blake2b::hash(file, check.image_length));
}

KnownImages known_images()
{
    return { g_builtin_known_module_digests, g_builtin_known_module_lengths, g_builtin_known_module_count };
}

// Which of the kernel's known modules this image is; nullptr if none.
const char* known_module_name(size_t image_length, const uint8_t* blake2b_digest)
{
    long index = find_known_image(known_images(), image_length, blake2b_digest);
    return index >= 0 ? g_builtin_known_module_names[index] : nullptr;
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

namespace {

Result<SignatureVerdict> apply_policy(const uint8_t* file, size_t size, const char* path, Diagnostic& error)
{
    // The policy itself is shared with kmodinfo --check-against
    // (lib/kabi/module_check.h): same checks, same words.
    TrustedKey keys[kMaxTrusted];
    SignaturePolicy policy {};
    policy.keys = keys;
    policy.key_count = keyring_trusted_keys(keys, kMaxTrusted, false);
    policy.enforce = signature_enforced();
    policy.key_blocked = key_blocked;
    policy.digest_blocked = digest_blocked;
    policy.blocked_digest_count = keyring_blocked_digest_count();
    policy.known_images = known_images();
    // verify_module says nothing more about an unsigned module once the
    // kernel is tainted.
    policy.quiet_unsigned = is_tainted(Taint::UnsignedModule);
    return check_module_signature(file, size, path, policy, { error.message, sizeof(error.message) });
}

} // namespace

Result<void> module_signature_acceptable(const uint8_t* file, size_t size, const char* path, Diagnostic& error)
{
    TRY(apply_policy(file, size, path, error));
    error.clear();
    return {};
}

Result<void> verify_module(Module& module, const char* path, const LoadOptions&, Diagnostic& error)
{
    auto verdict = apply_policy(module.file, module.file_size, path, error);
    if (verdict.is_error())
        return Err(verdict.error());
    module.image_size = verdict.value().image_length;
    if (verdict.value().key) {
        module.signature_valid = true;
        describe_signer(*verdict.value().key, module.signer, sizeof(module.signer));
        return {};
    }
    if (verdict.value().known_image) {
        module.signature_valid = true;
        format(module.signer, sizeof(module.signer), "the kernel's build (%s, known by digest)",
            known_module_name(verdict.value().image_length, verdict.value().digest.bytes));
        return {};
    }
    // As Linux: the warning goes to the console once, when the kernel
    // becomes tainted. Later ones go only to the log, and a module with no
    // signature at all, which has nothing new to say, adds nothing
    // (formatting and storing that line was most of an unsigned load's
    // verify stage); each module still records its taint (lsmod, modinfo).
    if (!is_tainted(Taint::UnsignedModule))
        log_warn("%s", error.message);
    else if (!verdict.value().unsigned_image)
        log_info("%s: module verification failed: %s", path, verdict.value().reason);
    error.message[0] = '\0';
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
    // modinfo checks the signature itself, and says too when the kernel
    // knows the image by digest (then, unless its digest is blocked, it
    // loads whatever its signature says). Hashed once, and only when a
    // known image has its length.
    const char* known = nullptr;
    if (known_image_length(known_images(), info.image_length)) {
        Blake2bDigest digest = Blake2b::hash(file, info.image_length);
        if (!keyring_digest_blocked(digest))
            known = known_module_name(info.image_length, digest.bytes);
    }
    const char* known_note = known ? "; known to the kernel by digest" : "";
    TrustedKey keys[kMaxTrusted];
    size_t key_count = keyring_trusted_keys(keys, kMaxTrusted, false);
    auto check = verify_module_signature(file, size, keys, key_count, &diagnostic);
    if (check.is_ok()) {
        bool blocked = image_digest_blocked(file, check.value());
        format(info.status, sizeof(info.status), "%s (%zu signature(s); Ed25519, %s image digest)%s",
            blocked ? "valid, but blocklisted" : "valid", trailer.value().record_count,
            image_digest_name(check.value().image_digest.algorithm), known_note);
        describe_signer(*check.value().key, info.signer, sizeof(info.signer));
    } else {
        // The known note first: a long diagnostic must not cut it off.
        format(info.status, sizeof(info.status), "%snot trusted: %s",
            known ? "known to the kernel by digest; signature " : "", diagnostic.message);
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
