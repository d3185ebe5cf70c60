// Thread context on x86_64: the saved stack pointer (callee-saved registers
// live on the stack) plus the FPU/SSE state, which the kernel itself never
// touches (it is built without SSE) but modules may.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel::arch {

struct Context;

struct alignas(16) FpuState {
    uint8_t bytes[512]; // FXSAVE area
};

struct Context {
    uint64_t rsp;
};

// Prepare `context` so that switching to it calls entry(argument) on the
// stack ending at `stack_top`.
void context_init(Context& context, void* stack_top, void (*entry)(void*), void* argument);
extern "C" void keel_context_switch(Context* from, const Context* to);

// Save the current context into `from`, resume `to`.
inline void context_switch(Context& from, const Context& to) { keel_context_switch(&from, &to); }

void fpu_init_state(FpuState& state);
inline void fpu_save(FpuState& state) { asm volatile("fxsave64 %0" : "=m"(state)); }
inline void fpu_restore(const FpuState& state) { asm volatile("fxrstor64 %0" ::"m"(state)); }

} // namespace keel::arch

namespace keel::arch {

// Self-test support: fill all 16 SSE registers with `pattern`, and check
// that they still hold it. The kernel never touches these registers, so
// only a broken context switch could change them in between.
void fpu_test_load(uint64_t pattern);
bool fpu_test_check(uint64_t pattern);

} // namespace keel::arch
