// Local APIC, I/O APIC and the legacy 8259 PICs (remapped, then masked: all
// device interrupts go through the I/O APIC).
#include "arch/acpi.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "log/log.h"
#include "mm/vmalloc.h"

namespace keel::arch {

namespace {

enum LapicRegister : uint32_t {
    kLapicId = 0x20,
    kLapicEoi = 0xb0,
    kLapicSpurious = 0xf0,
    kLapicTimerLvt = 0x320,
    kLapicTimerInitial = 0x380,
    kLapicTimerCurrent = 0x390,
    kLapicTimerDivide = 0x3e0,
};

volatile uint32_t* g_lapic = nullptr;
volatile uint32_t* g_ioapic = nullptr;
uint32_t g_ioapic_gsi_base = 0;

uint32_t lapic_read(uint32_t reg) { return g_lapic[reg / 4]; }
void lapic_write(uint32_t reg, uint32_t value) { g_lapic[reg / 4] = value; }

void ioapic_write(uint32_t reg, uint32_t value)
{
    g_ioapic[0] = reg;
    g_ioapic[4] = value;
}

void pic_disable()
{
    // Remap the PICs away from the exception vectors (a spurious IRQ 7
    // would otherwise look like a device-not-available fault), then mask.
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

void spurious(InterruptFrame&) { }

} // namespace

void interrupt_controllers_init()
{
    pic_disable();
    const AcpiInfo& acpi = acpi_info();
    uint64_t lapic_phys = acpi.lapic_phys ? acpi.lapic_phys : (rdmsr(0x1b) & ~0xfffull);
    auto lapic = map_mmio(lapic_phys, 4096);
    if (lapic.is_error()) {
        log_err("apic: cannot map the local APIC");
        return;
    }
    g_lapic = static_cast<volatile uint32_t*>(lapic.value());
    wrmsr(0x1b, rdmsr(0x1b) | (1 << 11)); // APIC global enable
    set_interrupt_handler(kSpuriousVector, spurious);
    lapic_write(kLapicSpurious, 0x100 | kSpuriousVector);

    uint64_t ioapic_phys = acpi.ioapic_count ? acpi.ioapics[0].phys : 0xfec00000;
    g_ioapic_gsi_base = acpi.ioapic_count ? acpi.ioapics[0].gsi_base : 0;
    auto ioapic = map_mmio(ioapic_phys, 4096);
    if (ioapic.is_error()) {
        log_err("apic: cannot map the I/O APIC");
        return;
    }
    g_ioapic = static_cast<volatile uint32_t*>(ioapic.value());
}

void irq_attach_isa(unsigned isa_irq, InterruptHandler handler)
{
    const AcpiInfo& acpi = acpi_info();
    uint32_t gsi = isa_irq;
    bool active_low = false, level = false;
    for (size_t i = 0; i < acpi.override_count; i++) {
        if (acpi.overrides[i].isa_irq == isa_irq) {
            gsi = acpi.overrides[i].gsi;
            active_low = acpi.overrides[i].active_low;
            level = acpi.overrides[i].level_triggered;
        }
    }
    unsigned vector = kIrqBaseVector + isa_irq;
    set_interrupt_handler(vector, handler);
    if (!g_ioapic)
        return;
    uint32_t pin = gsi - g_ioapic_gsi_base;
    uint32_t low = vector | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0);
    uint32_t apic_id = lapic_read(kLapicId) >> 24;
    ioapic_write(0x10 + 2 * pin + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * pin, low);
}

void end_of_interrupt()
{
    if (g_lapic)
        lapic_write(kLapicEoi, 0);
}

void timer_start(unsigned hz, uint64_t tsc_hz, InterruptHandler handler)
{
    if (!g_lapic)
        return;
    set_interrupt_handler(kTimerVector, handler);
    // Measure the APIC timer's rate against the (calibrated) TSC.
    lapic_write(kLapicTimerDivide, 0x3);  // divide by 16
    lapic_write(kLapicTimerLvt, 1 << 16); // masked, one-shot
    lapic_write(kLapicTimerInitial, 0xffffffff);
    uint64_t start = rdtsc();
    uint64_t window = tsc_hz / 1000; // 1 ms
    while (rdtsc() - start < window)
        cpu_relax();
    uint32_t elapsed = 0xffffffff - lapic_read(kLapicTimerCurrent);
    uint64_t apic_hz = uint64_t(elapsed) * tsc_hz / (rdtsc() - start);
    lapic_write(kLapicTimerLvt, kTimerVector | (1 << 17)); // periodic
    lapic_write(kLapicTimerInitial, uint32_t(apic_hz / hz));
}

} // namespace keel::arch
