// The kernel heap: kmalloc/kfree with size-class slabs for small objects
// and whole pages for large ones.
#pragma once

#include <stddef.h>

#include "lib/base/new.h"
#include "lib/base/own.h"
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

template<typename T> void destroy(T* object)
{
    if (!object)
        return;
    object->~T();
    kfree(object);
}

struct HeapDelete {
    template<typename T> void operator()(T* object) const { destroy(object); }
};

// Heap objects with one owner, and with counted references
// (lib/base/own.h).
template<typename T> using Own = OwnPtr<T, HeapDelete>;
template<typename T> using Ref = RefPtr<T, HeapDelete>;

// Fallible construction: `Own<Thread> thread = TRY(make<Thread>(...));`
template<typename T, typename... Args> Result<Own<T>> make(Args&&... args)
{
    void* memory = kmalloc(sizeof(T));
    if (!memory)
        return Err(Error::ENOMEM);
    return Own<T>(new (memory) T(forward<Args>(args)...));
}

// The same for an object that derives from RefCounted<T>.
template<typename T, typename... Args> Result<Ref<T>> make_ref(Args&&... args)
{
    void* memory = kmalloc(sizeof(T));
    if (!memory)
        return Err(Error::ENOMEM);
    return Ref<T>::adopt(new (memory) T(forward<Args>(args)...));
}

} // namespace keel
