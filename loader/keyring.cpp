#include "loader/keyring.h"

#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/crypto/endorsement.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sync/spinlock.h"

namespace keel {

namespace {

constexpr size_t kMaxKeys = 32;
constexpr size_t kMaxBlockedKeys = 64;
constexpr size_t kMaxBlockedDigests = 64;

constexpr LockClass kKeyringLockClass { "keyring", LockRank::Keyring, false };
Spinlock g_lock { kKeyringLockClass };
KeyringEntry g_keys[kMaxKeys] GUARDED_BY(g_lock);
size_t g_key_count GUARDED_BY(g_lock) = 0;
KeyId g_blocked_keys[kMaxBlockedKeys] GUARDED_BY(g_lock);
size_t g_blocked_key_count GUARDED_BY(g_lock) = 0;
Blake2bDigest g_blocked_digests[kMaxBlockedDigests] GUARDED_BY(g_lock);
size_t g_blocked_digest_count GUARDED_BY(g_lock) = 0;

bool key_blocked_locked(const KeyId& id) REQUIRES(g_lock)
{
    for (size_t i = 0; i < g_blocked_key_count; i++) {
        if (g_blocked_keys[i] == id)
            return true;
    }
    return false;
}

KeyringEntry* find_locked(const KeyId& id) REQUIRES(g_lock)
{
    for (size_t i = 0; i < g_key_count; i++) {
        if (g_keys[i].key.id == id)
            return &g_keys[i];
    }
    return nullptr;
}

void add_locked(const Ed25519PublicKey& prepared, const KeyId& id, KeyOrigin origin, const char* description,
    const char* endorsed_by, const char* source) REQUIRES(g_lock)
{
    KeyringEntry& entry = g_keys[g_key_count++];
    entry.prepared = prepared;
    entry.key = make_trusted_key_with_id(id, prepared.bytes, &entry, &entry.prepared);
    entry.origin = origin;
    entry.blocked = key_blocked_locked(entry.key.id);
    format(entry.description, sizeof(entry.description), "%s", description);
    format(entry.endorsed_by, sizeof(entry.endorsed_by), "%s", endorsed_by ? endorsed_by : "");
    format(entry.source, sizeof(entry.source), "%s", source);
}

// A PEM file starts with this; an endorsement with "KeelEndo".
bool looks_like_pem(const uint8_t* data, size_t size)
{
    static constexpr char kPem[] = "-----BEGIN ";
    return size >= sizeof(kPem) - 1 && memcmp(data, kPem, sizeof(kPem) - 1) == 0;
}

} // namespace

void keyring_init()
{
    SpinlockGuard guard(g_lock);
    for (size_t i = 0; i < g_builtin_blocked_key_id_count && g_blocked_key_count < kMaxBlockedKeys; i++)
        memcpy(g_blocked_keys[g_blocked_key_count++].bytes, g_builtin_blocked_key_ids[i], KeyId::size);
    for (size_t i = 0; i < g_builtin_blocked_digest_count && g_blocked_digest_count < kMaxBlockedDigests; i++)
        memcpy(g_blocked_digests[g_blocked_digest_count++].bytes, g_builtin_blocked_digests[i], Blake2bDigest::size);
    // Built-in keys were checked when the build embedded them (OpenSSL read
    // each as an Ed25519 key, scripts/gen-builtin-keys.py), and the build
    // prepared each as ed25519_prepare_key would (its status, torsion and
    // odd multiples, and its id; a unit test compares them), so the boot
    // only copies them. A bad key can only fail to verify. Nothing else
    // contends for the lock this early.
    for (size_t i = 0; i < g_builtin_key_count && g_key_count < kMaxKeys; i++)
        add_locked(g_builtin_keys[i].prepared, g_builtin_keys[i].id, KeyOrigin::Builtin, g_builtin_keys[i].description,
            nullptr, "built in");
    log_info("keyring: %zu built-in key(s), %zu blocked key id(s), %zu blocked module digest(s)", g_key_count,
        g_blocked_key_count, g_blocked_digest_count);
}

size_t keyring_trusted_keys(TrustedKey* out, size_t capacity, bool builtin_only)
{
    SpinlockGuard guard(g_lock);
    size_t count = 0;
    for (size_t i = 0; i < g_key_count && count < capacity; i++) {
        if (g_keys[i].blocked || (builtin_only && g_keys[i].origin != KeyOrigin::Builtin))
            continue;
        out[count++] = g_keys[i].key;
    }
    return count;
}

const KeyringEntry* keyring_entry_for(const TrustedKey& key) { return static_cast<const KeyringEntry*>(key.tag); }

bool keyring_key_blocked(const KeyId& id)
{
    SpinlockGuard guard(g_lock);
    return key_blocked_locked(id);
}

bool keyring_digest_blocked(const Blake2bDigest& digest)
{
    SpinlockGuard guard(g_lock);
    for (size_t i = 0; i < g_blocked_digest_count; i++) {
        if (memcmp(g_blocked_digests[i].bytes, digest.bytes, Blake2bDigest::size) == 0)
            return true;
    }
    return false;
}

Result<const KeyringEntry*> keyring_add_endorsed(const uint8_t* data, size_t size, const char* source, Diagnostic& why)
{
    if (looks_like_pem(data, size))
        return why.fail(Error::EBADMSG,
            "this is a PEM key, not an endorsement: give the .endorsement file that `kmod-sign endorse` makes "
            "from the vendor's public key (a built-in key's holder signs it; 144 bytes plus its description)");
    TrustedKey builtin[kMaxKeys];
    size_t count = keyring_trusted_keys(builtin, kMaxKeys, true);
    Diagnostic diagnostic {};
    auto check = verify_endorsement(data, size, builtin, count, &diagnostic);
    if (check.is_error()) {
        diagnose(&why, "endorsement rejected: %s", diagnostic.message);
        return Err(check.error());
    }
    const Endorsement& endorsement = check.value().endorsement;
    // Outside the lock: preparing costs about as much as a verification.
    // On the heap: the prepared key is 2 KiB and `keyctl add` is the
    // deepest call chain in the kernel already.
    auto made = make<Ed25519PublicKey>();
    if (made.is_error())
        return why.fail(made.error(), "out of memory");
    Own<Ed25519PublicKey> prepared = made.release_value();
    ed25519_prepare_key(endorsement.vendor_public_key, *prepared);
    SpinlockGuard guard(g_lock);
    if (key_blocked_locked(endorsement.vendor_key_id)) {
        return why.fail(Error::EKEYREJECTED, "the vendor key is blocked");
    }
    if (KeyringEntry* existing = find_locked(endorsement.vendor_key_id)) {
        return why.fail(Error::EEXIST, "the key is already in the keyring");
    }
    if (g_key_count == kMaxKeys) {
        return why.fail(Error::ENOSPC, "the keyring is full (%zu keys)", kMaxKeys);
    }
    char description[64];
    size_t length = endorsement.description_size < sizeof(description) - 1 ? endorsement.description_size
                                                                           : sizeof(description) - 1;
    memcpy(description, endorsement.description, length);
    description[length] = '\0';
    char endorser[key_id_text_size];
    format_key_id(check.value().endorser->id, endorser);
    // verify_endorsement checked that the id is the vendor key's.
    add_locked(*prepared, endorsement.vendor_key_id, KeyOrigin::Secondary, length ? description : "vendor key",
        endorser, source);
    return &g_keys[g_key_count - 1];
}

Result<void> keyring_block_key(const KeyId& id)
{
    SpinlockGuard guard(g_lock);
    if (key_blocked_locked(id))
        return {};
    if (g_blocked_key_count == kMaxBlockedKeys)
        return Err(Error::ENOSPC);
    g_blocked_keys[g_blocked_key_count++] = id;
    if (KeyringEntry* entry = find_locked(id))
        entry->blocked = true;
    return {};
}

Result<void> keyring_block_digest(const Blake2bDigest& digest)
{
    SpinlockGuard guard(g_lock);
    for (size_t i = 0; i < g_blocked_digest_count; i++) {
        if (memcmp(g_blocked_digests[i].bytes, digest.bytes, Blake2bDigest::size) == 0)
            return {};
    }
    if (g_blocked_digest_count == kMaxBlockedDigests)
        return Err(Error::ENOSPC);
    g_blocked_digests[g_blocked_digest_count++] = digest;
    return {};
}

void keyring_for_each(void (*visit)(const KeyringEntry& entry, void* context), void* context)
{
    // Entries are only ever appended, and fields other than `blocked` never
    // change: a snapshot of the count is enough to walk them safely.
    size_t count;
    {
        SpinlockGuard guard(g_lock);
        count = g_key_count;
    }
    for (size_t i = 0; i < count; i++)
        visit(g_keys[i], context);
}

size_t keyring_blocked_digest_count()
{
    SpinlockGuard guard(g_lock);
    return g_blocked_digest_count;
}

} // namespace keel
