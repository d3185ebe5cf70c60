#include "arch/paging.h"

#include "arch/cpu.h"
#include "arch/memory_layout.h"
#include "debug/stress.h"
#include "lib/base/utility.h"
#include "log/log.h"
#include "mm/pmm.h"
#include "sync/spinlock.h"

extern "C" char __text_start[], __text_end[];
extern "C" char __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __data_end[];
extern "C" char __kernel_end[];
extern "C" char boot_stack_guard[];

namespace keel::arch {

namespace {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kWriteThrough = 1ull << 3;
constexpr uint64_t kCacheDisable = 1ull << 4;
constexpr uint64_t kHuge = 1ull << 7;
constexpr uint64_t kGlobal = 1ull << 8;
constexpr uint64_t kNoExecute = 1ull << 63;
constexpr uint64_t kAddressMask = 0x000ffffffffff000ull;
constexpr uint64_t kTableFlags = kPresent | kWritable;

uint64_t* g_pml4 = nullptr;
// The kernel page tables. A walk that installs a table checks the entry,
// allocates and then writes it: without this lock, two threads mapping into
// the same 2 MiB region could each install a table, and the mappings made
// through the one that was overwritten would be lost.
constexpr LockClass kPageTablesLockClass { "page tables", LockRank::PageTables, false };
Spinlock g_kernel_tables_lock { kPageTablesLockClass };

uint64_t* table_at(uint64_t entry) { return static_cast<uint64_t*>(phys_to_virt(entry & kAddressMask)); }

unsigned index_at(uint64_t virt, unsigned level) { return (virt >> (12 + 9 * level)) & 511; }

uint64_t entry_flags(unsigned flags)
{
    uint64_t bits = kPresent | kGlobal;
    if (flags & kPageWrite)
        bits |= kWritable;
    if (!(flags & kPageExecute))
        bits |= kNoExecute;
    if (flags & kPageUncached)
        bits |= kCacheDisable | kWriteThrough;
    return bits;
}

// Walk to the entry for `virt` at `level` (0 = 4 KiB page table entry),
// creating intermediate tables when `create` is set.
Result<uint64_t*> walk(uint64_t virt, unsigned level, bool create)
{
    uint64_t* table = g_pml4;
    for (unsigned current = 3; current > level; current--) {
        uint64_t& entry = table[index_at(virt, current)];
        if (!(entry & kPresent)) {
            if (!create)
                return Err(Error::ENOENT);
            void* page = TRY(alloc_zeroed_page());
            debug::stress_point();
            entry = virt_to_phys_direct(page) | kTableFlags;
        } else if (entry & kHuge) {
            return Err(Error::EEXIST);
        }
        table = table_at(entry);
    }
    return &table[index_at(virt, level)];
}

Result<void> map_range(uint64_t virt, uint64_t phys, uint64_t size, unsigned flags)
{
    for (uint64_t offset = 0; offset < size; offset += kPageSize)
        TRY(map_page(virt + offset, phys + offset, flags));
    return {};
}

Result<void> map_kernel_section(const char* start, const char* end, unsigned flags)
{
    uint64_t virt = align_down(reinterpret_cast<uint64_t>(start), kPageSize);
    uint64_t virt_end = align_up(reinterpret_cast<uint64_t>(end), kPageSize);
    return map_range(virt, kernel_image_virt_to_phys(virt), virt_end - virt, flags);
}

} // namespace

Result<void> paging_init(uint64_t phys_end)
{
    void* root = TRY(alloc_zeroed_page());
    g_pml4 = static_cast<uint64_t*>(root);

    // The direct map, in 2 MiB pages: readable and writable, never executable.
    constexpr uint64_t kHugeSize = 2ull << 20;
    uint64_t direct_end = align_up(min(phys_end, kDirectMapMax), kHugeSize);
    for (uint64_t phys = 0; phys < direct_end; phys += kHugeSize) {
        uint64_t* entry = TRY(walk(kDirectMapBase + phys, 1, true));
        *entry = phys | kPresent | kWritable | kGlobal | kNoExecute | kHuge;
    }

    // The kernel image, W^X: text RX, data and bss RW, rodata and ksyms R.
    TRY(map_kernel_section(__text_start, __text_end, kPageExecute));
    TRY(map_kernel_section(__data_start, __data_end, kPageWrite));
    // Read-only data and then the symbol table, in one segment.
    TRY(map_kernel_section(__rodata_start, __kernel_end, kPageRead));
    TRY(unmap_page(reinterpret_cast<uint64_t>(boot_stack_guard)));

    write_cr3(virt_to_phys_direct(g_pml4));
    return {};
}

Result<void> map_page(uint64_t virt, uint64_t phys, unsigned flags)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t* entry = TRY(walk(virt, 0, true));
    if (*entry & kPresent)
        return Err(Error::EEXIST);
    *entry = (phys & kAddressMask) | entry_flags(flags);
    return {};
}

Result<uint64_t> unmap_page(uint64_t virt)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t* entry = TRY(walk(virt, 0, false));
    if (!(*entry & kPresent))
        return Err(Error::ENOENT);
    uint64_t phys = *entry & kAddressMask;
    *entry = 0;
    invlpg(virt);
    return phys;
}

Result<void> protect_page(uint64_t virt, unsigned flags)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t* entry = TRY(walk(virt, 0, false));
    if (!(*entry & kPresent))
        return Err(Error::ENOENT);
    *entry = (*entry & kAddressMask) | entry_flags(flags);
    invlpg(virt);
    return {};
}

// x86_64 has nothing to batch (invlpg needs no barrier): the ranges are
// the single-page calls in turn.
Result<void> map_pages(uint64_t virt, const uint64_t* phys, size_t count, unsigned flags)
{
    for (size_t i = 0; i < count; i++) {
        auto mapped = map_page(virt + i * kPageSize, phys[i], flags);
        if (mapped.is_error()) {
            for (size_t k = 0; k < i; k++)
                (void)unmap_page(virt + k * kPageSize);
            return mapped;
        }
    }
    return {};
}

void unmap_pages(uint64_t virt, size_t count, uint64_t* phys)
{
    for (size_t i = 0; i < count; i++) {
        auto unmapped = unmap_page(virt + i * kPageSize);
        phys[i] = unmapped.is_ok() ? unmapped.value() : 0;
    }
}

Result<void> protect_pages(uint64_t virt, size_t count, unsigned flags)
{
    for (size_t i = 0; i < count; i++)
        TRY(protect_page(virt + i * kPageSize, flags));
    return {};
}

bool translate(uint64_t virt, uint64_t& phys, unsigned& flags)
{
    uint64_t* table = g_pml4;
    for (unsigned level = 3;; level--) {
        uint64_t entry = table[index_at(virt, level)];
        if (!(entry & kPresent))
            return false;
        if (level == 0 || (entry & kHuge)) {
            uint64_t page_size = 1ull << (12 + 9 * level);
            phys = (entry & kAddressMask & ~(page_size - 1)) | (virt & (page_size - 1));
            flags = ((entry & kWritable) ? kPageWrite : 0) | ((entry & kNoExecute) ? 0 : kPageExecute)
                | ((entry & kCacheDisable) ? kPageUncached : 0);
            return true;
        }
        table = table_at(entry);
    }
}

} // namespace keel::arch
