// The generic timer: its virtual count is the core's cycle counter (at the
// rate CNTFRQ_EL0 gives) and its virtual timer the scheduler's tick,
// re-armed on every interrupt at the next multiple of the period.
#include "arch/cpu.h"
#include "arch/irq.h"
#include "log/log.h"
#include "platform.h"

namespace keel::arch {

namespace {

// The virtual timer's PPI on every machine that follows the Server Base
// System Architecture, and on QEMU's virt.
constexpr unsigned kDefaultVirtualTimerIntid = 27;

uint64_t g_period = 0;
InterruptHandler g_tick_handler = nullptr;

void timer_interrupt(InterruptFrame& frame)
{
    uint64_t next = KEEL_READ_SYSREG(cntv_cval_el0) + g_period;
    uint64_t now = read_cycle_counter();
    if (next <= now) // ticks were missed (the emulator was descheduled)
        next = now + g_period;
    KEEL_WRITE_SYSREG(cntv_cval_el0, next);
    g_tick_handler(frame);
}

} // namespace

uint64_t calibrate_cycle_counter(const char*& source)
{
    source = "frequency register (CNTFRQ_EL0)";
    return KEEL_READ_SYSREG(cntfrq_el0) & 0xffffffff;
}

void timer_start(unsigned hz, uint64_t cycles_hz, InterruptHandler handler)
{
    const fdt::Machine& machine = platform();
    unsigned intid
        = machine.timer.interrupt_count > 2 ? machine.timer.interrupts[2].intid() : kDefaultVirtualTimerIntid;
    g_period = cycles_hz / hz;
    g_tick_handler = handler;
    // The physical timer is the boot loader's (U-Boot's): off.
    KEEL_WRITE_SYSREG(cntp_ctl_el0, 0);
    irq_attach(intid, timer_interrupt);
    KEEL_WRITE_SYSREG(cntv_cval_el0, read_cycle_counter() + g_period);
    KEEL_WRITE_SYSREG(cntv_ctl_el0, 1); // enabled, not masked
    isb();
}

} // namespace keel::arch
