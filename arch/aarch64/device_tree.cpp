// The device tree the boot loader handed over, into the core's BootInfo
// (RAM less the reserved ranges, the command line, the initramfs) and the
// architecture's platform() (the devices it brings up itself). The blob is
// read by core/lib/fdt, which checks every byte; here only where it may
// lie is checked: inside what the boot page tables map.
#include "arch/memory_layout.h"
#include "boot/boot_info.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/fdt/fdt.h"
#include "lib/fdt/machine.h"
#include "platform.h"

namespace keel::arch {

namespace {

// Linux's limit for a device tree, and ours.
constexpr uint64_t kMaxTreeSize = 2ull << 20;
// RAM below this is not mapped by the boot page tables (boot/head.S).
constexpr uint64_t kBootMappedStart = 1ull << 30;

fdt::Machine g_machine;

// Made on first use, which is before the kernel runs its constructors: a
// Diagnostic's constructor (it empties the message) at namespace scope
// could run after the tree was read and wipe the reason.
Diagnostic& tree_problem()
{
    static Diagnostic problem;
    return problem;
}

void note_boot_data(BootInfo& info, uint64_t base, uint64_t size)
{
    if (info.boot_data_count < BootInfo::kMaxBootData)
        info.boot_data[info.boot_data_count++] = { base, size };
}

void add_region(BootInfo& info, uint64_t base, uint64_t size, MemoryType type)
{
    if (info.region_count == BootInfo::kMaxRegions) {
        info.regions_dropped++;
        return;
    }
    info.regions[info.region_count++] = { base, size, type };
}

// Take [base, end) out of every usable region, splitting where needed.
void carve_out(BootInfo& info, uint64_t base, uint64_t end)
{
    for (size_t i = 0; i < info.region_count; i++) {
        MemoryRegion& region = info.regions[i];
        uint64_t region_end = region.base + region.size;
        if (region.type != MemoryType::Usable || region_end <= base || region.base >= end)
            continue;
        if (region.base < base && region_end > end) {
            region.size = base - region.base;
            add_region(info, end, region_end - end, MemoryType::Usable);
        } else if (region.base < base) {
            region.size = base - region.base;
        } else if (region_end > end) {
            region.size = region_end - end;
            region.base = end;
        } else {
            region.size = 0;
        }
    }
    // Drop what became empty.
    size_t kept = 0;
    for (size_t i = 0; i < info.region_count; i++) {
        if (info.regions[i].size != 0)
            info.regions[kept++] = info.regions[i];
    }
    info.region_count = kept;
}

const char* read(uint64_t fdt_phys, BootInfo& info)
{
    if (fdt_phys < kBootMappedStart || fdt_phys >= kBootMappedPhys || fdt_phys % 8 != 0)
        return "device tree address (x0) missing, misaligned or outside the boot mapping";
    uint64_t readable = min(kBootMappedPhys - fdt_phys, kMaxTreeSize);
    auto blob = fdt::Blob::open(phys_to_virt(fdt_phys), readable, tree_problem());
    if (blob.is_error())
        return tree_problem().message;
    if (fdt::read_machine(blob.value(), g_machine, tree_problem()).is_error())
        return tree_problem().message;
    info.device_tree_phys = fdt_phys;
    note_boot_data(info, fdt_phys, blob.value().total_size());

    if (g_machine.bootargs) {
        size_t length = min(g_machine.bootargs_length, BootInfo::kMaxCmdline - 1);
        memcpy(info.cmdline, g_machine.bootargs, length);
        info.cmdline[length] = '\0';
        info.cmdline_truncated = length < g_machine.bootargs_length;
    }
    for (size_t i = 0; i < g_machine.memory_count; i++)
        add_region(info, g_machine.memory[i].base, g_machine.memory[i].size, MemoryType::Usable);
    if (info.region_count == 0)
        return "device tree: no memory node";
    for (size_t i = 0; i < g_machine.reserved_count; i++) {
        const fdt::Range& range = g_machine.reserved[i];
        // Boot loaders (U-Boot) reserve the initramfs too: the core keeps
        // it and frees it after unpacking, as it does the memory of an
        // initramfs no one reserved.
        if (g_machine.has_initrd && range.base == g_machine.initrd_start
            && range.base + range.size == g_machine.initrd_end)
            continue;
        carve_out(info, range.base, range.base + range.size);
        add_region(info, range.base, range.size, MemoryType::Reserved);
    }
    info.regions_dropped += g_machine.dropped;
    if (g_machine.has_initrd) {
        info.has_initrd = true;
        info.initrd_phys = g_machine.initrd_start;
        info.initrd_size = g_machine.initrd_end - g_machine.initrd_start;
    }
    return nullptr;
}

} // namespace

void read_device_tree(uint64_t fdt_phys, BootInfo& info)
{
    memset(&info, 0, sizeof(info));
    info.problem = read(fdt_phys, info);
}

const fdt::Machine& platform() { return g_machine; }

} // namespace keel::arch
