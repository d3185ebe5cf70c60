// DMA for drivers: a per-device address mask, coherent buffers and
// streaming mappings, all owned by the binding.
//
// On x86 without an IOMMU the device's address is the physical address,
// and the caches are coherent with DMA, so syncing is only about bounce
// buffers: memory a driver hands to keel_dma_map that is not physically
// contiguous, or lies above the device's mask, is copied through a buffer
// of the core's (in on map and sync_for_device, out on unmap and
// sync_for_cpu, as the direction says). An IOMMU would slot in here: the
// device address would come from its page tables instead.
#include "arch/memory_layout.h"
#include "arch/paging.h"
#include "device/resources.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"

namespace keel {

namespace {

constexpr uint64_t kPageSize = arch::kPageSize;
constexpr unsigned kMaxOrder = 10; // 4 MiB, the page allocator's largest block

size_t g_buffers = 0;
uint64_t g_bytes = 0;
size_t g_mappings = 0;
size_t g_bounced = 0;
uint64_t g_quarantined = 0;

template<typename T> T* container(Devres& resource, size_t offset)
{
    return reinterpret_cast<T*>(reinterpret_cast<char*>(&resource) - offset);
}

Result<unsigned> order_for(uint64_t size)
{
    if (size == 0 || size > (kPageSize << kMaxOrder))
        return Err(Error::EINVAL);
    unsigned order = 0;
    while ((kPageSize << order) < size)
        order++;
    return order;
}

// Whole pages below the device's mask, reached through the direct map, the
// first `zeroed` bytes zeroed: what the caller hands out. The rest of the
// block (a power of two of pages) is never handed out, and zeroing it cost
// a quarter of the time virtio_net's rings took to set up (two 192 KiB
// buffers in 256 KiB blocks).
Result<uint64_t> allocate_below_mask(const Device& device, unsigned order, uint64_t zeroed)
{
    uint64_t limit = device.dma_mask == ~0ull ? ~0ull : device.dma_mask + 1;
    uint64_t phys = TRY(alloc_pages_below(order, limit));
    memset(arch::phys_to_virt(phys), 0, size_t(zeroed));
    __atomic_add_fetch(&g_bytes, kPageSize << order, __ATOMIC_RELAXED);
    return phys;
}

// Pages a device may still write are kept (dma_quarantine), never freed.
void free_block(const Device& device, uint64_t phys, unsigned order)
{
    if (__atomic_load_n(&device.dma_quarantined, __ATOMIC_ACQUIRE))
        __atomic_add_fetch(&g_quarantined, kPageSize << order, __ATOMIC_RELAXED);
    else
        free_pages(phys);
    __atomic_sub_fetch(&g_bytes, kPageSize << order, __ATOMIC_RELAXED);
}

void release_buffer(Devres& resource)
{
    auto* buffer = container<DmaBuffer>(resource, offsetof(DmaBuffer, devres));
    free_block(*buffer->device, buffer->phys, buffer->order);
    __atomic_sub_fetch(&g_buffers, 1, __ATOMIC_RELAXED);
    destroy(buffer);
}

bool copies_in(uint32_t direction) { return direction & KEEL_DMA_TO_DEVICE; }
bool copies_out(uint32_t direction) { return direction & KEEL_DMA_FROM_DEVICE; }

void release_mapping(Devres& resource)
{
    auto* mapping = container<DmaMapping>(resource, offsetof(DmaMapping, devres));
    if (mapping->bounce) {
        if (copies_out(mapping->direction))
            memcpy(mapping->cpu, mapping->bounce, size_t(mapping->pub.size));
        free_block(*mapping->device, mapping->bounce_phys, mapping->bounce_order);
        __atomic_sub_fetch(&g_bounced, 1, __ATOMIC_RELAXED);
    }
    __atomic_sub_fetch(&g_mappings, 1, __ATOMIC_RELAXED);
    destroy(mapping);
}

// The physical address of [cpu, cpu + size) when it is one contiguous run
// the page tables map; 0 otherwise.
uint64_t contiguous_physical(const void* cpu, uint64_t size)
{
    uint64_t start = reinterpret_cast<uint64_t>(cpu);
    uint64_t first = 0;
    for (uint64_t page = start & ~(kPageSize - 1); page < start + size; page += kPageSize) {
        uint64_t phys;
        unsigned flags;
        if (!arch::translate(page, phys, flags))
            return 0;
        phys &= ~(kPageSize - 1);
        if (page == (start & ~(kPageSize - 1)))
            first = phys;
        else if (phys != first + (page - (start & ~(kPageSize - 1))))
            return 0;
    }
    return first + (start & (kPageSize - 1));
}

} // namespace

Result<void> dma_set_mask(Device& device, uint64_t mask)
{
    // 2^n - 1 for n in 24..64: a device that cannot reach 16 MiB is not one
    // this allocator can serve.
    if (mask < 0xffffff || (mask & (mask + 1)) != 0)
        return Err(Error::EINVAL);
    device.dma_mask = mask;
    return {};
}

Result<DmaBuffer*> dma_alloc_coherent(Device& device, uint64_t size)
{
    unsigned order = TRY(order_for(size));
    DmaBuffer* buffer = TRY(make<DmaBuffer>()).leak();
    // Its pages zeroed whole, as the ABI promises (keel_dma_alloc_coherent).
    auto phys = allocate_below_mask(device, order, align_up(size, kPageSize));
    if (phys.is_error()) {
        destroy(buffer);
        return Err(phys.error());
    }
    buffer->device = &device;
    buffer->phys = phys.value();
    buffer->order = order;
    buffer->pub.cpu = arch::phys_to_virt(buffer->phys);
    buffer->pub.dma = buffer->phys;
    buffer->pub.size = size;
    __atomic_add_fetch(&g_buffers, 1, __ATOMIC_RELAXED);
    if (auto added = devres_add(device, buffer->devres, release_buffer, "dma buffer"); added.is_error()) {
        release_buffer(buffer->devres);
        return Err(added.error());
    }
    return buffer;
}

void dma_free_coherent(DmaBuffer* buffer)
{
    if (buffer && devres_take(buffer->devres))
        release_buffer(buffer->devres);
}

uint64_t dma_direct_address(const Device& device, const void* cpu, uint64_t size)
{
    if (!cpu || size == 0)
        return 0;
    uint64_t phys = contiguous_physical(cpu, size);
    return phys && phys + size - 1 <= device.dma_mask ? phys : 0;
}

Result<DmaMapping*> dma_map(Device& device, void* cpu, uint64_t size, uint32_t direction)
{
    if (!cpu || size == 0 || direction == 0 || direction > KEEL_DMA_BIDIRECTIONAL)
        return Err(Error::EINVAL);
    uint64_t end;
    if (__builtin_add_overflow(reinterpret_cast<uint64_t>(cpu), size, &end))
        return Err(Error::EINVAL);
    DmaMapping* mapping = TRY(make<DmaMapping>()).leak();
    mapping->device = &device;
    mapping->cpu = cpu;
    mapping->direction = direction;
    mapping->pub.size = size;
    uint64_t phys = contiguous_physical(cpu, size);
    if (phys && phys + size - 1 <= device.dma_mask) {
        mapping->pub.dma = phys;
    } else {
        auto order = order_for(size);
        // Copied in whole when the device reads it; zeroed when only
        // the device writes it (what it leaves unwritten is copied out).
        uint64_t zeroed = copies_in(direction) ? 0 : size;
        auto bounce
            = order.is_ok() ? allocate_below_mask(device, order.value(), zeroed) : Result<uint64_t>(order.error());
        if (bounce.is_error()) {
            destroy(mapping);
            return Err(bounce.error() == Error::EINVAL ? Error::EINVAL : Error::ENOMEM);
        }
        mapping->bounce_phys = bounce.value();
        mapping->bounce_order = order.value();
        mapping->bounce = arch::phys_to_virt(mapping->bounce_phys);
        mapping->pub.dma = mapping->bounce_phys;
        if (copies_in(direction))
            memcpy(mapping->bounce, cpu, size_t(size));
        __atomic_add_fetch(&g_bounced, 1, __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&g_mappings, 1, __ATOMIC_RELAXED);
    if (auto added = devres_add(device, mapping->devres, release_mapping, "dma mapping"); added.is_error()) {
        mapping->direction = 0; // nothing to copy back
        release_mapping(mapping->devres);
        return Err(added.error());
    }
    return mapping;
}

void dma_unmap(DmaMapping* mapping)
{
    if (mapping && devres_take(mapping->devres))
        release_mapping(mapping->devres);
}

void dma_sync_for_cpu(DmaMapping* mapping)
{
    if (mapping && mapping->bounce && copies_out(mapping->direction))
        memcpy(mapping->cpu, mapping->bounce, size_t(mapping->pub.size));
}

void dma_sync_for_device(DmaMapping* mapping)
{
    if (mapping && mapping->bounce && copies_in(mapping->direction))
        memcpy(mapping->bounce, mapping->cpu, size_t(mapping->pub.size));
}

void dma_quarantine(Device& device, const char* why)
{
    if (__atomic_exchange_n(&device.dma_quarantined, true, __ATOMIC_ACQ_REL))
        return;
    log_err("%s: its DMA could not be stopped (%s): the memory it was given is kept, never reused", device.name, why);
}

void dma_stats(ResourceStats& stats)
{
    stats.dma_buffers = __atomic_load_n(&g_buffers, __ATOMIC_RELAXED);
    stats.dma_bytes = __atomic_load_n(&g_bytes, __ATOMIC_RELAXED);
    stats.dma_mappings = __atomic_load_n(&g_mappings, __ATOMIC_RELAXED);
    stats.dma_bounced = __atomic_load_n(&g_bounced, __ATOMIC_RELAXED);
    stats.dma_quarantined = __atomic_load_n(&g_quarantined, __ATOMIC_RELAXED);
}

} // namespace keel
