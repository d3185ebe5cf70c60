// Register mappings owned by a binding: bounded (keel/device.h checks every
// access against `length`) and unmapped by the core when the binding ends.
#include "device/resources.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/vmalloc.h"

namespace keel {

void irq_stats(ResourceStats& stats);
void dma_stats(ResourceStats& stats);
void work_stats(ResourceStats& stats);

namespace {

size_t g_mappings = 0;

void release_mapping(Devres& resource)
{
    auto* mapping = reinterpret_cast<MmioMapping*>(reinterpret_cast<char*>(&resource) - offsetof(MmioMapping, devres));
    vfree(mapping->mapping);
    __atomic_sub_fetch(&g_mappings, 1, __ATOMIC_RELAXED);
    destroy(mapping);
}

} // namespace

Result<MmioMapping*> mmio_map(Device& device, uint32_t region, uint64_t offset, uint64_t length)
{
    if (region >= device.region_count || device.regions[region].length == 0)
        return Err(Error::ENOENT);
    const DeviceRegion& range = device.regions[region];
    if (!(range.flags & KEEL_REGION_MEMORY))
        return Err(Error::EINVAL);
    if (offset >= range.length || (length && length > range.length - offset))
        return Err(Error::EINVAL);
    if (length == 0)
        length = range.length - offset;
    MmioMapping* mapping = TRY(make<MmioMapping>()).leak();
    auto mapped = map_mmio(range.phys + offset, size_t(length));
    if (mapped.is_error()) {
        destroy(mapping);
        return Err(mapped.error());
    }
    mapping->mapping = mapped.value();
    mapping->pub.base = static_cast<uint8_t*>(mapped.value());
    mapping->pub.length = length;
    mapping->device = &device;
    __atomic_add_fetch(&g_mappings, 1, __ATOMIC_RELAXED);
    if (auto added = devres_add(device, mapping->devres, release_mapping, "mmio"); added.is_error()) {
        release_mapping(mapping->devres);
        return Err(added.error());
    }
    return mapping;
}

void mmio_unmap(MmioMapping* mapping)
{
    if (mapping && devres_take(mapping->devres))
        release_mapping(mapping->devres);
}

ResourceStats resource_stats()
{
    ResourceStats stats {};
    irq_stats(stats);
    dma_stats(stats);
    work_stats(stats);
    stats.mmio_mappings = __atomic_load_n(&g_mappings, __ATOMIC_RELAXED);
    return stats;
}

} // namespace keel
