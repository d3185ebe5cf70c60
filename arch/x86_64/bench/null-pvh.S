/*
 * The smallest PVH kernel: power off at once through isa-debug-exit. It
 * measures QEMU's own floor (start-up, firmware, loading, exit) so that
 * scripts/bench can report Keel's boot time against it.
 */
    .section .note.Xen, "a"
    .balign 4
    .long 4
    .long 4
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long null_pvh_start
    .balign 4

    .text
    .code32
    .globl null_pvh_start
null_pvh_start:
    movw $0xf4, %dx
    xorl %eax, %eax
    outl %eax, %dx              /* QEMU exits with status 1 */
1:  hlt
    jmp 1b
