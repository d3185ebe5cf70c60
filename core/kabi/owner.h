// Checks the KABI implementations share: whether memory a module hands
// the core (an ops table, its functions) lies in that module's image.
#pragma once

#include <stddef.h>

namespace keel {

// Every byte of [address, address + size) lies in the owner's image (a
// Module*), or anywhere for the core's own tables (owner null).
bool kabi_owner_readable(const void* address, size_t size, void* owner);

} // namespace keel

// One function of a registration table `ops` (a {size, version, ...}
// table), when the table is long enough to hold `field`, for
// module_owning_table: a copy of a module's table on its heap still calls
// into the module.
#define KABI_TABLE_FUNCTION(ops, field)                                                                                \
    ((ops) && (ops)->size >= offsetof(__typeof__(*(ops)), field) + sizeof((ops)->field)                                \
            ? reinterpret_cast<const void*>((ops)->field)                                                              \
            : nullptr)
