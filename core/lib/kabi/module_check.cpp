#include "lib/kabi/module_check.h"

#include <stdarg.h>

#include "lib/base/format.h"
#include "lib/base/string.h"

namespace keel {

namespace {

void say(CheckMessage message, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

void say(CheckMessage message, const char* fmt, ...)
{
    if (!message.text || message.size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vformat(message.text, message.size, fmt, args);
    va_end(args);
}

// ---------------------------------------------------------------- signatures

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

bool signed_by_blocked_key(const uint8_t* file, size_t size, const SignaturePolicy& policy, char* key_text)
{
    auto trailer = parse_signature_trailer(file, size, nullptr);
    if (trailer.is_error())
        return false;
    for (size_t i = 0; i < trailer.value().record_count; i++) {
        const SignatureRecord& record = trailer.value().records[i];
        if (record.supported && policy.key_blocked(record.key_id, policy.context)) {
            format_key_id(record.key_id, key_text);
            return true;
        }
    }
    return false;
}

// The digest blocklist holds BLAKE2b-512 digests of module images. A
// BLAKE2b-signed module brings that digest from its verification; a
// SHA-512-signed one is hashed again, but only when there is a blocklist.
bool image_digest_blocked(const uint8_t* file, const ModuleSignatureCheck& check, const SignaturePolicy& policy)
{
    if (check.image_digest.algorithm == ImageDigestAlgorithm::Blake2b) {
        Blake2bDigest digest;
        memcpy(digest.bytes, check.image_digest.bytes, Blake2bDigest::size);
        return policy.digest_blocked(digest, policy.context);
    }
    return policy.blocked_digest_count > 0
        && policy.digest_blocked(Blake2b::hash(file, check.image_length), policy.context);
}

} // namespace

Result<SignatureVerdict> check_module_signature(
    const uint8_t* file, size_t size, const char* path, const SignaturePolicy& policy, CheckMessage message)
{
    Diagnostic diagnostic {};
    auto check = verify_module_signature(file, size, policy.keys, policy.key_count, &diagnostic, policy.known_images);
    SignatureVerdict verdict {};

    if (check.is_ok()) {
        if (image_digest_blocked(file, check.value(), policy)) {
            say(message, "%s: module verification failed: the module's digest is blocklisted", path);
            return Err(Error::EKEYREJECTED);
        }
        verdict.image_length = check.value().image_length;
        verdict.key = check.value().key;
        verdict.known_image = check.value().known_image;
        verdict.digest = check.value().image_digest;
        return verdict;
    }

    char blocked_key[key_id_text_size];
    switch (check.error()) {
    case Error::EBADMSG:
    case Error::EKEYREJECTED:
        say(message, "%s: module verification failed: %s", path, diagnostic.message);
        return Err(check.error());
    case Error::ENOKEY:
        if (signed_by_blocked_key(file, size, policy, blocked_key)) {
            say(message, "%s: module verification failed: signed by blocked key %s", path, blocked_key);
            return Err(Error::EKEYREJECTED);
        }
        break;
    case Error::ENODATA:
        if (has_orphaned_signature_record(file, size)) {
            say(message,
                "%s: module verification failed: the signature trailer is damaged or truncated "
                "(a signature record without its footer)",
                path);
            return Err(Error::EBADMSG);
        }
        break;
    case Error::ENOTSUP: break;
    default: say(message, "%s: module verification failed: %s", path, diagnostic.message); return Err(check.error());
    }

    // Unsigned, unknown key or unknown algorithm: a matter of policy. The
    // blocklist holds digests of module images (what signatures cover), so
    // hash the image without its trailer: re-signing a blocked module with
    // some other key or digest must not get it past the blocklist.
    auto trailer = parse_signature_trailer(file, size, nullptr);
    size_t image_length = trailer.is_ok() ? trailer.value().image_length : size;
    // Hashing is the cost of an unsigned load: skip it when nothing is blocked.
    if (policy.blocked_digest_count > 0 && policy.digest_blocked(Blake2b::hash(file, image_length), policy.context)) {
        say(message, "%s: module verification failed: the module's digest is blocklisted", path);
        return Err(Error::EKEYREJECTED);
    }
    if (policy.enforce) {
        say(message, "%s: module verification failed: %s (module.sig_enforce is on)", path,
            check.error() == Error::ENODATA ? "unsigned module" : diagnostic.message);
        return Err(check.error() == Error::ENOKEY ? Error::ENOKEY : Error::EKEYREJECTED);
    }
    verdict.image_length = image_length;
    verdict.unverified = true;
    verdict.unsigned_image = check.error() == Error::ENODATA;
    // Linux's words for a module with no signature at all.
    static constexpr char kMissing[] = "signature and/or required key missing";
    static_assert(sizeof(kMissing) <= sizeof(verdict.reason));
    if (verdict.unsigned_image)
        memcpy(verdict.reason, kMissing, sizeof(kMissing));
    else
        format(verdict.reason, sizeof(verdict.reason), "%s", diagnostic.message);
    if (verdict.unsigned_image && policy.quiet_unsigned)
        return verdict;
    say(message, "%s: module verification failed: %s - tainting kernel", path, verdict.reason);
    return verdict;
}

// --------------------------------------------------------------- entry points

Result<void> check_entry_points(const ModuleImage& image, CheckMessage message)
{
    static constexpr const char* kEntries[][2] = { { "init", "keel_module_init" }, { "exit", "keel_module_exit" } };
    for (const auto& entry : kEntries) {
        const char* announced = image.modinfo(entry[0]);
        if (!announced)
            continue;
        if (strcmp(announced, entry[1]) != 0) {
            say(message, "%s: modinfo %s='%s': expected %s", image.name(), entry[0], announced, entry[1]);
            return Err(Error::ENOEXEC);
        }
        auto index = image.find_defined_symbol(entry[1]);
        if (index.is_error()) {
            say(message,
                "%s: its modinfo announces %s (%s=) but the module does not export it: a version script hides it "
                "(local: *;); list keel_module_init; keel_module_exit; keel_param_*; under global:",
                image.name(), entry[1], entry[0]);
            return Err(Error::ENOEXEC);
        }
        ModuleImage::Symbol symbol = image.symbol(index.value());
        if (symbol.type != elf::STT_FUNC || !image.is_executable(symbol.value)) {
            say(message, "%s: %s is not a function in the module's code", image.name(), entry[1]);
            return Err(Error::ENOEXEC);
        }
    }
    return {};
}

// ------------------------------------------------------------------- imports

namespace {

// "A, B, C": the names `next` yields, into `out`.
template<typename Next> void join(char* out, size_t size, Next&& next)
{
    size_t length = 0;
    out[0] = '\0';
    while (const char* name = next()) {
        if (length < size)
            length += format(out + length, size - length, "%s%s", length ? ", " : "", name);
    }
}

} // namespace

Result<const KabiExport*> check_core_import(const ModuleImage& image, const ModuleImage::Symbol& symbol,
    const KabiTable& core, bool& forcible, CheckMessage message)
{
    forcible = false;
    const KabiExport* entry = core.find(symbol.name, symbol.version);
    if (!entry) {
        char offered[128];
        size_t at = 0;
        join(offered, sizeof(offered), [&]() -> const char* {
            for (; at < core.export_count(); at++) {
                if (strcmp(core.export_at(at).name, symbol.name) == 0)
                    return core.export_at(at++).node;
            }
            return nullptr;
        });
        // A node the core does not have at all: the module was built
        // against a newer SDK. Say which nodes this core has.
        char newer[192] = "";
        if (!core.find_node(symbol.version)) {
            char nodes[160];
            size_t node = 0;
            join(nodes, sizeof(nodes),
                [&]() -> const char* { return node < core.node_count() ? core.node_at(node++).name : nullptr; });
            format(newer, sizeof(newer), "; version node %s is newer than this core, which offers %s", symbol.version,
                nodes);
        }
        if (offered[0])
            say(message, "%s: needs %s@%s, but this core provides it only at %s%s", image.name(), symbol.name,
                symbol.version, offered, newer);
        else
            say(message, "%s: unknown symbol %s@%s (the core has no such export%s)", image.name(), symbol.name,
                symbol.version, newer);
        return Err(Error::ENOENT);
    }
    ModuleImage::KabiEntry recorded;
    if (!image.find_kabi_entry(symbol.name, symbol.version, recorded)) {
        say(message, "%s: no hash recorded for %s@%s (was the module processed by kmodpost?)", image.name(),
            symbol.name, symbol.version);
        forcible = true;
        return Err(Error::ENOEXEC);
    }
    if (recorded.hash != entry->hash) {
        const char* declaration = image.declaration(symbol.name, symbol.version);
        say(message,
            "%s: disagrees about the version of symbol %s@%s: module has hash 0x%016llx%s%s%s, core has 0x%016llx",
            image.name(), symbol.name, symbol.version, (unsigned long long)recorded.hash, declaration ? " (" : "",
            declaration ? declaration : "", declaration ? ")" : "", (unsigned long long)entry->hash);
        forcible = true;
        return Err(Error::EINVAL);
    }
    return entry;
}

Result<uint64_t> module_export_offset(const ModuleImage& provider, const char* name, const char* node)
{
    // By the node when there is one: a name exported at an older node too
    // (kept for the modules built against it) is found at that node, not
    // only at its default one.
    auto index = provider.find_defined_symbol(name, node);
    if (index.is_error())
        return Err(Error::ENOENT);
    ModuleImage::Symbol symbol = provider.symbol(index.value());
    // Only symbols the module versioned (its version script) are exports;
    // its internals, entry points and parameter storage are not, even when
    // the version script lists them so they stay visible to the loader.
    if (!symbol.version || (node && strcmp(symbol.version, node) != 0) || symbol.bind == elf::STB_LOCAL
        || strncmp(name, "keel_module_", 12) == 0 || strncmp(name, "keel_param_", 11) == 0)
        return Err(Error::ENOENT);
    return symbol.value;
}

Result<uint64_t> check_module_import(const ModuleImage& image, const ModuleImage::Symbol& symbol,
    const ModuleImage& provider, bool& forcible, bool& warning, CheckMessage message)
{
    forcible = false;
    warning = false;
    auto offset = module_export_offset(provider, symbol.name, symbol.version);
    if (offset.is_error()) {
        say(message, "%s: %s does not export %s@%s", image.name(), provider.name(), symbol.name, symbol.version);
        return Err(Error::ENOENT);
    }
    ModuleImage::KabiEntry imported {};
    ModuleImage::KabiEntry exported {};
    bool have_import = image.find_kabi_entry(symbol.name, symbol.version, imported) && imported.hash != 0;
    bool have_export = provider.find_export_hash(symbol.name, symbol.version, exported) && exported.hash != 0;
    if (have_import && have_export && imported.hash != exported.hash) {
        const char* ours = image.declaration(symbol.name, symbol.version);
        const char* theirs = provider.declaration(symbol.name, symbol.version);
        say(message,
            "%s: disagrees about the version of symbol %s@%s: module has hash 0x%016llx (%s), %s has 0x%016llx (%s)",
            image.name(), symbol.name, symbol.version, (unsigned long long)imported.hash,
            ours ? ours : "no declaration recorded", provider.name(), (unsigned long long)exported.hash,
            theirs ? theirs : "no declaration recorded");
        forcible = true;
        return Err(Error::EINVAL);
    }
    if (!have_import || !have_export) {
        // Modules built before interface descriptions export and import
        // without hashes: they keep loading, unchecked.
        say(message,
            "%s: %s@%s from %s is not hash-checked: %s recorded no hash (build %s from an interface description)",
            image.name(), symbol.name, symbol.version, provider.name(), have_export ? image.name() : provider.name(),
            have_export ? image.name() : provider.name());
        warning = true;
    }
    return offset;
}

bool module_name_from_soname(const char* soname, char* name, size_t size)
{
    size_t length = strlen(soname);
    if (length <= 5 || strcmp(soname + length - 5, ".kmod") != 0 || length - 5 >= size)
        return false;
    memcpy(name, soname, length - 5);
    name[length - 5] = '\0';
    return true;
}

} // namespace keel
