// One request at a time, waited for: the partition reader's and the
// console's way to a BlockDevice that bypasses the cache.
#include "block/block.h"
#include "sync/wait_queue.h"

namespace keel {

namespace {

struct Waiter {
    WaitQueue queue;
    bool done = false;
};

void wake(BlockRequest& request)
{
    auto* waiter = static_cast<Waiter*>(request.context);
    __atomic_store_n(&waiter->done, true, __ATOMIC_RELEASE);
    waiter->queue.wake_all();
}

} // namespace

Result<void> block_io(BlockDevice& device, BlockOp op, uint64_t sector, uint32_t sectors, void* data)
{
    Waiter waiter;
    BlockRequest request {};
    request.op = op;
    request.sector = sector;
    request.sectors = sectors;
    request.data = static_cast<uint8_t*>(data);
    request.complete = wake;
    request.context = &waiter;
    device.ops->submit(device, request);
    wait_event(waiter.queue, __atomic_load_n(&waiter.done, __ATOMIC_ACQUIRE));
    if (request.status != kBlockOk)
        return Err(request.status);
    return {};
}

} // namespace keel
