// What the protocol library needs from its surroundings: memory. Time is
// not among it: every function that cares is handed `now` (milliseconds on
// a monotonic clock), so host tests drive the same code with a fake clock.
// The kernel implements these with its heap; host tests and fuzzers with
// malloc and a count, so a leaked packet or connection fails the test.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/new.h"
#include "lib/base/utility.h"

namespace keel::net {

void* net_alloc(size_t size); // nullptr when out of memory
void net_free(void* pointer);

// Monotonic milliseconds, as every caller passes them.
using Millis = uint64_t;

template<typename T, typename... Args> T* net_create(Args&&... args)
{
    void* memory = net_alloc(sizeof(T));
    if (!memory)
        return nullptr;
    return new (memory) T(forward<Args>(args)...);
}

template<typename T> void net_destroy(T* object)
{
    if (!object)
        return;
    object->~T();
    net_free(object);
}

} // namespace keel::net
