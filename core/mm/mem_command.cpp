#include "console/console.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "mm/vmalloc.h"

namespace keel {

namespace {

int mem_command(int, char**)
{
    MemoryStats stats = pmm_stats();
    HeapStats heap = heap_stats();
    size_t used = stats.total_pages - stats.free_pages;
    console_print("pages: total %zu free %zu used %zu reserved %zu (4 KiB each)\n", stats.total_pages, stats.free_pages,
        used, stats.reserved_pages);
    console_print(
        "memory: total %zu KiB free %zu KiB used %zu KiB\n", stats.total_pages * 4, stats.free_pages * 4, used * 4);
    console_print("heap: %zu bytes in %zu allocations; vmalloc areas: %zu\n", heap.bytes_in_use, heap.allocations,
        vmalloc_area_count());
    return 0;
}

} // namespace

KEEL_CONSOLE_COMMAND(mem, "mem", "", "free and used physical pages, heap use", mem_command);

} // namespace keel
