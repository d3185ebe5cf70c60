/*
 * The smallest arm64 Image: exit at once through semihosting's
 * SYS_EXIT_EXTENDED with status 0. It measures QEMU's own floor on virt
 * (start-up, loading the Image, the exit) so that scripts/bench --arch
 * aarch64 can report Keel's boot time against it, as null-pvh.elf does on
 * x86_64. The header is the arm64 boot protocol's, as boot/head.S's.
 */
    .section .text, "ax"
    .globl null_image_start
null_image_start:
    b 1f                            /* code0 */
    .long 0                         /* code1 */
    .quad 0                         /* text_offset */
    .quad null_image_end - null_image_start /* image_size */
    .quad 0xa                       /* flags: little endian, 4 KiB pages, anywhere */
    .quad 0, 0, 0                   /* reserved */
    .ascii "ARM\x64"                /* magic */
    .long 0                         /* reserved (PE header offset) */
1:  mov x0, #0x20                   /* SYS_EXIT_EXTENDED */
    adr x1, exit_block
    hlt #0xf000
2:  wfi                             /* semihosting off: nothing else to do */
    b 2b
    .balign 8
exit_block:
    .quad 0x20026                   /* ADP_Stopped_ApplicationExit */
    .quad 0                         /* status */
null_image_end:
