// The boot memory map: logging it, its end, and Linux's `memmap=nn[KMG]$ss[KMG]`, which
// marks a physical range reserved so the kernel never allocates it.
#include "init/memory_map.h"

#include "arch/memory_layout.h"
#include "boot/boot_info.h"
#include "boot/params.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "mm/pmm.h"

namespace keel {

namespace {

// Physical addresses on x86_64 are at most 52 bits.
constexpr uint64_t kMaxPhysical = 1ull << 52;
// Memory below the boot mapping that memmap= must leave to the page
// allocator: the boot itself takes well under 1 MiB, threads, the heap
// and the root tmpfs need room to start.
constexpr uint64_t kMinBootMemory = 16ull << 20;

// "64M", "0x1000", "2G": a size with an optional K/M/G/T suffix.
bool parse_size(const char*& cursor, uint64_t& value)
{
    const char* start = cursor;
    const char* end = start;
    bool hex = end[0] == '0' && (end[1] == 'x' || end[1] == 'X');
    if (hex)
        end += 2;
    while ((*end >= '0' && *end <= '9') || (hex && ((*end >= 'a' && *end <= 'f') || (*end >= 'A' && *end <= 'F'))))
        end++;
    auto number = parse_uint(start, size_t(end - start));
    if (number.is_error())
        return false;
    value = number.value();
    unsigned shift = 0;
    switch (*end) {
    case 'K':
    case 'k':
        shift = 10;
        end++;
        break;
    case 'M':
    case 'm':
        shift = 20;
        end++;
        break;
    case 'G':
    case 'g':
        shift = 30;
        end++;
        break;
    case 'T':
    case 't':
        shift = 40;
        end++;
        break;
    default: break;
    }
    if (shift && value > (~0ull >> shift))
        return false;
    value <<= shift;
    cursor = end;
    return true;
}

// Remove [base, end) from every usable region, splitting where needed,
// and record the range as reserved. False when the map has no room for a
// split (`boot` is then half changed: callers work on a copy).
bool carve_out(BootInfo& boot, uint64_t base, uint64_t end)
{
    for (size_t i = 0; i < boot.region_count; i++) {
        MemoryRegion& region = boot.regions[i];
        uint64_t region_end = region.base + region.size;
        if (region.type != MemoryType::Usable || region_end <= base || region.base >= end)
            continue;
        if (region.base < base && region_end > end) {
            if (boot.region_count == BootInfo::kMaxRegions)
                return false;
            boot.regions[boot.region_count++] = { end, region_end - end, MemoryType::Usable };
            region.size = base - region.base;
        } else if (region.base < base) {
            region.size = base - region.base;
        } else if (region_end > end) {
            region.size = region_end - end;
            region.base = end;
        } else {
            region.type = MemoryType::Reserved;
        }
    }
    // The reserved entry only documents the range (it is no longer
    // usable either way), so a full map just goes without it.
    if (boot.region_count < BootInfo::kMaxRegions)
        boot.regions[boot.region_count++] = { base, end - base, MemoryType::Reserved };
    return true;
}

// What the page allocator would have to boot with.
uint64_t boot_memory(const BootInfo& boot)
{
    PhysicalReservations reserved;
    auto layout = plan_pmm_layout(boot, arch::kBootMappedPhys, kernel_image_range(), reserved);
    return layout.is_ok() ? layout.value().free_below_limit : 0;
}

// A scratch map for trying a reservation: BootInfo is too big for the
// boot stack, and the boot is single-threaded here.
BootInfo g_trial;

} // namespace

const char* memory_type_name(MemoryType type)
{
    switch (type) {
    case MemoryType::Usable: return "usable";
    case MemoryType::Reserved: return "reserved";
    case MemoryType::AcpiReclaimable: return "ACPI data";
    case MemoryType::AcpiNvs: return "ACPI NVS";
    case MemoryType::Unusable: return "unusable";
    }
    return "unknown";
}

bool apply_memmap(BootInfo& boot, const char* text)
{
    const char* cursor = text;
    uint64_t size = 0, base = 0, end = 0;
    if (!parse_size(cursor, size) || *cursor != '$') {
        log_err("memmap=%s: expected nn[KMG]$ss[KMG]; ignored", text);
        return false;
    }
    cursor++;
    if (!parse_size(cursor, base) || *cursor != '\0') {
        log_err("memmap=%s: bad start address; ignored", text);
        return false;
    }
    if (size == 0 || __builtin_add_overflow(base, size, &end) || end > kMaxPhysical) {
        log_err("memmap=%s: range %#llx+%#llx is outside physical memory; ignored", text, (unsigned long long)base,
            (unsigned long long)size);
        return false;
    }
    g_trial = boot;
    if (!carve_out(g_trial, base, end)) {
        log_err("memmap=%s: the memory map has no room to split a region (%zu entries); ignored", text,
            BootInfo::kMaxRegions);
        return false;
    }
    // Never reserve the memory the kernel needs to boot: with less than
    // this (or less than the machine had) left, the boot could not go on.
    uint64_t before = boot_memory(boot);
    uint64_t after = boot_memory(g_trial);
    if (after < min(before, kMinBootMemory)) {
        log_err("memmap=%s: would leave %llu KiB of memory to boot with (at least %llu KiB needed); ignored", text,
            (unsigned long long)(after >> 10), (unsigned long long)(min(before, kMinBootMemory) >> 10));
        return false;
    }
    boot = g_trial;
    log_info("memmap: reserved [mem 0x%016llx-0x%016llx]", (unsigned long long)base, (unsigned long long)(end - 1));
    return true;
}

void apply_memmap_parameter(BootInfo& boot)
{
    const CmdlineValues& entries = kernel_params().memmap;
    for (size_t i = 0; i < entries.count; i++)
        apply_memmap(boot, entries.values[i]);
}

void log_memory_map(const BootInfo& boot)
{
    for (size_t i = 0; i < boot.region_count; i++) {
        const MemoryRegion& region = boot.regions[i];
        log_info("memory: [mem 0x%016llx-0x%016llx] %s", (unsigned long long)region.base,
            (unsigned long long)(region.base + region.size - 1), memory_type_name(region.type));
    }
    if (boot.regions_dropped)
        log_err("boot: %zu malformed or excess memory map entries ignored", boot.regions_dropped);
}

uint64_t physical_end(const BootInfo& boot)
{
    uint64_t end = 0;
    for (size_t i = 0; i < boot.region_count; i++) {
        const MemoryRegion& region = boot.regions[i];
        bool ram = region.type == MemoryType::Usable || region.type == MemoryType::AcpiReclaimable
            || region.type == MemoryType::AcpiNvs;
        if (ram && region.base + region.size > end)
            end = region.base + region.size;
    }
    return end;
}

} // namespace keel
