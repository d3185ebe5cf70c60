// kernel_main: bring the core up in dependency order, then become the idle
// thread while the monitor runs.
#include "arch/acpi.h"
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "arch/irq.h"
#include "arch/memory_layout.h"
#include "arch/paging.h"
#include "arch/serial.h"
#include "boot/boot_info.h"
#include "boot/initramfs.h"
#include "boot/params.h"
#include "console/console.h"
#include "debug/panic.h"
#include "debug/selftest.h"
#include "init/root.h"
#include "lib/base/format.h"
#include "loader/keyring.h"
#include "loader/loader.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "sched/thread.h"
#include "time/clock.h"

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace keel {

namespace arch {
bool parse_pvh_start_info(uint64_t start_info_phys, BootInfo& info, const char*& problem);
}

namespace {

constexpr unsigned kTickHz = 1000;
BootInfo g_boot_info;

// Boot stages timed with the raw TSC (the clock is calibrated only midway),
// reported once it is: "boot: stages ..." in dmesg, read by scripts/bench.
struct StageMark {
    const char* name;
    uint64_t cycles;
};
StageMark g_stage_marks[16];
size_t g_stage_count = 0;

void mark_stage(const char* name)
{
    if (g_stage_count < 16)
        g_stage_marks[g_stage_count++] = { name, time::cycles() };
}

void log_stage_times()
{
    uint64_t rate = time::cycles_per_second();
    if (rate == 0)
        return;
    char line[256];
    size_t length = format(line, sizeof(line), "boot: stages (us):");
    uint64_t previous = time::boot_cycles();
    for (size_t i = 0; i < g_stage_count && length < sizeof(line); i++) {
        uint64_t us = (g_stage_marks[i].cycles - previous) * 1000 / (rate / 1000);
        length
            += format(line + length, sizeof(line) - length, " %s %llu", g_stage_marks[i].name, (unsigned long long)us);
        previous = g_stage_marks[i].cycles;
    }
    log_info("%s", line);
}

void run_constructors()
{
    for (auto* constructor = __init_array_start; constructor != __init_array_end; constructor++)
        (*constructor)();
}

void timer_tick(arch::InterruptFrame&)
{
    scheduler_tick(time::monotonic_ns());
    arch::end_of_interrupt();
    preempt_if_needed();
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

void log_memory_map(const BootInfo& boot)
{
    for (size_t i = 0; i < boot.region_count; i++) {
        const MemoryRegion& region = boot.regions[i];
        log_info("BIOS-e820: [mem 0x%016llx-0x%016llx] %s", (unsigned long long)region.base,
            (unsigned long long)(region.base + region.size - 1), memory_type_name(region.type));
    }
    if (boot.regions_dropped)
        log_err("boot: %zu malformed or excess memory map entries ignored", boot.regions_dropped);
}

void report_initramfs(const BootInfo& boot)
{
    if (!boot.has_initrd)
        log_warn("initramfs: none given (no -initrd); only built-in features are available");
    else if (boot.initrd_size == 0)
        log_err("initramfs: the archive is empty (zero length); ignored");
    else {
        log_info("initramfs: %llu bytes at %#llx", (unsigned long long)boot.initrd_size,
            (unsigned long long)boot.initrd_phys);
        set_initramfs_image(
            { static_cast<const uint8_t*>(arch::phys_to_virt(boot.initrd_phys)), size_t(boot.initrd_size) });
    }
}

void print_boot_time()
{
    uint64_t rate = time::cycles_per_second();
    uint64_t cycles = time::cycles() - time::boot_cycles();
    uint64_t us = rate ? cycles * 1000 / (rate / 1000) : 0;
    log_info("boot: core up in %llu us (TSC)", (unsigned long long)us);
}

} // namespace

extern "C" [[noreturn]] void kernel_main(uint64_t start_info_phys)
{
    time::record_boot_cycles();
    arch::serial_init();
    run_constructors();

    // The command line first, so that loglevel= governs every message.
    const char* problem = nullptr;
    bool boot_info_ok = arch::parse_pvh_start_info(start_info_phys, g_boot_info, problem);
    parse_kernel_params(g_boot_info.cmdline);
    log_info("Keel 0.1.0 (x86_64) booting");
    if (!boot_info_ok)
        panic("boot: unusable PVH start info: %s", problem);
    set_panic_timeout(kernel_params().panic);
    log_info("Command line: %s", saved_command_line());
    if (g_boot_info.cmdline_truncated)
        log_err("cmdline: longer than %zu bytes; truncated", BootInfo::kMaxCmdline - 1);
    apply_memmap_parameter(g_boot_info);
    log_memory_map(g_boot_info);

    arch::gdt_init();
    arch::idt_init();
    mark_stage("early");

    if (auto result = pmm_init(g_boot_info, arch::kBootMappedPhys); result.is_error())
        panic("pmm: cannot set up physical memory (%s)", error_name(result.error()));
    mark_stage("pmm");
    if (auto result = arch::paging_init(physical_end(g_boot_info)); result.is_error())
        panic("paging: cannot build the kernel page tables (%s)", error_name(result.error()));
    pmm_add_high_memory();
    heap_init();
    mark_stage("paging");

    arch::acpi_init(g_boot_info.rsdp_phys);
    arch::interrupt_controllers_init();
    mark_stage("acpi+apic");
    time::clock_init();
    mark_stage("clock");
    scheduler_init();
    arch::timer_start(kTickHz, time::cycles_per_second(), timer_tick);
    arch::irq_enable();
    mark_stage("timer");

    report_initramfs(g_boot_info);
    keyring_init();
    loader_init();
    vfs_boot(g_boot_info);
    load_boot_modules(kernel_params().modules_load);
    run_boot_test_hooks();
    log_stage_times();
    print_boot_time();
    console_start();

    // The boot thread is now the idle thread.
    for (;;) {
        arch::enable_irqs_and_halt();
        thread_yield();
    }
}

} // namespace keel
