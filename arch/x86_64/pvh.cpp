// PVH boot protocol: turn the hvm_start_info structure (Xen's public
// arch-x86/hvm/start_info.h layout) into the core's BootInfo. Everything the
// loader hands us is checked: a bogus pointer or count is logged and
// dropped, never followed.
#include "arch/boot.h"
#include "arch/memory_layout.h"
#include "boot/boot_info.h"
#include "lib/base/string.h"

namespace keel::arch {

namespace {

constexpr uint32_t kStartInfoMagic = 0x336ec578;

struct HvmStartInfo {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    // version >= 1
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct HvmModlistEntry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

struct HvmMemmapEntry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

// Only the first GiB is mapped while we read boot data.
bool readable(uint64_t phys, uint64_t size)
{
    return phys != 0 && phys < kBootMappedPhys && size <= kBootMappedPhys - phys;
}

void note_boot_data(BootInfo& info, uint64_t base, uint64_t size)
{
    if (info.boot_data_count < BootInfo::kMaxBootData)
        info.boot_data[info.boot_data_count++] = { base, size };
}

// nullptr, or why the start info is unusable.
const char* parse(uint64_t start_info_phys, BootInfo& info)
{
    if (!readable(start_info_phys, sizeof(HvmStartInfo)))
        return "PVH start_info address outside the boot mapping";
    auto* start = static_cast<const HvmStartInfo*>(phys_to_virt(start_info_phys));
    if (start->magic != kStartInfoMagic)
        return "PVH start_info magic mismatch";
    note_boot_data(info, start_info_phys, sizeof(HvmStartInfo));

    if (start->cmdline_paddr && readable(start->cmdline_paddr, 1)) {
        auto* cmdline = static_cast<const char*>(phys_to_virt(start->cmdline_paddr));
        uint64_t limit = kBootMappedPhys - start->cmdline_paddr;
        size_t i = 0;
        for (; i < BootInfo::kMaxCmdline - 1 && i < limit && cmdline[i]; i++)
            info.cmdline[i] = cmdline[i];
        info.cmdline[i] = '\0';
        info.cmdline_truncated = i == BootInfo::kMaxCmdline - 1 && i < limit && cmdline[i];
    }

    info.acpi_rsdp_phys = start->rsdp_paddr;

    if (start->version >= 1 && start->memmap_entries > 0) {
        uint64_t bytes = uint64_t(start->memmap_entries) * sizeof(HvmMemmapEntry);
        if (!readable(start->memmap_paddr, bytes))
            return "PVH memory map outside the boot mapping";
        note_boot_data(info, start->memmap_paddr, bytes);
        auto* entries = static_cast<const HvmMemmapEntry*>(phys_to_virt(start->memmap_paddr));
        for (uint32_t i = 0; i < start->memmap_entries; i++) {
            const HvmMemmapEntry& entry = entries[i];
            uint64_t end;
            bool bad = entry.size == 0 || __builtin_add_overflow(entry.addr, entry.size, &end) || end > (1ull << 52);
            if (bad || info.region_count == BootInfo::kMaxRegions) {
                info.regions_dropped++;
                continue;
            }
            MemoryType type = entry.type >= 1 && entry.type <= 5 ? MemoryType(entry.type) : MemoryType::Reserved;
            info.regions[info.region_count++] = { entry.addr, entry.size, type };
        }
    }
    if (info.region_count == 0)
        return "no memory map";

    if (start->nr_modules > 0 && readable(start->modlist_paddr, sizeof(HvmModlistEntry))) {
        note_boot_data(info, start->modlist_paddr, sizeof(HvmModlistEntry) * start->nr_modules);
        auto* module = static_cast<const HvmModlistEntry*>(phys_to_virt(start->modlist_paddr));
        uint64_t end;
        if (!__builtin_add_overflow(module->paddr, module->size, &end) && module->paddr != 0) {
            info.has_initrd = true;
            info.initrd_phys = module->paddr;
            info.initrd_size = module->size;
        }
    }
    return nullptr;
}

} // namespace

void parse_pvh_start_info(uint64_t start_info_phys, BootInfo& info)
{
    memset(&info, 0, sizeof(info));
    info.problem = parse(start_info_phys, info);
}

} // namespace keel::arch
