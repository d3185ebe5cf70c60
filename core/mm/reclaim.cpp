#include "mm/reclaim.h"

#include "log/log.h"

namespace keel {

namespace {

constexpr size_t kMaxReclaimers = 4;
// Written once per slot, in thread context, before the count that
// publishes it; read from anywhere.
Reclaimer g_reclaimers[kMaxReclaimers];
size_t g_count;

} // namespace

void register_reclaimer(Reclaimer reclaimer)
{
    size_t count = __atomic_load_n(&g_count, __ATOMIC_ACQUIRE);
    if (count == kMaxReclaimers) {
        log_err("mm: no room for another reclaimer");
        return;
    }
    g_reclaimers[count] = reclaimer;
    __atomic_store_n(&g_count, count + 1, __ATOMIC_RELEASE);
}

size_t reclaim_memory(size_t bytes)
{
    size_t freed = 0;
    size_t count = __atomic_load_n(&g_count, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < count && freed < bytes; i++)
        freed += g_reclaimers[i](bytes - freed);
    return freed;
}

} // namespace keel
