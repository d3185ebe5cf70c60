// Power off and reset. Under QEMU with semihosting on (scripts/run), the
// semihosting SYS_EXIT_EXTENDED call ends the emulator with the code as
// its exit status. Semihosting cannot be detected, so it is probed by
// calling it: where it is off the call is an undefined instruction, which
// exception entry steps over (power_internal.h). Then PSCI (SYSTEM_OFF,
// SYSTEM_RESET) through the conduit the device tree named.
#include "arch/power.h"

#include "arch/cpu.h"
#include "platform.h"
#include "power_internal.h"

extern "C" char keel_semihosting_call[];

namespace keel::arch {

namespace {

constexpr uint32_t kPsciSystemOff = 0x84000008;
constexpr uint32_t kPsciSystemReset = 0x84000009;
constexpr uint64_t kSysExitExtended = 0x20;
constexpr uint64_t kApplicationExit = 0x20026; // ADP_Stopped_ApplicationExit

bool g_probing = false;

void semihosting_exit(int code)
{
    uint64_t block[2] = { kApplicationExit, uint64_t(uint32_t(code)) };
    g_probing = true;
    register uint64_t operation asm("x0") = kSysExitExtended;
    register uint64_t parameter asm("x1") = reinterpret_cast<uint64_t>(block);
    asm volatile(".globl keel_semihosting_call\n"
                 "keel_semihosting_call: hlt #0xf000"
                 : "+r"(operation)
                 : "r"(parameter)
                 : "memory");
    g_probing = false;
}

void psci_call(uint32_t function)
{
    const fdt::Machine& machine = platform();
    if (!machine.psci.present)
        return;
    register uint64_t x0 asm("x0") = function;
    if (machine.psci.use_smc)
        asm volatile("smc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
    else
        asm volatile("hvc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
}

} // namespace

bool semihosting_probe_faulted(uint64_t pc)
{
    if (!g_probing || pc != reinterpret_cast<uint64_t>(keel_semihosting_call))
        return false;
    g_probing = false;
    return true;
}

void poweroff(int code)
{
    irq_disable();
    semihosting_exit(code & 0xff);
    psci_call(kPsciSystemOff);
    halt_forever();
}

void reboot()
{
    irq_disable();
    psci_call(kPsciSystemReset);
    halt_forever();
}

} // namespace keel::arch
