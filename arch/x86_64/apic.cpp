// Local APIC, I/O APIC and the legacy 8259 PICs (remapped, then masked: all
// device interrupts go through the I/O APIC).
#include "arch/acpi.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "log/log.h"
#include "mm/vmalloc.h"
#include "sync/spinlock.h"

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

// Every I/O APIC the MADT lists: registers are reached through an index
// and a data window, so each access pair is done under one lock.
struct IoApic {
    volatile uint32_t* registers;
    uint32_t gsi_base;
    uint32_t inputs;
};
IoApic g_ioapics[4];
size_t g_ioapic_count = 0;
constexpr LockClass kIoApicLockClass { "ioapic", LockRank::IoApic, false };
Spinlock g_ioapic_lock { kIoApicLockClass };

uint32_t lapic_read(uint32_t reg) { return g_lapic[reg / 4]; }
void lapic_write(uint32_t reg, uint32_t value) { g_lapic[reg / 4] = value; }

void ioapic_write(const IoApic& ioapic, uint32_t reg, uint32_t value) REQUIRES(g_ioapic_lock)
{
    ioapic.registers[0] = reg;
    ioapic.registers[4] = value;
}

uint32_t ioapic_read(const IoApic& ioapic, uint32_t reg) REQUIRES(g_ioapic_lock)
{
    ioapic.registers[0] = reg;
    return ioapic.registers[4];
}

const IoApic* ioapic_for(uint32_t gsi)
{
    for (size_t i = 0; i < g_ioapic_count; i++) {
        const IoApic& ioapic = g_ioapics[i];
        if (gsi >= ioapic.gsi_base && gsi - ioapic.gsi_base < ioapic.inputs)
            return &ioapic;
    }
    return nullptr;
}

// Redirection entry of `gsi`: vector, polarity (bit 13), trigger (bit 15),
// mask (bit 16); the destination (this CPU's APIC id) in the high word.
void ioapic_program(const IoApic& ioapic, uint32_t gsi, uint32_t low)
{
    uint32_t pin = gsi - ioapic.gsi_base;
    uint32_t apic_id = lapic_read(kLapicId) >> 24;
    SpinlockGuard guard(g_ioapic_lock);
    ioapic_write(ioapic, 0x10 + 2 * pin + 1, apic_id << 24);
    ioapic_write(ioapic, 0x10 + 2 * pin, low);
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

    size_t listed = acpi.ioapic_count ? acpi.ioapic_count : 1;
    for (size_t i = 0; i < listed && i < 4; i++) {
        uint64_t phys = acpi.ioapic_count ? acpi.ioapics[i].phys : 0xfec00000;
        auto mapping = map_mmio(phys, 4096);
        if (mapping.is_error()) {
            log_err("apic: cannot map the I/O APIC at %#llx", (unsigned long long)phys);
            continue;
        }
        IoApic& ioapic = g_ioapics[g_ioapic_count++];
        ioapic.registers = static_cast<volatile uint32_t*>(mapping.value());
        ioapic.gsi_base = acpi.ioapic_count ? acpi.ioapics[i].gsi_base : 0;
        SpinlockGuard guard(g_ioapic_lock);
        // Version register: bits 16..23 hold the highest redirection entry.
        ioapic.inputs = ((ioapic_read(ioapic, 1) >> 16) & 0xff) + 1;
    }
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
    if (const IoApic* ioapic = ioapic_for(gsi))
        ioapic_program(*ioapic, gsi, vector | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0));
}

bool irq_route_gsi(uint32_t gsi, unsigned vector, bool level_triggered, bool active_low)
{
    const IoApic* ioapic = ioapic_for(gsi);
    if (!ioapic || !g_lapic)
        return false;
    ioapic_program(*ioapic, gsi, vector | (active_low ? 1u << 13 : 0) | (level_triggered ? 1u << 15 : 0) | (1u << 16));
    return true;
}

void irq_mask_gsi(uint32_t gsi, bool masked)
{
    const IoApic* ioapic = ioapic_for(gsi);
    if (!ioapic)
        return;
    uint32_t reg = 0x10 + 2 * (gsi - ioapic->gsi_base);
    SpinlockGuard guard(g_ioapic_lock);
    uint32_t low = ioapic_read(*ioapic, reg);
    ioapic_write(*ioapic, reg, masked ? low | (1u << 16) : low & ~(1u << 16));
}

// Fixed delivery, physical destination: address 0xFEE00000 with the APIC
// id in bits 12..19, data the vector (edge-triggered).
MsiMessage msi_message(unsigned vector, uint32_t)
{
    uint32_t apic_id = g_lapic ? lapic_read(kLapicId) >> 24 : 0;
    return { 0xfee00000ull | (uint64_t(apic_id & 0xff) << 12), vector & 0xff };
}

void end_of_interrupt()
{
    if (g_lapic)
        lapic_write(kLapicEoi, 0);
}

namespace {

// The LAPIC timer's count and the TSC over the cycle counter's calibration
// window (0 cycles: not measured, timer_start measures on its own).
uint64_t g_calibration_tsc_start = 0;
uint64_t g_calibration_tsc_cycles = 0;
uint32_t g_calibration_apic_ticks = 0;

void start_apic_count()
{
    lapic_write(kLapicTimerDivide, 0x3);  // divide by 16
    lapic_write(kLapicTimerLvt, 1 << 16); // masked, one-shot
    lapic_write(kLapicTimerInitial, 0xffffffff);
}

} // namespace

void lapic_timer_calibration_begin()
{
    if (!g_lapic)
        return;
    start_apic_count();
    g_calibration_tsc_start = rdtsc();
}

void lapic_timer_calibration_end()
{
    if (!g_lapic || g_calibration_tsc_start == 0)
        return;
    g_calibration_apic_ticks = 0xffffffff - lapic_read(kLapicTimerCurrent);
    g_calibration_tsc_cycles = rdtsc() - g_calibration_tsc_start;
}

void timer_start(unsigned hz, uint64_t tsc_hz, InterruptHandler handler)
{
    if (!g_lapic)
        return;
    set_interrupt_handler(kTimerVector, handler);
    // The APIC timer's rate against the (calibrated) TSC: measured in the
    // TSC's own calibration window when there was one, else now over 1 ms.
    uint64_t apic_ticks = g_calibration_apic_ticks;
    uint64_t tsc_cycles = g_calibration_tsc_cycles;
    if (tsc_cycles == 0 || apic_ticks == 0) {
        start_apic_count();
        uint64_t start = rdtsc();
        uint64_t window = tsc_hz / 1000; // 1 ms
        while (rdtsc() - start < window)
            cpu_relax();
        apic_ticks = 0xffffffff - lapic_read(kLapicTimerCurrent);
        tsc_cycles = rdtsc() - start;
    }
    uint64_t apic_hz = apic_ticks * tsc_hz / tsc_cycles;   // a few ms of ticks: no overflow
    lapic_write(kLapicTimerLvt, kTimerVector | (1 << 17)); // periodic
    lapic_write(kLapicTimerInitial, uint32_t(apic_hz / hz));
}

} // namespace keel::arch
