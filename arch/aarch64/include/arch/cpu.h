// aarch64 CPU primitives: system registers, interrupt masking, barriers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEEL_READ_SYSREG(name)                                                                                         \
    ({                                                                                                                 \
        uint64_t keel_value_;                                                                                          \
        asm volatile("mrs %0, " #name : "=r"(keel_value_));                                                            \
        keel_value_;                                                                                                   \
    })
#define KEEL_WRITE_SYSREG(name, value) asm volatile("msr " #name ", %0" ::"r"(uint64_t(value)) : "memory")

namespace keel::arch {

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }

// e_machine of code for this CPU: the modules the loader accepts.
inline constexpr uint16_t kElfMachine = 183; // EM_AARCH64

// The virtual count of the generic timer: the core's cycle counter.
inline constexpr const char* kCycleCounterName = "generic timer";
inline uint64_t read_cycle_counter()
{
    isb(); // not read early, ahead of the code being timed
    return KEEL_READ_SYSREG(cntvct_el0);
}

inline void cpu_relax() { asm volatile("yield" ::: "memory"); }
inline void halt() { asm volatile("wfi" ::: "memory"); }
[[noreturn]] inline void halt_forever()
{
    for (;;)
        asm volatile("msr daifset, #0xf; wfi" ::: "memory");
}

// Interrupt state (PSTATE.I). `irq_save` disables interrupts and returns
// whether they were enabled, so nested critical sections restore the right
// state.
inline bool irqs_enabled() { return !(KEEL_READ_SYSREG(daif) & (1 << 7)); }
inline void irq_enable() { asm volatile("msr daifclr, #2" ::: "memory"); }
inline void irq_disable() { asm volatile("msr daifset, #2" ::: "memory"); }
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
// Wait for an interrupt, then take it. A pending interrupt ends wfi even
// while masked, so one that arrives before the wfi is not missed.
inline void enable_irqs_and_halt() { asm volatile("wfi; msr daifclr, #2" ::: "memory"); }

inline void* frame_address() { return __builtin_frame_address(0); }
// An address inside the code that runs this (always inlined): the lock-order
// checker records where a lock was taken without a call.
[[gnu::always_inline]] inline const void* code_address()
{
    const void* address;
    asm volatile("adr %0, ." : "=r"(address));
    return address;
}

// Make code just written at [start, start + size) visible to instruction
// fetch: clean the data cache to the point of unification, invalidate the
// instruction cache over it.
void sync_instruction_cache(const void* start, size_t size);

} // namespace keel::arch
