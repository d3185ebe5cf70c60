// The kernel heap: kmalloc/kfree with size-class slabs for small objects
// and whole pages for large ones.
#pragma once

#include <stddef.h>

#include "lib/base/new.h"
#include "lib/base/result.h"
#include "lib/base/utility.h"

namespace keel {

void heap_init();
void* kmalloc(size_t size); // nullptr when out of memory
void* kzalloc(size_t size);
void kfree(void* pointer);

struct HeapStats {
    size_t bytes_in_use;
    size_t allocations;
};
HeapStats heap_stats();

// Fallible construction: `Own<Thread> t = TRY(make<Thread>(...));`
template<typename T, typename... Args> Result<T*> make(Args&&... args)
{
    void* memory = kmalloc(sizeof(T));
    if (!memory)
        return Err(Error::ENOMEM);
    return new (memory) T(forward<Args>(args)...);
}

template<typename T> void destroy(T* object)
{
    if (!object)
        return;
    object->~T();
    kfree(object);
}

} // namespace keel
