// What the boot loader told us, in the core's own terms. The architecture's
// entry fills it in from its boot protocol before memory management exists,
// so it is a plain fixed-size structure; the core never sees the protocol.
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

    // Firmware tables: the ACPI root pointer, or a flattened device tree
    // (0 when there is none).
    uint64_t acpi_rsdp_phys;
    uint64_t device_tree_phys;

    struct {
        uint64_t base, size;
    } boot_data[kMaxBootData];
    size_t boot_data_count;

    // nullptr, or why what the boot loader handed over is unusable (the
    // core panics with it once the command line has set the log level).
    const char* problem;
};

const char* memory_type_name(MemoryType type);

} // namespace keel
