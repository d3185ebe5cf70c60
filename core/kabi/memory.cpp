// keel_alloc, keel_zalloc, keel_free: the kernel heap for modules.
#include "kabi_impl.h"
#include "mm/heap.h"

static_assert(KEEL_ALLOC_ALIGN == 16, "the heap guarantees 16-byte alignment (core/mm/slab.h)");

extern "C" void* keel_alloc(size_t size) { return keel::kmalloc(size); }

extern "C" void* keel_zalloc(size_t size) { return keel::kzalloc(size); }

extern "C" void keel_free(void* pointer) { keel::kfree(pointer); }
