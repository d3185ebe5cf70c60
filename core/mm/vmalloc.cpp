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

// Pages are mapped and unmapped this many at a time: one walk to their
// table and one round of barriers and TLB maintenance per batch.
constexpr size_t kBatchPages = 32;

void release(VmArea* area)
{
    // Under QEMU's TCG every store to a page that still holds translated
    // code is slow until the code on it is all overwritten, so the pages of
    // an area that held code (a module's) go back cold: the allocator hands
    // them out after every other free page, and a module loaded again lands
    // on pages that never held code (docs/performance.md, "Pages that held
    // code"). Last page first, so that they keep their order when they are
    // handed out again.
    uint64_t first = area->start + kPageSize;
    size_t pages = (area->size - kPageSize) / kPageSize;
    while (pages > 0) {
        size_t count = pages < kBatchPages ? pages : kBatchPages;
        pages -= count;
        uint64_t phys[kBatchPages];
        arch::unmap_pages(first + pages * kPageSize, count, phys);
        for (size_t i = count; i-- > 0;) {
            if (phys[i] == 0 || !area->owns_pages)
                continue;
            if (area->held_code)
                free_pages_cold(phys[i]);
            else
                free_pages(phys[i]);
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
    uint64_t first = area->start + kPageSize;
    size_t pages = mapped / kPageSize;
    for (size_t done = 0; done < pages;) {
        size_t count = pages - done < kBatchPages ? pages - done : kBatchPages;
        uint64_t phys[kBatchPages];
        size_t allocated = 0;
        Result<void> mapping {};
        for (; allocated < count; allocated++) {
            auto page = alloc_pages(0);
            if (page.is_error()) {
                mapping = Err(page.error());
                break;
            }
            phys[allocated] = page.value();
        }
        if (mapping.is_ok())
            mapping = arch::map_pages(first + done * kPageSize, phys, count, flags);
        if (mapping.is_error()) {
            // map_pages maps nothing when it fails: this batch's pages are ours to free.
            for (size_t i = 0; i < allocated; i++)
                free_pages(phys[i]);
            release(area);
            return Err(mapping.error());
        }
        if (zeroed) {
            for (size_t i = 0; i < count; i++)
                memset(arch::phys_to_virt(phys[i]), 0, kPageSize);
        }
        done += count;
    }
    return reinterpret_cast<void*>(first);
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
    return arch::protect_pages(start, (end - start) / kPageSize, flags);
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
