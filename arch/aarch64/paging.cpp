// Kernel page tables: four levels of 4 KiB tables in TTBR1 (the upper
// half); TTBR0's walks are turned off, so the lower half, address 0
// included, faults.
#include "arch/paging.h"

#include "arch/cpu.h"
#include "arch/memory_layout.h"
#include "debug/stress.h"
#include "lib/base/utility.h"
#include "log/log.h"
#include "mm/pmm.h"
#include "platform.h"
#include "sync/spinlock.h"

extern "C" char __text_start[], __text_end[];
extern "C" char __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __data_end[];
extern "C" char __readonly_end[], __bss_region_start[];
extern "C" char __kernel_end[];
extern "C" char boot_stack_guard[];
extern "C" uint64_t keel_fixmap_table[512];

namespace keel::arch {

namespace {

constexpr uint64_t kValid = 1ull << 0;
constexpr uint64_t kTableOrPage = 1ull << 1; // set: table (levels 0-2) or page (level 3); clear: block
constexpr uint64_t kAttrNormal = 0ull << 2;  // MAIR index 0 (boot/head.S)
constexpr uint64_t kAttrDevice = 2ull << 2;  // MAIR index 2: device nGnRE
constexpr uint64_t kAttrMask = 7ull << 2;
constexpr uint64_t kReadOnly = 1ull << 7; // AP[2]
constexpr uint64_t kInnerShareable = 3ull << 8;
constexpr uint64_t kAccessed = 1ull << 10;
constexpr uint64_t kPrivilegedNoExecute = 1ull << 53;
constexpr uint64_t kUnprivilegedNoExecute = 1ull << 54;
constexpr uint64_t kAddressMask = 0x0000fffffffff000ull;
constexpr uint64_t kTcrEpd0 = 1ull << 7;

uint64_t* g_root = nullptr;
// The kernel page tables. A walk that installs a table checks the entry,
// allocates and then writes it: without this lock, two threads mapping into
// the same 2 MiB region could each install a table, and the mappings made
// through the one that was overwritten would be lost.
constexpr LockClass kPageTablesLockClass { "page tables", LockRank::PageTables, false };
Spinlock g_kernel_tables_lock { kPageTablesLockClass };
size_t g_fixmap_used = 0;

uint64_t* table_at(uint64_t entry) { return static_cast<uint64_t*>(phys_to_virt(entry & kAddressMask)); }

// Level 3 is the root (bits 47..39), level 0 the 4 KiB pages.
unsigned index_at(uint64_t virt, unsigned level) { return (virt >> (12 + 9 * level)) & 511; }

uint64_t entry_flags(unsigned flags)
{
    uint64_t bits = kValid | kTableOrPage | kAccessed | kUnprivilegedNoExecute;
    bits |= (flags & kPageUncached) ? kAttrDevice : (kAttrNormal | kInnerShareable);
    if (!(flags & kPageWrite))
        bits |= kReadOnly;
    if (!(flags & kPageExecute) || (flags & kPageUncached))
        bits |= kPrivilegedNoExecute;
    return bits;
}

// The table walker sees descriptors written before this.
void publish() { asm volatile("dsb ishst; isb" ::: "memory"); }

// Drops pages' translations from this CPU's TLB, as x86_64's invlpg
// does: Keel runs on one CPU (no other is started), so the Inner Shareable
// form (`tlbi vaae1is`) would only broadcast to CPUs that are not there.
// Under QEMU's TCG the broadcast form is work run with every vCPU stopped,
// about 0.3 us more per page than the local one; a module's load and unload
// take one per page each (docs/aarch64.md, "Performance"). Starting a
// second CPU means going back to the broadcast forms here. A range gets one
// barrier before, an invalidation per page without waiting for each, and
// one barrier and `isb` after all of them, as Linux's
// flush_tlb_kernel_range does: under TCG every `dsb` and `isb` ends a
// translation block.
void flush_pages(uint64_t virt, size_t count)
{
    asm volatile("dsb nshst" ::: "memory");
    for (size_t i = 0; i < count; i++)
        asm volatile("tlbi vaae1, %0" ::"r"((virt >> 12) + i) : "memory");
    asm volatile("dsb nsh\n"
                 "isb" ::
                     : "memory");
}

// Walk to the entry for `virt` at `level` (0 = 4 KiB page descriptor),
// creating intermediate tables when `create` is set.
Result<uint64_t*> walk(uint64_t virt, unsigned level, bool create)
{
    uint64_t* table = g_root;
    for (unsigned current = 3; current > level; current--) {
        uint64_t& entry = table[index_at(virt, current)];
        if (!(entry & kValid)) {
            if (!create)
                return Err(Error::ENOENT);
            void* page = TRY(alloc_zeroed_page());
            debug::stress_point();
            entry = virt_to_phys_direct(page) | kValid | kTableOrPage;
            publish();
        } else if (!(entry & kTableOrPage)) {
            return Err(Error::EEXIST); // a block
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

volatile void* early_map_device(uint64_t phys)
{
    if (g_fixmap_used == 512)
        return nullptr;
    size_t slot = g_fixmap_used++;
    keel_fixmap_table[slot] = (phys & kAddressMask) | entry_flags(kPageWrite | kPageUncached);
    publish();
    return reinterpret_cast<volatile void*>(kFixmapBase + slot * kPageSize + (phys & (kPageSize - 1)));
}

Result<void> paging_init(uint64_t phys_end)
{
    void* root = TRY(alloc_zeroed_page());
    g_root = static_cast<uint64_t*>(root);

    // The direct map of RAM, in 2 MiB blocks: readable and writable, never
    // executable. Only RAM: device registers between the banks are mapped
    // where a driver asks, with device attributes.
    constexpr uint64_t kBlockSize = 2ull << 20;
    const fdt::Machine& machine = platform();
    for (size_t i = 0; i < machine.memory_count; i++) {
        uint64_t start = align_down(machine.memory[i].base, kBlockSize);
        uint64_t end
            = align_up(min(machine.memory[i].base + machine.memory[i].size, min(phys_end, kDirectMapMax)), kBlockSize);
        for (uint64_t phys = start; phys < end; phys += kBlockSize) {
            uint64_t* entry = TRY(walk(kDirectMapBase + phys, 1, true));
            *entry = phys | kValid | kAccessed | kInnerShareable | kAttrNormal | kPrivilegedNoExecute
                | kUnprivilegedNoExecute;
        }
    }

    // The kernel image, W^X: text RX, data RW, rodata and ksyms R, bss RW
    // (last: arch/aarch64/linker.ld).
    TRY(map_kernel_section(__text_start, __text_end, kPageExecute));
    TRY(map_kernel_section(__data_start, __data_end, kPageWrite));
    TRY(map_kernel_section(__rodata_start, __readonly_end, kPageRead));
    TRY(map_kernel_section(__bss_region_start, __kernel_end, kPageWrite));
    TRY(unmap_page(reinterpret_cast<uint64_t>(boot_stack_guard)));
    // The fixmap keeps its table (and the console UART in it).
    uint64_t* fixmap = TRY(walk(kFixmapBase, 1, true));
    *fixmap = kernel_image_virt_to_phys(reinterpret_cast<uint64_t>(keel_fixmap_table)) | kValid | kTableOrPage;

    publish();
    KEEL_WRITE_SYSREG(ttbr1_el1, virt_to_phys_direct(g_root));
    // Nothing in the lower half any more: the identity map goes.
    KEEL_WRITE_SYSREG(tcr_el1, KEEL_READ_SYSREG(tcr_el1) | kTcrEpd0);
    KEEL_WRITE_SYSREG(ttbr0_el1, 0);
    asm volatile("isb\n"
                 "tlbi vmalle1\n"
                 "dsb ish\n"
                 "isb" ::
                     : "memory");
    return {};
}

Result<void> map_page(uint64_t virt, uint64_t phys, unsigned flags)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t* entry = TRY(walk(virt, 0, true));
    if (*entry & kValid)
        return Err(Error::EEXIST);
    *entry = (phys & kAddressMask) | entry_flags(flags);
    publish();
    return {};
}

Result<uint64_t> unmap_page(uint64_t virt)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t* entry = TRY(walk(virt, 0, false));
    if (!(*entry & kValid))
        return Err(Error::ENOENT);
    uint64_t phys = *entry & kAddressMask;
    *entry = 0;
    flush_pages(virt, 1);
    return phys;
}

Result<void> protect_page(uint64_t virt, unsigned flags)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t* entry = TRY(walk(virt, 0, false));
    if (!(*entry & kValid))
        return Err(Error::ENOENT);
    *entry = (*entry & kAddressMask) | entry_flags(flags);
    flush_pages(virt, 1);
    return {};
}

namespace {

// The level-0 entries of `count` pages from `virt`, one walk per table:
// calls visit(entry, index) for each page, stopping at the first error.
template<typename Visit> Result<void> for_each_entry(uint64_t virt, size_t count, bool create, Visit&& visit)
{
    uint64_t* entry = nullptr;
    for (size_t i = 0; i < count; i++) {
        uint64_t page = virt + i * kPageSize;
        if (!entry || index_at(page, 0) == 0)
            entry = TRY(walk(page, 0, create));
        else
            entry++;
        TRY(visit(*entry, i));
    }
    return {};
}

} // namespace

Result<void> map_pages(uint64_t virt, const uint64_t* phys, size_t count, unsigned flags)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    // Every entry is checked (and its tables made) before any is written.
    TRY(for_each_entry(virt, count, true, [](uint64_t& entry, size_t) -> Result<void> {
        if (entry & kValid)
            return Err(Error::EEXIST);
        return {};
    }));
    uint64_t bits = entry_flags(flags);
    // Cannot fail: the walk above made every table.
    (void)for_each_entry(virt, count, false, [&](uint64_t& entry, size_t i) -> Result<void> {
        entry = (phys[i] & kAddressMask) | bits;
        return {};
    });
    // The entries were invalid, so no TLB holds them: a barrier suffices.
    publish();
    return {};
}

void unmap_pages(uint64_t virt, size_t count, uint64_t* phys)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    for (size_t i = 0; i < count; i++)
        phys[i] = 0;
    // A page without a table has nothing mapped: skip to the next one.
    for (size_t i = 0; i < count;) {
        size_t done = i;
        (void)for_each_entry(virt + i * kPageSize, count - i, false, [&](uint64_t& entry, size_t k) -> Result<void> {
            done = i + k + 1;
            if (entry & kValid) {
                phys[i + k] = entry & kAddressMask;
                entry = 0;
            }
            return {};
        });
        i = done == i ? i + 1 : done;
    }
    flush_pages(virt, count);
}

