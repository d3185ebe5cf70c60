// The pool, its lock and who fed it.
#include "random/random.h"

#include "lib/base/format.h"
#include "lib/base/new.h"
#include "lib/base/string.h"
#include "lib/random/pool.h"
#include "log/log.h"
#include "sync/spinlock.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr LockClass kRandomLockClass { "random", LockRank::Random, false };
Spinlock g_random_lock { kRandomLockClass };

// Kept in static storage: the pool lives as long as the kernel.
alignas(EntropyPool) uint8_t g_pool_storage[sizeof(EntropyPool)];
EntropyPool* g_pool GUARDED_BY(g_random_lock);

struct Source {
    char name[32];
    uint64_t bytes;
    uint64_t bits;
};
constexpr size_t kMaxSources = 8;
Source g_sources[kMaxSources] GUARDED_BY(g_random_lock);
size_t g_source_count GUARDED_BY(g_random_lock);
bool g_announced GUARDED_BY(g_random_lock);

EntropyPool& pool() REQUIRES(g_random_lock)
{
    if (!g_pool)
        g_pool = new (g_pool_storage) EntropyPool();
    return *g_pool;
}

void account(const char* name, size_t size, uint32_t bits) REQUIRES(g_random_lock)
{
    Source* source = nullptr;
    for (size_t i = 0; i < g_source_count && !source; i++) {
        if (strcmp(g_sources[i].name, name) == 0)
            source = &g_sources[i];
    }
    if (!source && g_source_count < kMaxSources) {
        source = &g_sources[g_source_count++];
        format(source->name, sizeof(source->name), "%s", name);
    }
    if (source) {
        source->bytes += size;
        source->bits += bits;
    }
}

} // namespace

void random_init()
{
    // Before the clock is calibrated (clock_init runs inside the
    // calibration window): the cycle counter now and at entry.
    uint64_t boot[2] = { time::cycles(), time::boot_cycles() };
    random_add(boot, sizeof(boot), 0, "boot");
}

void random_add(const void* data, size_t size, uint32_t bits, const char* source)
{
    bool announce = false;
    {
        SpinlockGuard guard(g_random_lock);
        EntropyPool& entropy = pool();
        entropy.add(data, size, bits);
        account(source ? source : "?", size, bits);
        if (!g_announced && entropy.pending_bits() >= EntropyPool::kSeedBits) {
            // Seed now, so that readiness does not wait for the next reader.
            uint8_t discard[1];
            entropy.generate(discard, sizeof(discard));
            g_announced = announce = true;
        }
    }
    if (announce)
        log_info("random: generator seeded (256 bits credited, the last from %s)", source ? source : "?");
}

void random_add_timing()
{
    uint64_t now = time::cycles();
    SpinlockGuard guard(g_random_lock);
    pool().add(&now, sizeof(now), 0);
}

void random_get(void* out, size_t size)
{
    SpinlockGuard guard(g_random_lock);
    pool().generate(out, size);
}

bool random_ready()
{
    SpinlockGuard guard(g_random_lock);
    return pool().ready();
}

void random_report(void (*print)(const char* line, void* context), void* context)
{
    char lines[kMaxSources + 1][96];
    size_t count = 0;
    {
        SpinlockGuard guard(g_random_lock);
        EntropyPool& entropy = pool();
        format(lines[count++], sizeof(lines[0]),
            "random: %s, %llu bits credited, %u pending, %llu reseeds, %llu bytes generated",
            entropy.ready() ? "ready" : "not ready (fewer than 256 bits credited)",
            (unsigned long long)entropy.credited_bits(), entropy.pending_bits(), (unsigned long long)entropy.reseeds(),
            (unsigned long long)entropy.bytes_generated());
        for (size_t i = 0; i < g_source_count; i++) {
            format(lines[count++], sizeof(lines[0]), "  %-20s %10llu bytes %10llu bits credited", g_sources[i].name,
                (unsigned long long)g_sources[i].bytes, (unsigned long long)g_sources[i].bits);
        }
    }
    for (size_t i = 0; i < count; i++)
        print(lines[i], context);
}

} // namespace keel
