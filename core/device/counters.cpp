// One snapshot of everything a binding or a driver module could leak, for
// the leak tests (devtest cycles, modtest cycles) and lsdev -s.
#include "device/resources.h"
#include "lib/base/format.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "mm/vmalloc.h"

namespace keel {

LeakCounters leak_counters()
{
    LeakCounters counters {};
    counters.free_pages = pmm_stats().free_pages;
    HeapStats heap = heap_stats();
    counters.heap_bytes = heap.bytes_in_use;
    counters.heap_allocations = heap.allocations;
    counters.vmalloc_areas = vmalloc_area_count();
    counters.devices = device_stats();
    counters.resources = resource_stats();
    return counters;
}

bool describe_leaks(const LeakCounters& before, const LeakCounters& after, char* out, size_t size)
{
    struct Field {
        const char* name;
        uint64_t before;
        uint64_t after;
    };
    const Field fields[] = {
        { "free pages", before.free_pages, after.free_pages },
        { "heap bytes", before.heap_bytes, after.heap_bytes },
        { "heap allocations", before.heap_allocations, after.heap_allocations },
        { "vmalloc areas", before.vmalloc_areas, after.vmalloc_areas },
        { "devices", before.devices.devices, after.devices.devices },
        { "bound devices", before.devices.bound, after.devices.bound },
        { "drivers", before.devices.drivers, after.devices.drivers },
        { "binding resources", before.devices.resources, after.devices.resources },
        { "pins", before.devices.pins, after.devices.pins },
        { "irq vectors", before.resources.irq_vectors, after.resources.irq_vectors },
        { "irq handlers", before.resources.irq_handlers, after.resources.irq_handlers },
        { "mmio mappings", before.resources.mmio_mappings, after.resources.mmio_mappings },
        { "dma buffers", before.resources.dma_buffers, after.resources.dma_buffers },
        { "dma bytes", before.resources.dma_bytes, after.resources.dma_bytes },
        { "dma mappings", before.resources.dma_mappings, after.resources.dma_mappings },
        { "work items", before.resources.work_items, after.resources.work_items },
    };
    size_t length = 0;
    out[0] = '\0';
    bool equal = true;
    for (const Field& field : fields) {
        if (field.before == field.after)
            continue;
        equal = false;
        if (length < size)
            length += format(out + length, size - length, "%s%s %llu -> %llu", length ? ", " : "", field.name,
                (unsigned long long)field.before, (unsigned long long)field.after);
    }
    return equal;
}

} // namespace keel
