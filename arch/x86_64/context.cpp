#include "arch/context.h"

#include "lib/base/string.h"

extern "C" void context_entry_trampoline();

namespace keel::arch {

void context_init(Context& context, void* stack_top, void (*entry)(void*), void* argument)
{
    // Layout popped by context_switch: r15 r14 r13 r12 rbx rbp, then ret.
    // stack_top is 16-byte aligned, so the trampoline's call leaves the
    // entry function with the ABI's alignment.
    auto* stack = static_cast<uint64_t*>(stack_top);
    *--stack = reinterpret_cast<uint64_t>(context_entry_trampoline);
    *--stack = 0;                                    // rbp
    *--stack = 0;                                    // rbx
    *--stack = reinterpret_cast<uint64_t>(entry);    // r12
    *--stack = reinterpret_cast<uint64_t>(argument); // r13
    *--stack = 0;                                    // r14
    *--stack = 0;                                    // r15
    context.rsp = reinterpret_cast<uint64_t>(stack);
}

void fpu_init_state(FpuState& state)
{
    // The state a freshly reset FPU has: x87 control word 0x37f (all
    // exceptions masked), MXCSR 0x1f80 (all SIMD exceptions masked).
    memset(&state, 0, sizeof(state));
    state.bytes[0] = 0x7f;
    state.bytes[1] = 0x03;
    uint32_t mxcsr = 0x1f80;
    memcpy(&state.bytes[24], &mxcsr, sizeof(mxcsr));
}

} // namespace keel::arch

namespace keel::arch {

#define KEEL_FOR_EACH_XMM(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

void fpu_test_load(uint64_t pattern)
{
#define KEEL_LOAD_XMM(n) asm volatile("movq %0, %%xmm" #n ::"r"(pattern + (n)));
    KEEL_FOR_EACH_XMM(KEEL_LOAD_XMM)
#undef KEEL_LOAD_XMM
}

bool fpu_test_check(uint64_t pattern)
{
    bool intact = true;
    uint64_t value;
#define KEEL_CHECK_XMM(n)                                                                                              \
    asm volatile("movq %%xmm" #n ", %0" : "=r"(value));                                                                \
    intact = intact && value == pattern + (n);
    KEEL_FOR_EACH_XMM(KEEL_CHECK_XMM)
#undef KEEL_CHECK_XMM
    return intact;
}

#undef KEEL_FOR_EACH_XMM

} // namespace keel::arch
