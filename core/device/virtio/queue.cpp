// Split virtqueues of virtio devices (virtio.h): rings in coherent DMA
// memory of the driver's binding, the library's SplitQueue over them,
// interrupt dispatch to the driver's callback, and a release that resets
// the device before anything it could still touch is freed. When the
// driver negotiated VIRTIO_F_INDIRECT_DESC, chains of 2 to 16 segments go
// through the library's pool of indirect tables (one table per ring
// descriptor, in coherent DMA memory of the binding as well).
#include "device/resources.h"
#include "device/virtio/virtio.h"
#include "lib/virtio/indirect_pool.h"
#include "lib/virtio/split_queue.h"
#include "log/log.h"
#include "mm/heap.h"

namespace keel {

// The object behind keel_virtqueue*.
struct VirtioQueue {
    Devres devres;
    Device* device;
    VirtioDevice* owner;
    uint32_t index;
    virtio::SplitQueue queue;
    virtio::SplitQueueSlot* slots;
    keel_virtqueue_callback_fn callback;
    void* arg;
    // With indirect descriptors: the pool and its records (its tables are
    // a DMA buffer of the binding, older than the queue).
    bool indirect = false;
    virtio::IndirectPool pool;
    virtio::IndirectRecord* records = nullptr;

    explicit VirtioQueue(const virtio::SplitQueue& split)
        : queue(split)
    {
    }
};

namespace {

// The longest chain keel_virtqueue_add takes (converted on the stack).
constexpr uint32_t kMaxChain = 64;

bool is_power_of_two(uint32_t value) { return value && !(value & (value - 1)); }

void release_queue(Devres& resource)
{
    auto* queue = reinterpret_cast<VirtioQueue*>(reinterpret_cast<char*>(&resource) - offsetof(VirtioQueue, devres));
    VirtioDevice& owner = *queue->owner;
    // The device must stop reading the rings before their memory goes. At
    // the end of a binding the bus's quiesce has done that (or stopped its
    // DMA otherwise, or kept the memory): no second 10 ms attempt per queue.
    if (!owner.quiesced && owner.transport.ops.get_status(owner.transport.context) != 0) {
        Diagnostic problem;
        if (owner.status.reset(&problem).is_error())
            log_err(
                "virtio: %s: reset before freeing queue %u: %s", queue->device->name, queue->index, problem.message);
    }
    // Sequentially consistent with the dispatch's increment and load: either
    // the dispatch sees the queue gone, or this sees the dispatch running.
    __atomic_store_n(&owner.queues[queue->index], nullptr, __ATOMIC_SEQ_CST);
    owner.wait_for_dispatches();
    kfree(queue->slots);
    kfree(queue->records);
    device_destroy_object(queue);
}

} // namespace

Result<VirtioQueue*> virtio_queue_create(Device& device, uint32_t index, uint32_t max_size,
    keel_virtqueue_callback_fn callback, void* arg, Diagnostic& diagnostic)
{
    VirtioDevice& owner = virtio_device(device);
    if (owner.status.step() != virtio::DeviceStatus::Step::FeaturesOk)
        return diagnostic.fail(
            Error::EINVAL, "queue %u: set up after the features are negotiated, before DRIVER_OK", index);
    if (index >= KEEL_VIRTIO_QUEUE_MAX)
        return diagnostic.fail(Error::ENOENT, "queue %u: at most %u queues", index, unsigned(KEEL_VIRTIO_QUEUE_MAX));
    if (max_size && !is_power_of_two(max_size))
        return diagnostic.fail(Error::EINVAL, "queue %u: max_size %u is not a power of two", index, max_size);
    if (__atomic_load_n(&owner.queues[index], __ATOMIC_ACQUIRE))
        return diagnostic.fail(Error::EBUSY, "queue %u exists already", index);
    owner.quiesced = false; // a new binding's queues: its end quiesces again
    uint32_t size = owner.transport.ops.queue_max_size(owner.transport.context, index);
    if (size == 0)
        return diagnostic.fail(Error::ENOENT, "the device has no queue %u", index);
    // A split queue's size need not be a power of two in virtio 1.x, but
    // the library's ring arithmetic wants one: take the largest below.
    if (size > virtio::kMaxQueueSize)
        size = virtio::kMaxQueueSize;
    while (!is_power_of_two(size))
        size &= size - 1;
    if (max_size && size > max_size)
        size = max_size;

    virtio::SplitQueueLayout layout = virtio::split_queue_layout(size);
    DmaBuffer* ring = TRY(dma_alloc_coherent(device, layout.total));
    auto* slots = static_cast<virtio::SplitQueueSlot*>(kzalloc(sizeof(virtio::SplitQueueSlot) * size));
    if (!slots) {
        dma_free_coherent(ring);
        return diagnostic.fail(Error::ENOMEM, "out of memory");
    }
    auto* base = static_cast<uint8_t*>(ring->pub.cpu);
    virtio::SplitQueueConfig config;
    config.size = size;
    config.descriptors = { base + layout.descriptors, ring->pub.dma + layout.descriptors };
    config.available = { base + layout.available, ring->pub.dma + layout.available };
    config.used = { base + layout.used, ring->pub.dma + layout.used };
    config.slots = slots;
    config.event_index = virtio::has_feature(owner.features, virtio::VIRTIO_F_EVENT_IDX);
    config.indirect = virtio::has_feature(owner.features, virtio::VIRTIO_F_INDIRECT_DESC);
    DmaBuffer* tables = nullptr;
    virtio::IndirectRecord* records = nullptr;
    auto free_indirect = [&] {
        kfree(records);
        if (tables)
            dma_free_coherent(tables);
    };
    if (config.indirect) {
        auto allocated = dma_alloc_coherent(device, virtio::indirect_pool_bytes(size));
        records = static_cast<virtio::IndirectRecord*>(kzalloc(sizeof(virtio::IndirectRecord) * size));
        tables = allocated.is_ok() ? allocated.value() : nullptr;
        if (!tables || !records) {
            free_indirect();
            kfree(slots);
            dma_free_coherent(ring);
            return diagnostic.fail(Error::ENOMEM, "queue %u: out of memory for indirect tables", index);
        }
    }
    auto split = virtio::SplitQueue::create(config, &diagnostic);
    VirtioQueue* queue = split.is_ok() ? device_create_object<VirtioQueue>(split.value()) : nullptr;
    if (!queue) {
        free_indirect();
        kfree(slots);
        dma_free_coherent(ring);
        return split.is_error() ? Err(split.error()) : diagnostic.fail(Error::ENOMEM, "out of memory");
    }
    if (config.indirect) {
        // Page-aligned DMA memory and `size` records: create cannot refuse them.
        queue->pool = MUST(virtio::IndirectPool::create(records, size, { tables->pub.cpu, tables->pub.dma }));
        queue->indirect = true;
        queue->records = records;
    }
    queue->device = &device;
    queue->owner = &owner;
    queue->index = index;
    queue->slots = slots;
    queue->callback = callback;
    queue->arg = arg;
    int32_t status = owner.transport.ops.queue_setup(owner.transport.context, index, size,
        config.descriptors.device_address, config.available.device_address, config.used.device_address);
    if (status < 0) {
        kfree(slots);
        device_destroy_object(queue);
        free_indirect();
        dma_free_coherent(ring);
        return diagnostic.fail(status >= -4095 ? Error(-status) : Error::EIO,
            "queue %u: the transport refused its setup (%d)", index, status);
    }
    // From here on the binding owns it; the ring, recorded earlier, is freed after it.
    if (auto added = devres_add(device, queue->devres, release_queue, "virtqueue"); added.is_error()) {
        Diagnostic ignored;
        if (owner.status.reset(&ignored).is_error())
            dma_quarantine(device, "its virtio reset failed");
        kfree(slots);
        device_destroy_object(queue);
        free_indirect();
        dma_free_coherent(ring);
        return diagnostic.fail(added.error(), "queue %u: %s is not being probed or bound", index, device.name);
    }
    __atomic_store_n(&owner.queues[index], queue, __ATOMIC_RELEASE);
    return queue;
}

void virtio_queue_interrupt(Device& device, uint32_t index)
{
    if (!is_virtio_device(device) || index >= KEEL_VIRTIO_QUEUE_MAX)
        return;
    VirtioDevice& owner = virtio_device(device);
    __atomic_add_fetch(&owner.dispatching, 1, __ATOMIC_SEQ_CST);
    VirtioQueue* queue = __atomic_load_n(&owner.queues[index], __ATOMIC_SEQ_CST);
    if (queue && queue->callback)
        queue->callback(reinterpret_cast<keel_virtqueue*>(queue), queue->arg);
    __atomic_sub_fetch(&owner.dispatching, 1, __ATOMIC_RELEASE);
}

uint32_t virtio_queue_size(const VirtioQueue& queue) { return queue.queue.size(); }

Result<void> virtio_queue_add(VirtioQueue& queue, const keel_virtio_segment* segments, uint32_t out_count,
    uint32_t in_count, void* token, Diagnostic& diagnostic)
{
    if (out_count > kMaxChain || in_count > kMaxChain - out_count)
        return diagnostic.fail(
            Error::EINVAL, "a chain of %u + %u segments (at most %u)", out_count, in_count, kMaxChain);
    virtio::BufferSegment converted[kMaxChain];
    for (uint32_t i = 0; i < out_count + in_count; i++)
        converted[i] = { segments[i].dma, segments[i].length };
    if (queue.indirect)
        return queue.pool.add(queue.queue, converted, out_count, converted + out_count, in_count, token, &diagnostic);
    return queue.queue.add(converted, out_count, converted + out_count, in_count, token, &diagnostic);
}

void virtio_queue_kick(VirtioQueue& queue)
{
    if (queue.queue.kick_prepare())
        queue.owner->transport.ops.notify(queue.owner->transport.context, queue.index);
}

Result<void> virtio_queue_get_used(VirtioQueue& queue, void** token, uint32_t* written, Diagnostic& diagnostic)
{
    virtio::UsedBuffer used
        = TRY(queue.indirect ? queue.pool.pop_used(queue.queue, &diagnostic) : queue.queue.pop_used(&diagnostic));
    *token = used.token;
    *written = used.written;
    return {};
}

void virtio_queue_disable_callbacks(VirtioQueue& queue) { queue.queue.disable_callbacks(); }

bool virtio_queue_enable_callbacks(VirtioQueue& queue) { return queue.queue.enable_callbacks(); }

} // namespace keel
