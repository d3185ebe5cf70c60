/*
 * Interrupt entry stubs: one per vector. Each pushes a uniform frame
 * (error code or 0, then the vector number), the common path saves the
 * general registers as arch::InterruptFrame and calls interrupt_dispatch.
 */
    .text

.macro ISR_NOERR n
    .balign 16
isr_stub_\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm

.macro ISR_ERR n
    .balign 16
isr_stub_\n:
    pushq $\n
    jmp isr_common
.endm

    .balign 16
    .type isr_common, @function
isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    /* A frame record linking to the interrupted code, so backtraces taken
     * inside handlers walk through into the interrupted function. */
    pushq 136(%rsp)             /* interrupted rip */
    pushq 72(%rsp)              /* interrupted rbp (rsp moved by 8) */
    movq %rsp, %rbp
    call interrupt_dispatch
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
    .size isr_common, . - isr_common

.altmacro
.macro ISR_FOR n
  .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    ISR_ERR \n
  .else
    ISR_NOERR \n
  .endif
.endm

.set i, 0
.rept 256
    ISR_FOR %i
    .set i, i + 1
.endr

    .section .rodata
    .balign 8
    .globl isr_stub_table
isr_stub_table:
.macro ISR_ADDRESS n
    .quad isr_stub_\n
.endm
.set i, 0
.rept 256
    ISR_ADDRESS %i
    .set i, i + 1
.endr
