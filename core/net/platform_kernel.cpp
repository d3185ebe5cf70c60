// The memory of the packet buffers the netdev core uses (lib/net/platform.h): the heap.
#include "lib/net/platform.h"
#include "mm/heap.h"

namespace keel::net {

void* net_alloc(size_t size) { return kmalloc(size); }
void net_free(void* pointer) { kfree(pointer); }

} // namespace keel::net
