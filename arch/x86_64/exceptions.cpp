// CPU exceptions. In the kernel every exception is fatal for now: print what
// happened (registers, faulting address, a decoded page-fault error code)
// and panic with a backtrace from the faulting instruction.
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "debug/backtrace.h"
#include "debug/panic.h"
#include "log/log.h"

namespace keel::arch {

namespace {

constexpr const char* kExceptionNames[32] = {
    "divide error",
    "debug",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating-point exception",
    "alignment check",
    "machine check",
    "SIMD floating-point exception",
    "virtualization exception",
    "control protection exception",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection exception",
    "VMM communication exception",
    "security exception",
    "reserved",
};

constexpr unsigned kPageFault = 14;

void print_page_fault(const InterruptFrame& frame, uint64_t address)
{
    uint64_t error = frame.error_code;
    const char* access = (error & 0x10) ? "instruction fetch" : (error & 0x2) ? "write" : "read";
    const char* cause = (error & 0x1) ? "protection violation" : "page not present";
    console_print("BUG: unable to handle page fault for address: %016llx\n", (unsigned long long)address);
    console_print("#PF: supervisor %s access, %s%s\n", access, cause, (error & 0x8) ? " (reserved bit set)" : "");
    if (address < 4096)
        console_print("#PF: NULL pointer dereference\n");
}

void print_registers(const InterruptFrame& frame)
{
    char where[160];
    if (!symbolize(frame.rip, where, sizeof(where)))
        where[0] = '?', where[1] = '\0';
    console_print("RIP: %04llx:%016llx %s\n", (unsigned long long)frame.cs, (unsigned long long)frame.rip, where);
    console_print("RSP: %04llx:%016llx EFLAGS: %08llx\n", (unsigned long long)frame.ss, (unsigned long long)frame.rsp,
        (unsigned long long)frame.rflags);
    console_print("RAX: %016llx RBX: %016llx RCX: %016llx\n", (unsigned long long)frame.rax,
        (unsigned long long)frame.rbx, (unsigned long long)frame.rcx);
    console_print("RDX: %016llx RSI: %016llx RDI: %016llx\n", (unsigned long long)frame.rdx,
        (unsigned long long)frame.rsi, (unsigned long long)frame.rdi);
    console_print("RBP: %016llx R08: %016llx R09: %016llx\n", (unsigned long long)frame.rbp,
        (unsigned long long)frame.r8, (unsigned long long)frame.r9);
    console_print("R10: %016llx R11: %016llx R12: %016llx\n", (unsigned long long)frame.r10,
        (unsigned long long)frame.r11, (unsigned long long)frame.r12);
    console_print("R13: %016llx R14: %016llx R15: %016llx\n", (unsigned long long)frame.r13,
        (unsigned long long)frame.r14, (unsigned long long)frame.r15);
    uint64_t cr0, cr4;
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    console_print("CR0: %016llx CR2: %016llx CR3: %016llx CR4: %016llx\n", (unsigned long long)cr0,
        (unsigned long long)read_cr2(), (unsigned long long)read_cr3(), (unsigned long long)cr4);
}

} // namespace

void handle_exception(InterruptFrame& frame)
{
    uint64_t fault_address = read_cr2();
    panic_begin();
    unsigned vector = unsigned(frame.vector);
    if (vector == kPageFault)
        print_page_fault(frame, fault_address);
    // A double fault right at a page boundary below the stack pointer is a
    // kernel stack running into its guard page.
    constexpr unsigned kDoubleFault = 8;
    if (vector == kDoubleFault && fault_address < frame.rsp && frame.rsp - fault_address <= 4096)
        console_print("BUG: kernel stack overflow (guard page hit at %016llx)\n", (unsigned long long)fault_address);
    console_print("Oops: %s [#%u] error code 0x%llx\n", kExceptionNames[vector & 31], vector,
        (unsigned long long)frame.error_code);
    // ud2 is what __builtin_trap() compiles to: the kernel's own checks
    // (the value of a Result that holds an error) end here.
    constexpr unsigned kInvalidOpcode = 6;
    auto* code = reinterpret_cast<const uint8_t*>(frame.rip);
    if (vector == kInvalidOpcode && code[0] == 0x0f && code[1] == 0x0b)
        console_print("BUG: a trap in the kernel's code: a failed check, such as the value of a Result that holds an "
                      "error, in the function below\n");
    print_registers(frame);
    panic_end(frame.rip, frame.rbp);
}

} // namespace keel::arch
