// The checks the loader makes before a module runs, written once for the
// kernel and the host: the loader (loader/) asks them of a module it is
// loading, and `kmodinfo --check-against CORE` (scripts/tools/) asks the
// same questions of the same code on the host, so both answer in the same
// words (docs/sdk.md, "Checking a module before shipping it").
//
//   check_module_signature  the signature policy: trusted keys, blocklists,
//                           enforcement (module.sig_enforce)
//   check_entry_points      an init or exit that modinfo announces must be
//                           exported (a version script may have hidden it)
//   check_core_import       name@node in the core's export table, hashes equal
//   check_module_import     name@node among a dependency's exports, hashes
//                           equal when both sides recorded one
//
// Each writes its refusal (or warning) into a caller's buffer, starting
// with the module's name or path as the loader's messages do.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"
#include "lib/crypto/blake2b.h"
#include "lib/crypto/keys.h"
#include "lib/crypto/module_signature.h"
#include "lib/elf/module_image.h"
#include "lib/kabi/kabi_table.h"

namespace keel {

// Where a check's words go: always NUL-terminated, truncated when long.
struct CheckMessage {
    char* text;
    size_t size;
};

// What the signature check consults: the keys the kernel trusts now, the
// blocklists and whether unsigned modules are refused.
struct SignaturePolicy {
    const TrustedKey* keys;
    size_t key_count;
    bool enforce;
    bool (*key_blocked)(const KeyId& id, const void* context);
    bool (*digest_blocked)(const Blake2bDigest& digest, const void* context);
    size_t blocked_digest_count; // 0: nothing to hash for
    const void* context;
    // Images the kernel was built with: trusted by digest, without a key.
    KnownImages known_images;
    // A module with no signature at all that loads unverified gets no
    // message and a fixed `reason` (the loader says it once, when the
    // kernel becomes tainted; composing it for every later load was most
    // of an unsigned load's verify stage). Refusals always say why.
    bool quiet_unsigned = false;
};

struct SignatureVerdict {
    size_t image_length;   // the bytes to parse: what the signature covers, or the file without its trailer
    const TrustedKey* key; // the verifying key (one of policy.keys), or nullptr when it loads unverified
    ImageDigest digest;    // the verified image digest, when `key` or `known_image`
    // Trusted because its image is one of policy.known_images (key is nullptr).
    bool known_image;
    // Loads only because enforcement is off: the kernel is tainted 'E', and
    // `reason` says why ("signature and/or required key missing").
    bool unverified;
    bool unsigned_image; // unverified because it carries no signature at all
    char reason[192];
};

// The policy of Linux's module_sig_check, on the raw file before any ELF
// structure is read. Refusals: EBADMSG (malformed), EKEYREJECTED (bad
// signature, blocked key or digest, or unverifiable under enforcement),
// ENOKEY (unknown key under enforcement).
Result<SignatureVerdict> check_module_signature(
    const uint8_t* file, size_t size, const char* path, const SignaturePolicy& policy, CheckMessage message);

// keel_module_init/keel_module_exit announced in modinfo (init=, exit=,
// which KEEL_MODULE_INIT/EXIT and Rust's module! write) must be exported
// functions in the module's code: a module whose init cannot be found would
// otherwise "load" without ever running it. ENOEXEC.
Result<void> check_entry_points(const ModuleImage& image, CheckMessage message);

// An import from libkeel.so: the core's export at exactly that node, with
// the hash the module recorded. ENOENT when the core lacks it (naming the
// nodes the core has), ENOEXEC without a recorded hash, EINVAL on a hash
// mismatch; `forcible` says whether `insmod -f` may override the refusal.
Result<const KabiExport*> check_core_import(const ModuleImage& image, const ModuleImage::Symbol& symbol,
    const KabiTable& core, bool& forcible, CheckMessage message);

// The export `name` at `node` of a loaded (or, on the host, parsed)
// module: its address relative to the provider's load address. Entry
// points and parameter storage are never exports. ENOENT.
Result<uint64_t> module_export_offset(const ModuleImage& provider, const char* name, const char* node);

// An import from another module (`provider`, whose soname the import's
// version names). ENOENT when the provider does not export it; EINVAL when
// both sides recorded a hash (the importer in .keel_kabi, the provider in
// .keel_exports: both built from an interface description) and they
// differ, naming both declarations (`forcible`). When either side recorded
// none (a provider without an interface description), the import resolves
// and `warning` is set, with the message saying so.
Result<uint64_t> check_module_import(const ModuleImage& image, const ModuleImage::Symbol& symbol,
    const ModuleImage& provider, bool& forcible, bool& warning, CheckMessage message);

// "NAME.kmod" (a module's soname, its DT_NEEDED entry) -> "NAME"; false
// when `soname` does not name a module that way.
bool module_name_from_soname(const char* soname, char* name, size_t size);

} // namespace keel
