// Checks the KABI implementations share: whether memory a module hands
// the core (an ops table, its functions) lies in that module's image.
#pragma once

#include <stddef.h>

namespace keel {

// Every byte of [address, address + size) lies in the owner's image (a
// Module*), or anywhere for the core's own tables (owner null).
bool kabi_owner_readable(const void* address, size_t size, void* owner);

} // namespace keel