Result<void> protect_pages(uint64_t virt, size_t count, unsigned flags)
{
    SpinlockGuard guard(g_kernel_tables_lock);
    uint64_t bits = entry_flags(flags);
    size_t changed = 0;
    auto result = for_each_entry(virt, count, false, [&](uint64_t& entry, size_t) -> Result<void> {
        if (!(entry & kValid))
            return Err(Error::ENOENT);
        entry = (entry & kAddressMask) | bits;
        changed++;
        return {};
    });
    flush_pages(virt, changed);
    return result;
}

bool translate(uint64_t virt, uint64_t& phys, unsigned& flags)
{
    if (!g_root)
        return false;
    uint64_t* table = g_root;
    for (unsigned level = 3;; level--) {
        uint64_t entry = table[index_at(virt, level)];
        if (!(entry & kValid))
            return false;
        if (level == 0 || !(entry & kTableOrPage)) {
            uint64_t page_size = 1ull << (12 + 9 * level);
            phys = (entry & kAddressMask & ~(page_size - 1)) | (virt & (page_size - 1));
            flags = ((entry & kReadOnly) ? 0 : kPageWrite) | ((entry & kPrivilegedNoExecute) ? 0 : kPageExecute)
                | ((entry & kAttrMask) != kAttrNormal ? kPageUncached : 0);
            return true;
        }
        table = table_at(entry);
    }
}

