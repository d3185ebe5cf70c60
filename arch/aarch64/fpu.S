/*
 * FP/SIMD state per thread (the kernel is built with -mgeneral-regs-only
 * and never touches these registers; modules may): q0..q31, FPSR, FPCR as
 * arch::FpuState lays them out. And the self test's fill and check.
 */
    .arch_extension fp
    .arch_extension simd
    .text

/* keel_fpu_save(FpuState* state) */
    .globl keel_fpu_save
    .type keel_fpu_save, @function
keel_fpu_save:
    stp q0, q1, [x0, #0]
    stp q2, q3, [x0, #32]
    stp q4, q5, [x0, #64]
    stp q6, q7, [x0, #96]
    stp q8, q9, [x0, #128]
    stp q10, q11, [x0, #160]
    stp q12, q13, [x0, #192]
    stp q14, q15, [x0, #224]
    stp q16, q17, [x0, #256]
    stp q18, q19, [x0, #288]
    stp q20, q21, [x0, #320]
    stp q22, q23, [x0, #352]
    stp q24, q25, [x0, #384]
    stp q26, q27, [x0, #416]
    stp q28, q29, [x0, #448]
    stp q30, q31, [x0, #480]
    mrs x1, fpsr
    mrs x2, fpcr
    add x3, x0, #512
    stp x1, x2, [x3]
    ret
    .size keel_fpu_save, . - keel_fpu_save

/* keel_fpu_restore(const FpuState* state) */
    .globl keel_fpu_restore
    .type keel_fpu_restore, @function
keel_fpu_restore:
    ldp q0, q1, [x0, #0]
    ldp q2, q3, [x0, #32]
    ldp q4, q5, [x0, #64]
    ldp q6, q7, [x0, #96]
    ldp q8, q9, [x0, #128]
    ldp q10, q11, [x0, #160]
    ldp q12, q13, [x0, #192]
    ldp q14, q15, [x0, #224]
    ldp q16, q17, [x0, #256]
    ldp q18, q19, [x0, #288]
    ldp q20, q21, [x0, #320]
    ldp q22, q23, [x0, #352]
    ldp q24, q25, [x0, #384]
    ldp q26, q27, [x0, #416]
    ldp q28, q29, [x0, #448]
    ldp q30, q31, [x0, #480]
    add x3, x0, #512
    ldp x1, x2, [x3]
    msr fpsr, x1
    msr fpcr, x2
    ret
    .size keel_fpu_restore, . - keel_fpu_restore

/* fpu_test_load(pattern): d<n> = pattern + n. */
    .globl _ZN4keel4arch13fpu_test_loadEm
    .type _ZN4keel4arch13fpu_test_loadEm, @function
_ZN4keel4arch13fpu_test_loadEm:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    add x1, x0, #\n
    fmov d\n, x1
    .endr
    ret
    .size _ZN4keel4arch13fpu_test_loadEm, . - _ZN4keel4arch13fpu_test_loadEm

/* fpu_test_check(pattern) -> bool: every d<n> still holds pattern + n. */
    .globl _ZN4keel4arch14fpu_test_checkEm
    .type _ZN4keel4arch14fpu_test_checkEm, @function
_ZN4keel4arch14fpu_test_checkEm:
    mov x3, #1
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    add x1, x0, #\n
    fmov x2, d\n
    cmp x1, x2
    csel x3, x3, xzr, eq
    .endr
    mov x0, x3
    ret
    .size _ZN4keel4arch14fpu_test_checkEm, . - _ZN4keel4arch14fpu_test_checkEm
