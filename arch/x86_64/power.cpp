#include "arch/power.h"

#include "arch/cpu.h"

namespace keel::arch {

namespace {

constexpr uint16_t kDebugExitPort = 0xf4;
AcpiPowerInfo g_acpi;

} // namespace

void set_acpi_power_info(const AcpiPowerInfo& info) { g_acpi = info; }

void poweroff(int code)
{
    irq_disable();
    // Harmless where the device is absent; ends QEMU with our code where not.
    outl(kDebugExitPort, uint32_t(code) & 0x7f);
    if (g_acpi.s5_valid) {
        constexpr uint16_t kSleepEnable = 1 << 13;
        outw(g_acpi.pm1a_control, uint16_t((g_acpi.slp_typ_a << 10) | kSleepEnable));
        if (g_acpi.pm1b_control)
            outw(g_acpi.pm1b_control, uint16_t((g_acpi.slp_typ_b << 10) | kSleepEnable));
    }
    halt_forever();
}

void reboot()
{
    irq_disable();
    if (g_acpi.reset_valid && g_acpi.reset_space == 1)
        outb(uint16_t(g_acpi.reset_address), g_acpi.reset_value);
    // PCI reset control register, then the keyboard controller's reset line.
    outb(0xcf9, 0x02);
    outb(0xcf9, 0x06);
    for (int spins = 0; spins < 100000 && (inb(0x64) & 0x02); spins++)
        cpu_relax();
    outb(0x64, 0xfe);
    // Last resort: a triple fault (an empty IDT and an exception).
    struct [[gnu::packed]] {
        uint16_t limit;
        uint64_t base;
    } empty_idt { 0, 0 };
    asm volatile("lidt %0; int3" ::"m"(empty_idt));
    halt_forever();
}

} // namespace keel::arch