// New code becomes visible to instruction fetch: its data cleaned to the
// point of unification line by line, then the instruction caches
// invalidated. The latter is one `ic ialluis` rather than an `ic ivau` per
// line: a module's code is written once per load, and under QEMU's TCG each
// cache-maintenance instruction is a helper call (an access check) while
// the invalidation itself does nothing, so the per-line loop doubled the
// cost of the maintenance (docs/aarch64.md, "Performance"). With CTR_EL0.IDC
// or DIC set, the clean or the invalidation is not needed at all.
void sync_instruction_cache(const void* start, size_t size)
{
    constexpr uint64_t kCtrIdc = 1ull << 28; // no clean needed for I/D coherence
    constexpr uint64_t kCtrDic = 1ull << 29; // no invalidation needed
    uint64_t ctr = KEEL_READ_SYSREG(ctr_el0);
    if (!(ctr & kCtrIdc)) {
        uint64_t dline = 4ull << ((ctr >> 16) & 0xf);
        uint64_t begin = reinterpret_cast<uint64_t>(start);
        uint64_t end = begin + size;
        for (uint64_t line = begin & ~(dline - 1); line < end; line += dline)
            asm volatile("dc cvau, %0" ::"r"(line) : "memory");
    }
    asm volatile("dsb ish" ::: "memory");
    if (!(ctr & kCtrDic))
        asm volatile("ic ialluis\n"
                     "dsb ish" ::
                         : "memory");
    asm volatile("isb" ::: "memory");
}

} // namespace keel::arch
