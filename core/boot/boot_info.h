// What the boot protocol told us, in the core's own terms. The arch code
// fills it in from its boot protocol (PVH on x86_64) before memory
// management exists, so it is a plain fixed-size structure.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

enum class MemoryType : uint32_t {
    Usable = 1,
    Reserved = 2,
    AcpiReclaimable = 3,
    AcpiNvs = 4,
    Unusable = 5,
};

struct MemoryRegion {
    uint64_t base;
    uint64_t size;
    MemoryType type;
};

struct BootInfo {
    static constexpr size_t kMaxRegions = 128;
    static constexpr size_t kMaxCmdline = 4096;
    // Physical ranges the boot protocol's own data occupies; reserved until
    // the kernel has copied what it needs.
    static constexpr size_t kMaxBootData = 8;

    char cmdline[kMaxCmdline];
    bool cmdline_truncated;

    MemoryRegion regions[kMaxRegions];
    size_t region_count;
    size_t regions_dropped; // entries past kMaxRegions or malformed ones

    uint64_t initrd_phys;
    uint64_t initrd_size;
    bool has_initrd;

    uint64_t rsdp_phys;

    struct {
        uint64_t base, size;
    } boot_data[kMaxBootData];
    size_t boot_data_count;
};

const char* memory_type_name(MemoryType type);
// Apply `memmap=` from the command line to the memory map.
void apply_memmap_parameter(BootInfo& boot);

} // namespace keel
