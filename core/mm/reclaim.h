// Memory that caches can give back on demand. When the heap cannot satisfy
// an allocation it asks every registered reclaimer to free some, then
// tries once more. A reclaimer runs wherever kmalloc was called (thread or
// interrupt, any lock held), so it must only try-lock its own lock and
// give up when it is taken.
#pragma once

#include <stddef.h>

namespace keel {

// Frees up to `bytes` (at least some, when it can) and returns how many it freed.
using Reclaimer = size_t (*)(size_t bytes);

// From thread context, once per cache; a few slots (a full table is logged).
void register_reclaimer(Reclaimer reclaimer);
// Asks each reclaimer in turn until `bytes` were freed; returns the total.
size_t reclaim_memory(size_t bytes);

} // namespace keel
