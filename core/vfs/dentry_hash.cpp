// The dentry hash: every hashed dentry below a superblock's root, found by
// (parent, name) in one step instead of a scan of the parent's children,
// which made a lookup in a directory of N cached names cost N compares
// (and a tree walk that caches each name as it goes, N^2 / 2 per
// directory). Linux's dcache hash plays the same part.
//
// One table for the whole VFS. It starts as a small static array and
// doubles while it holds more than two dentries a bucket; it halves while
// it holds fewer than one for eight buckets, and returns to the static
// array when it holds none, so an idle VFS keeps no memory for it. Growing
// and shrinking need memory and may fail: the table then stays as it is,
// slower but correct, so removing a name never depends on an allocation.
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

constexpr size_t kStaticLog = 6;
constexpr size_t kMaxLog = 17;

Dentry* g_static_buckets[size_t(1) << kStaticLog] GUARDED_BY(g_vfs_lock);

struct DentryTable {
    Dentry** buckets;
    size_t log;
    size_t count;
};
DentryTable g_table GUARDED_BY(g_vfs_lock) = { g_static_buckets, kStaticLog, 0 };

size_t bucket_of(size_t key, size_t log) { return size_t((uint64_t(key) * 0x9e3779b97f4a7c15ull) >> (64 - log)); }

void resize(size_t log) REQUIRES(g_vfs_lock)
{
    Dentry** buckets = g_static_buckets;
    size_t size = size_t(1) << log;
    if (log != kStaticLog) {
        // NOLINTNEXTLINE(bugprone-sizeof-expression): the buckets are pointers, by design
        buckets = static_cast<Dentry**>(platform_alloc(size * sizeof(Dentry*)));
        if (!buckets)
            return;
    }
    for (size_t i = 0; i < size; i++)
        buckets[i] = nullptr;
    Dentry** old = g_table.buckets;
    size_t old_size = size_t(1) << g_table.log;
    for (size_t i = 0; i < old_size; i++) {
        while (Dentry* dentry = old[i]) {
            old[i] = dentry->hash_next;
            Dentry*& head = buckets[bucket_of(dentry->hash_key, log)];
            dentry->hash_next = head;
            head = dentry;
        }
    }
    if (old != g_static_buckets)
        platform_free(old);
    g_table.buckets = buckets;
    g_table.log = log;
}

} // namespace

size_t dentry_hash_key(const Dentry* parent, const char* name, size_t length)
{
    // FNV-1a over the name, then the parent mixed in.
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < length; i++)
        hash = (hash ^ uint8_t(name[i])) * 0x100000001b3ull;
    hash ^= uint64_t(reinterpret_cast<uintptr_t>(parent)) * 0xff51afd7ed558ccdull;
    return size_t(hash ^ (hash >> 29));
}

void dentry_hash_insert(Dentry* dentry)
{
    VERIFY(!dentry->is_root());
    dentry->hash_key = dentry_hash_key(dentry->parent, dentry->name, dentry->name_length);
    Dentry*& head = g_table.buckets[bucket_of(dentry->hash_key, g_table.log)];
    dentry->hash_next = head;
    head = dentry;
    g_table.count++;
    if (g_table.count > (size_t(2) << g_table.log) && g_table.log < kMaxLog)
        resize(g_table.log + 1);
}

void dentry_hash_remove(Dentry* dentry)
{
    Dentry** link = &g_table.buckets[bucket_of(dentry->hash_key, g_table.log)];
    while (*link != dentry) {
        VERIFY(*link);
        link = &(*link)->hash_next;
    }
    *link = dentry->hash_next;
    dentry->hash_next = nullptr;
    g_table.count--;
    if (g_table.count == 0 && g_table.log != kStaticLog)
        resize(kStaticLog);
    else if (g_table.log > kStaticLog && g_table.count < (size_t(1) << g_table.log) / 8)
        resize(g_table.log - 1);
}

Dentry* dentry_hash_find(const Dentry* parent, const char* name, size_t length)
{
    size_t key = dentry_hash_key(parent, name, length);
    for (Dentry* dentry = g_table.buckets[bucket_of(key, g_table.log)]; dentry; dentry = dentry->hash_next) {
        if (dentry->hash_key == key && dentry->parent == parent && dentry->name_is(name, length))
            return dentry;
    }
    return nullptr;
}

DentryHashStats dentry_hash_stats() { return { size_t(1) << g_table.log, g_table.count }; }

} // namespace keel::vfs
