#include "mm/vmalloc.h"

#include "arch/memory_layout.h"
#include "arch/paging.h"
#include "lib/base/intrusive_list.h"
#include "lib/base/string.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "sync/spinlock.h"

namespace keel {

namespace {

using arch::kPageSize;

struct VmArea {
    uint64_t start;  // first byte, guard page included
    uint64_t size;   // bytes, guard page included
    bool owns_pages; // false for device mappings
    bool held_code;  // mapped executable at some point (vprotect)
    IntrusiveListNode node;
};

// Areas sorted by address; first fit. Module loads and thread creation are
// rare enough that a list is the right tool.
constexpr LockClass kVmallocLockClass { "vmalloc", LockRank::Vmalloc, false };
Spinlock g_lock { kVmallocLockClass };
IntrusiveList<VmArea, &VmArea::node> g_areas GUARDED_BY(g_lock);
size_t g_area_count GUARDED_BY(g_lock) = 0;

Result<VmArea*> reserve(uint64_t size)
{
    VmArea* area = static_cast<VmArea*>(kmalloc(sizeof(VmArea)));
    if (!area)
        return Err(Error::ENOMEM);
    new (area) VmArea { 0, size, true, false, {} };

    SpinlockGuard guard(g_lock);
    uint64_t candidate = arch::kVmallocBase;
    VmArea* before = nullptr;
    for (VmArea& existing : g_areas) {
        if (candidate + size <= existing.start) {
            before = &existing;
            break;
        }
        candidate = existing.start + existing.size;
    }
    if (candidate + size > arch::kVmallocBase + arch::kVmallocSize || candidate + size < candidate) {
        kfree(area);
        return Err(Error::ENOMEM);
    }
    area->start = candidate;
    if (before)
        g_areas.insert_before(*before, *area);
    else
        g_areas.push_back(*area);
    g_area_count++;
    return area;
}

VmArea* find_area(uint64_t address) REQUIRES(g_lock)
{
    for (VmArea& area : g_areas) {
        if (address >= area.start + kPageSize && address < area.start + area.size)
            return &area;
    }
    return nullptr;
}

void release(VmArea* area)
{
    // Under QEMU's TCG every store to a page that still holds translated
    // code is slow until the code on it is all overwritten, so the pages of
    // an area that held code (a module's) go back cold: the allocator hands
    // them out after every other free page, and a module loaded again lands
    // on pages that never held code (docs/performance.md, "Pages that held
    // code"). Last page first, so that they keep their order when they are
    // handed out again.
    for (uint64_t virt = area->start + area->size; (virt -= kPageSize) > area->start;) {
        auto phys = arch::unmap_page(virt);
        if (phys.is_ok() && area->owns_pages) {
            if (area->held_code)
                free_pages_cold(phys.value());
            else
                free_pages(phys.value());
        }
    }
    {
        SpinlockGuard guard(g_lock);
        g_areas.remove(*area);
        g_area_count--;
    }
    kfree(area);
}

Result<void*> allocate(size_t size, unsigned flags, bool zeroed)
{
    if (size == 0)
        return Err(Error::EINVAL);
    uint64_t mapped = align_up<uint64_t>(size, kPageSize);
    VmArea* area = TRY(reserve(mapped + kPageSize));
    for (uint64_t offset = 0; offset < mapped; offset += kPageSize) {
        auto page = alloc_pages(0);
        Result<void> mapping = page.is_ok() ? arch::map_page(area->start + kPageSize + offset, page.value(), flags)
                                            : Result<void>(page.error());
        if (mapping.is_error()) {
            if (page.is_ok())
                free_pages(page.value());
            release(area);
            return Err(mapping.error());
        }
        if (zeroed)
            memset(arch::phys_to_virt(page.value()), 0, kPageSize);
    }
    return reinterpret_cast<void*>(area->start + kPageSize);
}

} // namespace

Result<void*> vmalloc(size_t size, unsigned flags) { return allocate(size, flags, true); }

Result<void*> vmalloc_uninitialized(size_t size, unsigned flags) { return allocate(size, flags, false); }

void vfree(void* address)
{
    if (!address)
        return;
    VmArea* area;
    {
        SpinlockGuard guard(g_lock);
        area = find_area(reinterpret_cast<uint64_t>(address));
    }
    if (!area) {
        log_err("vfree: %p is not a vmalloc area", address);
        return;
    }
    release(area);
}

Result<void> vprotect(void* address, size_t size, unsigned flags)
{
    uint64_t start = align_down(reinterpret_cast<uint64_t>(address), kPageSize);
    uint64_t end = align_up(reinterpret_cast<uint64_t>(address) + size, kPageSize);
    if (flags & arch::kPageExecute) {
        SpinlockGuard guard(g_lock);
        if (VmArea* area = find_area(start))
            area->held_code = true;
    }
    for (uint64_t virt = start; virt < end; virt += kPageSize)
        TRY(arch::protect_page(virt, flags));
    return {};
}

Result<void*> map_mmio(uint64_t phys, size_t size)
{
    uint64_t base = align_down(phys, kPageSize);
    uint64_t mapped = align_up(phys + size, kPageSize) - base;
    VmArea* area = TRY(reserve(mapped + kPageSize));
    area->owns_pages = false;
    for (uint64_t offset = 0; offset < mapped; offset += kPageSize) {
        auto mapping
            = arch::map_page(area->start + kPageSize + offset, base + offset, arch::kPageWrite | arch::kPageUncached);
        if (mapping.is_error()) {
            release(area);
            return Err(mapping.error());
        }
    }
    return reinterpret_cast<void*>(area->start + kPageSize + (phys - base));
}

size_t vmalloc_area_count()
{
    SpinlockGuard guard(g_lock);
    return g_area_count;
}

} // namespace keel
