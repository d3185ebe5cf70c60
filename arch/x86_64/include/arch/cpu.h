// x86_64 CPU primitives: port I/O, MSRs, control registers, interrupts.
#pragma once

#include <stdint.h>

namespace keel::arch {

inline void outb(uint16_t port, uint8_t value) { asm volatile("outb %0, %1" ::"a"(value), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t value) { asm volatile("outw %0, %1" ::"a"(value), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t value) { asm volatile("outl %0, %1" ::"a"(value), "Nd"(port)); }
inline uint8_t inb(uint16_t port)
{
    uint8_t value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline uint16_t inw(uint16_t port)
{
    uint16_t value;
    asm volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline uint32_t inl(uint16_t port)
{
    uint32_t value;
    asm volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t(hi) << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t value)
{
    asm volatile("wrmsr" ::"c"(msr), "a"(uint32_t(value)), "d"(uint32_t(value >> 32)));
}

inline uint64_t rdtsc()
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t(hi) << 32) | lo;
}

// e_machine of code for this CPU: the modules the loader accepts.
inline constexpr uint16_t kElfMachine = 62; // EM_X86_64

// The core's cycle counter.
inline constexpr const char* kCycleCounterName = "TSC";
inline uint64_t read_cycle_counter() { return rdtsc(); }

inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d)
{
    asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(subleaf));
}

inline uint64_t read_cr2()
{
    uint64_t value;
    asm volatile("mov %%cr2, %0" : "=r"(value));
    return value;
}
inline uint64_t read_cr3()
{
    uint64_t value;
    asm volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}
inline void write_cr3(uint64_t value) { asm volatile("mov %0, %%cr3" ::"r"(value) : "memory"); }

inline void invlpg(uint64_t address) { asm volatile("invlpg (%0)" ::"r"(address) : "memory"); }

inline void cpu_relax() { asm volatile("pause" ::: "memory"); }
inline void halt() { asm volatile("hlt" ::: "memory"); }
[[noreturn]] inline void halt_forever()
{
    for (;;)
        asm volatile("cli; hlt" ::: "memory");
}

// Interrupt state. `irq_save` disables interrupts and returns whether they
// were enabled, so nested critical sections restore the right state.
inline bool irqs_enabled()
{
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return flags & (1 << 9);
}
inline void irq_enable() { asm volatile("sti" ::: "memory"); }
inline void irq_disable() { asm volatile("cli" ::: "memory"); }
inline bool irq_save()
{
    bool was_enabled = irqs_enabled();
    irq_disable();
    return was_enabled;
}
inline void irq_restore(bool was_enabled)
{
    if (was_enabled)
        irq_enable();
}
// Enable interrupts and halt until one arrives, without a window in which a
// wake-up interrupt could be taken before the hlt (sti's one-instruction shadow).
inline void enable_irqs_and_halt() { asm volatile("sti; hlt" ::: "memory"); }

inline void* frame_address() { return __builtin_frame_address(0); }
// An address inside the code that runs this (always inlined): the lock-order
// checker records where a lock was taken without a call.
[[gnu::always_inline]] inline const void* code_address()
{
    const void* address;
    asm volatile("lea 0(%%rip), %0" : "=r"(address));
    return address;
}

// Instruction fetch sees stores on x86 (the caches are coherent with it),
// so code just written needs nothing more.
inline void sync_instruction_cache(const void*, uint64_t) { }

} // namespace keel::arch
