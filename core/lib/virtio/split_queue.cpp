#include "lib/virtio/split_queue.h"

#include "lib/virtio/split_queue_impl.h"

namespace keel::virtio {

template class SplitQueueT<FenceBarriers>;

SplitQueueLayout split_queue_layout(uint32_t size)
{
    SplitQueueLayout layout;
    layout.descriptors = 0;
    layout.available = descriptor_table_bytes(size);
    layout.used = align_up(layout.available + available_ring_bytes(size), kUsedAlign);
    layout.total = layout.used + used_ring_bytes(size);
    return layout;
}

} // namespace keel::virtio
