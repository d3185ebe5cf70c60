// Fuzzes the kernel's whole command line: the real parameter table
// (core/init/params.cpp) and memmap= applied to a memory map
// (core/init/memory_map.cpp). Whatever the line says, every parameter
// must end up with its default or a value inside its limits, and no
// reservation may leave the kernel without the memory it boots with.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "arch/memory_layout.h"
#include "boot/boot_info.h"
#include "boot/params.h"
#include "init/memory_map.h"
#include "mm/pmm.h"

using namespace keel;

extern std::string g_fuzz_log;

namespace {

void require(bool condition)
{
    if (!condition)
        abort();
}

// QEMU q35 with 256 MiB, as the boot tests run; `extra` small usable
// regions fill the map towards its 128 entries, so a split finds no room.
void sample_map(BootInfo& boot, size_t extra)
{
    memset(&boot, 0, sizeof(boot));
    boot.regions[boot.region_count++] = { 0, 0x9fc00, MemoryType::Usable };
    boot.regions[boot.region_count++] = { 0x9fc00, 0x400, MemoryType::Reserved };
    boot.regions[boot.region_count++] = { 0xf0000, 0x10000, MemoryType::Reserved };
    boot.regions[boot.region_count++] = { 0x100000, 0xfee0000, MemoryType::Usable };
    boot.regions[boot.region_count++] = { 0xfffc0000, 0x40000, MemoryType::Reserved };
    for (size_t i = 0; i < extra && boot.region_count < BootInfo::kMaxRegions; i++)
        boot.regions[boot.region_count++] = { 0x100000000ull + i * 0x200000, 0x100000, MemoryType::Usable };
    boot.has_initrd = true;
    boot.initrd_phys = 0xf000000;
    boot.initrd_size = 0x200000;
}

uint64_t boot_memory(const BootInfo& boot)
{
    PhysicalReservations reserved;
    auto layout = plan_pmm_layout(boot, arch::kBootMappedPhys, kernel_image_range(), reserved);
    return layout.is_ok() ? layout.value().free_below_limit : 0;
}

// Module names or absolute paths, 1 to 55 bytes each.
bool is_module_list(const char* text)
{
    const char* item = text;
    for (const char* p = text;; ++p) {
        if (*p != ',' && *p != '\0')
            continue;
        size_t length = size_t(p - item);
        if (length == 0 || length > 55)
            return false;
        for (const char* c = item; item[0] != '/' && c < p; ++c) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                return false;
        }
        if (*p == '\0')
            return true;
        item = p + 1;
    }
}

void check_list(const CmdlineValues& list)
{
    require(list.count <= CmdlineValues::kCapacity);
    for (size_t i = 0; i < list.count; i++)
        require(list.values[i] && list.values[i][0] != '\0');
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 8192)
        return 0;
    g_fuzz_log.clear();
    std::vector<char> line(data, data + size);
    line.push_back('\0');
    KernelParams params;
    read_kernel_params(line.data(), params);

    require(params.loglevel == -1 || (params.loglevel >= 0 && params.loglevel <= 15));
    require(params.panic >= INT32_MIN && params.panic <= INT32_MAX);
    for (const char* path : { params.rdinit, params.init })
        require(!path || (path[0] == '/' && strlen(path) < 256));
    for (const char* text : { params.test_fault, params.initramfs_options })
        require(!text || text[0] != '\0');
    check_list(params.memmap);
    check_list(params.modules_load);
    check_list(params.module_keys);
    for (size_t i = 0; i < params.module_keys.count; i++)
        require(!strstr(params.module_keys.values[i], ",,") && params.module_keys.values[i][0] != ',');
    for (size_t i = 0; i < params.modules_load.count; i++)
        require(is_module_list(params.modules_load.values[i]));

    static BootInfo boot;
    sample_map(boot, size ? data[0] % 4 == 0 ? BootInfo::kMaxRegions : data[0] % 4 : 0);
    uint64_t before = boot_memory(boot);
    for (size_t i = 0; i < params.memmap.count; i++) {
        uint64_t was = boot_memory(boot);
        bool applied = apply_memmap(boot, params.memmap.values[i]);
        uint64_t now = boot_memory(boot);
        require(applied || now == was); // refused: the map is unchanged
        require(now >= (before < (16ull << 20) ? before : 16ull << 20));
        require(boot.region_count <= BootInfo::kMaxRegions);
        for (size_t r = 0; r < boot.region_count; r++) {
            uint64_t end;
            require(!__builtin_add_overflow(boot.regions[r].base, boot.regions[r].size, &end));
        }
    }
    (void)physical_end(boot);
    log_memory_map(boot);
    return 0;
}
