// The x86_64 entry: boot/pvh.S arrives here in long mode on the boot stack.
// Everything the PVH boot protocol says becomes the core's BootInfo; the
// core takes it from there and never learns how it was booted.
#include "arch/acpi.h"
#include "arch/boot.h"
#include "arch/interrupts.h"
#include "arch/irq.h"
#include "arch/serial.h"
#include "boot/boot_info.h"
#include "init/kernel_main.h"
#include "time/clock.h"

namespace keel::arch {

namespace {

BootInfo g_boot_info;

} // namespace

extern "C" [[noreturn]] void pvh_entry(uint64_t start_info_phys)
{
    time::record_boot_cycles();
    serial_init();
    parse_pvh_start_info(start_info_phys, g_boot_info);
    kernel_main(g_boot_info);
}

void cpu_init()
{
    gdt_init();
    idt_init();
}

void platform_init(const BootInfo& boot)
{
    acpi_init(boot.acpi_rsdp_phys);
    // The TSC's calibration window spans the interrupt controllers' setup;
    // the LAPIC timer's opens as soon as there is one (time::clock_init
    // closes both).
    cycle_counter_calibration_begin();
    interrupt_controllers_init();
    lapic_timer_calibration_begin();
}

} // namespace keel::arch
