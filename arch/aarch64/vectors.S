/*
 * The exception vectors (VBAR_EL1): sixteen 128-byte slots, four per
 * origin (current EL with SP_EL0, current EL with SP_ELx, lower EL AArch64,
 * lower EL AArch32), each for synchronous, IRQ, FIQ and SError.
 *
 * The kernel runs at EL1 on SP_EL1, so only "current EL, SP_ELx" is
 * expected: synchronous exceptions go to arm64_sync_exception, interrupts to
 * arm64_irq (exceptions.cpp); anything else is reported by
 * arm64_bad_exception. Each saves the registers as arch::InterruptFrame
 * below a frame record that links to the interrupted code, so backtraces
 * taken inside handlers walk into the interrupted function.
 *
 * A synchronous exception first checks that the frame it is about to push
 * is mapped (AT S1E1W): a kernel stack that ran into its guard page would
 * otherwise fault again on every push. Then it moves to a stack of its own
 * and reports the overflow. SP_EL0, unused by the kernel, is the scratch
 * register for that check.
 */

#define FRAME_SIZE (36 * 8)         /* arch::InterruptFrame */
#define RECORD_SIZE 16              /* x29, elr: the frame record */
#define TOTAL_SIZE (FRAME_SIZE + RECORD_SIZE)

/* Save x0..x30, the interrupted sp (in x1 on entry to the macro's tail),
 * elr, spsr, esr and far; leave x0 pointing at the frame. */
.macro SAVE_FRAME interrupted_sp_from_tpidr
    sub sp, sp, #TOTAL_SIZE
    stp x0, x1, [sp, #RECORD_SIZE + 0 * 8]
    stp x2, x3, [sp, #RECORD_SIZE + 2 * 8]
    stp x4, x5, [sp, #RECORD_SIZE + 4 * 8]
    stp x6, x7, [sp, #RECORD_SIZE + 6 * 8]
    stp x8, x9, [sp, #RECORD_SIZE + 8 * 8]
    stp x10, x11, [sp, #RECORD_SIZE + 10 * 8]
    stp x12, x13, [sp, #RECORD_SIZE + 12 * 8]
    stp x14, x15, [sp, #RECORD_SIZE + 14 * 8]
    stp x16, x17, [sp, #RECORD_SIZE + 16 * 8]
    stp x18, x19, [sp, #RECORD_SIZE + 18 * 8]
    stp x20, x21, [sp, #RECORD_SIZE + 20 * 8]
    stp x22, x23, [sp, #RECORD_SIZE + 22 * 8]
    stp x24, x25, [sp, #RECORD_SIZE + 24 * 8]
    stp x26, x27, [sp, #RECORD_SIZE + 26 * 8]
    stp x28, x29, [sp, #RECORD_SIZE + 28 * 8]
.if \interrupted_sp_from_tpidr
    mrs x1, tpidr_el1
.else
    add x1, sp, #TOTAL_SIZE
.endif
    stp x30, x1, [sp, #RECORD_SIZE + 30 * 8]
    mrs x2, elr_el1
    mrs x3, spsr_el1
    stp x2, x3, [sp, #RECORD_SIZE + 32 * 8]
    mrs x4, esr_el1
    mrs x5, far_el1
    stp x4, x5, [sp, #RECORD_SIZE + 34 * 8]
    stp x29, x2, [sp]
    mov x29, sp
    add x0, sp, #RECORD_SIZE
.endm

/* Restore from the frame (elr and spsr too: a handler may step past an
 * instruction, and a thread switch in between clobbered the registers). */
.macro RESTORE_FRAME_AND_RETURN
    ldp x2, x3, [sp, #RECORD_SIZE + 32 * 8]
    msr elr_el1, x2
    msr spsr_el1, x3
    ldp x0, x1, [sp, #RECORD_SIZE + 0 * 8]
    ldp x2, x3, [sp, #RECORD_SIZE + 2 * 8]
    ldp x4, x5, [sp, #RECORD_SIZE + 4 * 8]
    ldp x6, x7, [sp, #RECORD_SIZE + 6 * 8]
    ldp x8, x9, [sp, #RECORD_SIZE + 8 * 8]
    ldp x10, x11, [sp, #RECORD_SIZE + 10 * 8]
    ldp x12, x13, [sp, #RECORD_SIZE + 12 * 8]
    ldp x14, x15, [sp, #RECORD_SIZE + 14 * 8]
    ldp x16, x17, [sp, #RECORD_SIZE + 16 * 8]
    ldp x18, x19, [sp, #RECORD_SIZE + 18 * 8]
    ldp x20, x21, [sp, #RECORD_SIZE + 20 * 8]
    ldp x22, x23, [sp, #RECORD_SIZE + 22 * 8]
    ldp x24, x25, [sp, #RECORD_SIZE + 24 * 8]
    ldp x26, x27, [sp, #RECORD_SIZE + 26 * 8]
    ldp x28, x29, [sp, #RECORD_SIZE + 28 * 8]
    ldr x30, [sp, #RECORD_SIZE + 30 * 8]
    add sp, sp, #TOTAL_SIZE
    eret
.endm

.macro BAD_VECTOR kind
    .balign 0x80
    SAVE_FRAME 0
    mov x1, #\kind
    bl arm64_bad_exception
    b .
.endm

    .section .text.vectors, "ax"
    .balign 2048
    .globl keel_exception_vectors
keel_exception_vectors:
    /* Current EL with SP_EL0: the kernel never runs so. */
    BAD_VECTOR 0
    BAD_VECTOR 1
    BAD_VECTOR 2
    BAD_VECTOR 3
    /* Current EL with SP_ELx. */
    .balign 0x80
    b sync_current
    .balign 0x80
    b irq_current
    .balign 0x80
    b fiq_current
    .balign 0x80
    b serror_current
    /* Lower EL, AArch64 and AArch32: nothing runs there yet. */
    BAD_VECTOR 8
    BAD_VECTOR 9
    BAD_VECTOR 10
    BAD_VECTOR 11
    BAD_VECTOR 12
    BAD_VECTOR 13
    BAD_VECTOR 14
    BAD_VECTOR 15

    .text
    .type sync_current, @function
sync_current:
    msr sp_el0, x0
    mov x0, sp
    sub x0, x0, #TOTAL_SIZE
    at s1e1w, x0
    isb
    mrs x0, par_el1
    tbnz x0, #0, stack_overflow     /* PAR_EL1.F: the frame would fault */
    mrs x0, sp_el0
    SAVE_FRAME 0
    bl arm64_sync_exception
    RESTORE_FRAME_AND_RETURN

stack_overflow:
    mov x0, sp
    msr tpidr_el1, x0
    adrp x0, overflow_stack_top
    add x0, x0, :lo12:overflow_stack_top
    mov sp, x0
    mrs x0, sp_el0
    SAVE_FRAME 1
    bl arm64_stack_overflow
    b .
    .size sync_current, . - sync_current

    .type irq_current, @function
irq_current:
    SAVE_FRAME 0
    bl arm64_irq
    RESTORE_FRAME_AND_RETURN
    .size irq_current, . - irq_current

fiq_current:
    SAVE_FRAME 0
    mov x1, #6
    bl arm64_bad_exception
    b .

serror_current:
    SAVE_FRAME 0
    mov x1, #7
    bl arm64_bad_exception
    b .

    .section .bss.overflow_stack, "aw", @nobits
    .balign 16
overflow_stack:
    .skip 8192
overflow_stack_top:
