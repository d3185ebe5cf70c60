// x86_64 interrupts: descriptor tables, the saved register frame and the
// vector table that drivers register handlers in.
#pragma once

#include <stdint.h>

namespace keel::arch {

// Saved by the entry stubs (isr.S) in this order; the CPU pushed the tail.
struct InterruptFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

inline constexpr unsigned kIrqBaseVector = 32; // ISA IRQ n -> vector 32 + n
inline constexpr unsigned kTimerVector = 0x40;
// Vectors the core hands to device interrupts (MSI, MSI-X, I/O APIC lines).
inline constexpr unsigned kDeviceVectorFirst = 0x50;
inline constexpr unsigned kDeviceVectorLast = 0xef;
inline unsigned interrupt_vector(const InterruptFrame& frame) { return unsigned(frame.vector); }
inline constexpr unsigned kSpuriousVector = 0xff;

using InterruptHandler = void (*)(InterruptFrame& frame);

void gdt_init();
void idt_init();
// Interrupts arrive only after this; `handler` runs with interrupts off.
void set_interrupt_handler(unsigned vector, InterruptHandler handler);

// Stack pointer of the interrupt stack (IST) used by double fault / NMI.
inline constexpr unsigned kIstDoubleFault = 1;
inline constexpr unsigned kIstNmi = 2;

} // namespace keel::arch
