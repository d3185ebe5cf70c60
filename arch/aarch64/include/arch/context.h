// Thread context on aarch64: the saved stack pointer (callee-saved
// registers live on the stack) plus the FP/SIMD state, which the kernel
// itself never touches (it is built with -mgeneral-regs-only) but modules
// may.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::arch {

struct alignas(16) FpuState {
    uint8_t vregs[32 * 16]; // q0..q31
    uint64_t fpsr;
    uint64_t fpcr;
};

struct Context {
    uint64_t sp;
};

// Prepare `context` so that switching to it calls entry(argument) on the
// stack ending at `stack_top`.
void context_init(Context& context, void* stack_top, void (*entry)(void*), void* argument);
extern "C" void keel_context_switch(Context* from, const Context* to);

// Save the current context into `from`, resume `to`.
inline void context_switch(Context& from, const Context& to) { keel_context_switch(&from, &to); }

extern "C" void keel_fpu_save(FpuState* state);
extern "C" void keel_fpu_restore(const FpuState* state);

void fpu_init_state(FpuState& state);
inline void fpu_save(FpuState& state) { keel_fpu_save(&state); }
inline void fpu_restore(const FpuState& state) { keel_fpu_restore(&state); }

// Self-test support: fill the 32 SIMD registers with `pattern`, and check
// that they still hold it. The kernel never touches these registers, so
// only a broken context switch could change them in between.
void fpu_test_load(uint64_t pattern);
bool fpu_test_check(uint64_t pattern);

} // namespace keel::arch
