/*
 * keel_context_switch(Context* from, const Context* to): push the
 * callee-saved registers (x19..x28, the frame pointer and the link
 * register) on the current stack, store sp in from->sp, load to->sp and pop
 * the next thread's. A new thread's stack is prepared by context_init so
 * that the final `ret` enters context_entry_trampoline.
 */
    .text
    .globl keel_context_switch
    .type keel_context_switch, @function
keel_context_switch:
    sub sp, sp, #96
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    mov x9, sp
    str x9, [x0]
    ldr x9, [x1]
    mov sp, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    add sp, sp, #96
    ret
    .size keel_context_switch, . - keel_context_switch

/* x19 = entry, x20 = argument (placed by context_init). */
    .globl context_entry_trampoline
    .type context_entry_trampoline, @function
context_entry_trampoline:
    mov x0, x20
    mov x29, #0
    mov x30, #0
    blr x19
    brk #0
    .size context_entry_trampoline, . - context_entry_trampoline
