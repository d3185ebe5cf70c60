/*
 * keel_context_switch(Context* from, const Context* to): save the callee-saved
 * registers on the current stack, store the stack pointer in from.rsp,
 * load to.rsp and pop the next thread's registers. A new thread's stack is
 * prepared by context_init so that the final `ret` enters
 * context_entry_trampoline.
 */
    .text
    .globl keel_context_switch
    .type keel_context_switch, @function
keel_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size keel_context_switch, . - keel_context_switch

/* r12 = entry, r13 = argument (placed by context_init). */
    .globl context_entry_trampoline
    .type context_entry_trampoline, @function
context_entry_trampoline:
    movq %r13, %rdi
    xorl %ebp, %ebp
    call *%r12
    ud2
    .size context_entry_trampoline, . - context_entry_trampoline
