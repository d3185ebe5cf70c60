// Keys the kernel trusts for module signatures.
//
//  * built-in keys: compiled into the core (the build's signing key and any
//    extra trusted keys named at configure time);
//  * the secondary keyring: vendor keys accepted only with an endorsement
//    signed by a built-in key, supplied at boot (the initramfs's
//    /etc/keel/keys.d/, module.keys= on the command line: boot_keys.cpp)
//    or at run time (`keyctl add`);
//  * the blocklist: key ids and module digests, built in and appendable at
//    run time, never shrinkable. Keys are never removed, only blocked. A
//    module digest is the BLAKE2b-512 of the module's image (the file
//    without its signature trailer), whatever digest its signatures use:
//    re-signing a blocked module with another key or algorithm does not
//    get it past the blocklist.
#pragma once

#include <stddef.h>

#include "lib/base/result.h"
#include "lib/crypto/blake2b.h"
#include "lib/crypto/keys.h"

namespace keel {

enum class KeyOrigin : uint8_t { Builtin, Secondary };

struct KeyringEntry {
    TrustedKey key; // key.prepared points at `prepared`
    Ed25519PublicKey prepared;
    KeyOrigin origin;
    bool blocked;
    char description[64];
    char endorsed_by[key_id_text_size]; // secondary keys: the endorsing key's id
    // Where the key came from: "built in", "initramfs /etc/keel/keys.d/x",
    // "module.keys= /path", "keyctl add /path".
    char source[96];
};

void keyring_init();

// The usable (unblocked) keys, copied for one verification. `builtin_only`
// restricts to the built-in keyring (endorsements are checked against it).
size_t keyring_trusted_keys(TrustedKey* out, size_t capacity, bool builtin_only);
const KeyringEntry* keyring_entry_for(const TrustedKey& key);
bool keyring_key_blocked(const KeyId& id);
bool keyring_digest_blocked(const Blake2bDigest& digest);

// Adds the vendor key an endorsement names, remembering `source` (where
// it came from, for keyctl list); the diagnostic says why not.
Result<const KeyringEntry*> keyring_add_endorsed(
    const uint8_t* endorsement, size_t size, const char* source, Diagnostic& diagnostic);

// Endorsements supplied at boot, before any modules_load=: every regular
// file in the initramfs under kBootKeyDirectory (read from the archive
// before it is unpacked), then each path of the module.keys= list
// (comma-separated, read once the root filesystem is mounted). Each
// success and failure is logged; none stops the boot.
inline constexpr const char* kBootKeyDirectory = "/etc/keel/keys.d";
void load_initramfs_keys();
void load_boot_keys(const char* paths);
Result<void> keyring_block_key(const KeyId& id);
Result<void> keyring_block_digest(const Blake2bDigest& digest);

void keyring_for_each(void (*visit)(const KeyringEntry& entry, void* context), void* context);
size_t keyring_blocked_digest_count();

// Built into the core by the build (core/meson.build generates them).
struct BuiltinKey {
    const char* description;
    KeyId id; // computed by the build as key_id_of would
    // The key as ed25519_prepare_key would prepare it (prepared.bytes is
    // the key itself), done by scripts/gen-builtin-keys.py at build time:
    // the boot does no point arithmetic for built-in keys.
    Ed25519PublicKey prepared;
};
extern const BuiltinKey g_builtin_keys[];
extern const size_t g_builtin_key_count;
extern const uint8_t g_builtin_blocked_key_ids[][16];
extern const size_t g_builtin_blocked_key_id_count;
extern const uint8_t g_builtin_blocked_digests[][64];
extern const size_t g_builtin_blocked_digest_count;
// The `sig_enforce` build option: the command line cannot turn it off.
extern const bool g_builtin_sig_enforce;
// The modules the kernel was built with that it trusts by image digest
// (the `known_modules` build option; docs/module-signing.md): the
// BLAKE2b-512 of each image, its length, and each module's name.
extern const Blake2bDigest g_builtin_known_module_digests[];
extern const uint64_t g_builtin_known_module_lengths[];
extern const char* const g_builtin_known_module_names[];
extern const size_t g_builtin_known_module_count;

} // namespace keel
