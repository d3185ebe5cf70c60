#include "arch/context.h"

#include "lib/base/string.h"

extern "C" void context_entry_trampoline();

namespace keel::arch {

void context_init(Context& context, void* stack_top, void (*entry)(void*), void* argument)
{
    // Layout popped by keel_context_switch: x19..x28, then x29 and x30 (the
    // trampoline is where its `ret` goes). stack_top is 16-byte aligned and
    // so is the frame.
    auto* stack = static_cast<uint64_t*>(stack_top) - 12;
    memset(stack, 0, 12 * sizeof(uint64_t));
    stack[0] = reinterpret_cast<uint64_t>(entry);                     // x19
    stack[1] = reinterpret_cast<uint64_t>(argument);                  // x20
    stack[11] = reinterpret_cast<uint64_t>(context_entry_trampoline); // x30
    context.sp = reinterpret_cast<uint64_t>(stack);
}

void fpu_init_state(FpuState& state)
{
    // Reset state: registers zero, FPCR 0 (round to nearest, no traps).
    memset(&state, 0, sizeof(state));
}

} // namespace keel::arch
