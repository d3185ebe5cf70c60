/*
 * The arm64 Image entry.
 *
 * The image starts with the 64-byte header of the arm64 boot protocol, so
 * QEMU's -kernel, U-Boot's booti and a FIT's bootm all take it (and an EFI
 * stub could be added in the reserved fields). The boot loader enters the
 * first byte with the MMU and data cache off, x0 holding the physical
 * address of the flattened device tree, at EL2 or EL1, at whatever 2 MiB
 * boundary it chose.
 *
 * From EL2 we drop to EL1 (AArch64, the timer and the GIC's system
 * registers reachable, no FP traps). At EL1: clear .bss, build boot page
 * tables (TTBR1: the image at KERNEL_VIRT_BASE, RAM in [1, 4) GiB at the
 * direct map and a fixmap for the console UART; TTBR0: the same RAM
 * identity-mapped for the instructions that turn the MMU on), turn the MMU
 * on and call arm64_entry(fdt_phys) (entry.cpp) at the linked address. The
 * kernel's real page tables are built in C++ (paging.cpp).
 *
 * Everything here runs before the MMU is on at an address not known when
 * linking: only PC-relative addressing (adr, adrp) until the jump.
 */

#define KERNEL_VIRT_BASE 0xffffffff80000000

/* Translation table descriptors (4 KiB granule). */
#define DESC_TABLE      0x3
#define DESC_BLOCK      0x1
#define DESC_AF         (1 << 10)
#define DESC_SH_INNER   (3 << 8)
#define DESC_ATTR_NORMAL (0 << 2)   /* MAIR index 0 */
#define BLOCK_NORMAL    (DESC_BLOCK | DESC_AF | DESC_SH_INNER | DESC_ATTR_NORMAL)

/* MAIR: 0 normal write-back, 1 device nGnRnE, 2 device nGnRE. */
#define MAIR_VALUE      0x0400ff
/* TCR: 48-bit halves, 4 KiB granules, write-back inner-shareable walks. */
#define TCR_VALUE       0xb5103510
#define SCTLR_RES1      0x30d00800
#define SCTLR_MMU_ON    (SCTLR_RES1 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12))

    .section .head.text, "ax"
    .globl _head
_head:
    b primary_entry                 /* code0 */
    .long 0                         /* code1 */
    .quad 0                         /* text_offset */
    .quad __image_size              /* image_size, .bss included */
    .quad 0xa                       /* flags: little endian, 4 KiB pages, anywhere */
    .quad 0                         /* res2 */
    .quad 0                         /* res3 */
    .quad 0                         /* res4 */
    .ascii "ARM\x64"                /* magic */
    .long 0                         /* res5: no PE header */

primary_entry:
    mov x21, x0                     /* the device tree */
    adr x22, _head                  /* where we were loaded */
    mrs x0, CurrentEL
    lsr x0, x0, #2
    cmp x0, #2
    b.eq el2_entry
    cmp x0, #1
    b.eq el1_entry
1:  wfe                             /* EL3 is not supported */
    b 1b

el2_entry:
    mov x0, #(1 << 31)              /* HCR_EL2.RW: EL1 is AArch64 */
    msr hcr_el2, x0
    mrs x0, cnthctl_el2
    orr x0, x0, #3                  /* EL1PCTEN, EL1PCEN: counters and timers */
    msr cnthctl_el2, x0
    msr cntvoff_el2, xzr
    mrs x0, id_aa64pfr0_el1
    ubfx x0, x0, #24, #4            /* GIC system registers implemented? */
    cbz x0, 2f
    mrs x0, s3_4_c12_c9_5           /* ICC_SRE_EL2 */
    mov x1, #0x9                    /* SRE, Enable: EL1 may use them */
    orr x0, x0, x1
    msr s3_4_c12_c9_5, x0
    isb
2:  mov x0, #0x33ff                 /* CPTR_EL2: no FP/SIMD traps */
    msr cptr_el2, x0
    msr hstr_el2, xzr
    ldr x0, =SCTLR_RES1
    msr sctlr_el1, x0
    msr vttbr_el2, xzr
    mov x0, #0x3c5                  /* EL1h, DAIF masked */
    msr spsr_el2, x0
    adr x0, el1_entry
    msr elr_el2, x0
    eret

el1_entry:
    msr daifset, #0xf
    mov x0, #(3 << 20)              /* CPACR_EL1.FPEN: modules may use FP/SIMD */
    msr cpacr_el1, x0
    isb

    /* .bss holds the boot page tables and stack: clear it first. */
    adrp x0, __bss_start
    add x0, x0, :lo12:__bss_start
    adrp x1, __bss_end
    add x1, x1, :lo12:__bss_end
3:  cmp x0, x1                      /* both ends are 16-byte aligned (linker.ld) */
    b.hs 4f
    stp xzr, xzr, [x0], #16
    b 3b
4:
    adrp x0, keel_kernel_phys_base
    str x22, [x0, :lo12:keel_kernel_phys_base]

    /* RAM in [1, 4) GiB in 1 GiB blocks, identity (TTBR0) and direct map (TTBR1). */
    adrp x1, boot_l1_ram
    mov x2, #1
5:  lsl x3, x2, #30
    mov x4, #BLOCK_NORMAL
    orr x3, x3, x4
    str x3, [x1, x2, lsl #3]
    add x2, x2, #1
    cmp x2, #4
    b.lo 5b
    orr x3, x1, #DESC_TABLE
    adrp x0, boot_l0_low
    str x3, [x0]                                /* L0[0]: identity */
    adrp x0, boot_l0_high
    str x3, [x0, #273 * 8]                      /* L0[273]: 0xffff888000000000 */

    /* The image: 32 MiB in 2 MiB blocks at KERNEL_VIRT_BASE (L0 511, L1 510). */
    adrp x1, boot_l2_image
    mov x2, #0
6:  add x3, x22, x2, lsl #21
    mov x4, #BLOCK_NORMAL
    orr x3, x3, x4
    str x3, [x1, x2, lsl #3]
    add x2, x2, #1
    cmp x2, #16
    b.lo 6b
    adrp x0, boot_l1_image
    orr x3, x1, #DESC_TABLE
    str x3, [x0, #510 * 8]
    /* The fixmap's page table at the top 2 MiB (L1 511, L2 511). */
    adrp x1, boot_l2_fixmap
    orr x3, x1, #DESC_TABLE
    str x3, [x0, #511 * 8]
    adrp x2, keel_fixmap_table
    orr x3, x2, #DESC_TABLE
    str x3, [x1, #511 * 8]
    adrp x1, boot_l0_high
    orr x3, x0, #DESC_TABLE
    str x3, [x1, #511 * 8]

    ldr x0, =MAIR_VALUE
    msr mair_el1, x0
    ldr x0, =TCR_VALUE
    mrs x1, id_aa64mmfr0_el1
    and x1, x1, #0x7                /* PARange */
    cmp x1, #5
    mov x2, #5
    csel x1, x1, x2, ls             /* at most 48-bit physical addresses */
    bfi x0, x1, #32, #3             /* TCR_EL1.IPS */
    msr tcr_el1, x0
    adrp x0, boot_l0_low
    msr ttbr0_el1, x0
    adrp x0, boot_l0_high
    msr ttbr1_el1, x0
    isb
    tlbi vmalle1
    dsb nsh
    isb
    ldr x0, =SCTLR_MMU_ON
    msr sctlr_el1, x0
    isb
    ldr x0, =virtual_entry          /* the linked address */
    br x0

virtual_entry:
    adrp x0, boot_stack_top
    add sp, x0, :lo12:boot_stack_top
    mov x29, #0                     /* terminates backtraces */
    mov x30, #0
    mov x0, x21
    bl arm64_entry
7:  wfe
    b 7b
    .ltorg

    .data
    .balign 8
    .globl keel_kernel_phys_base
keel_kernel_phys_base:
    .quad 0

    .section .bss.boot, "aw", @nobits
    .balign 4096
boot_l0_low:
    .skip 4096
boot_l0_high:
    .skip 4096
boot_l1_ram:
    .skip 4096
boot_l1_image:
    .skip 4096
boot_l2_image:
    .skip 4096
boot_l2_fixmap:
    .skip 4096
    .globl keel_fixmap_table
keel_fixmap_table:
    .skip 4096
    /* Left unmapped by paging_init: an overflow of the boot stack faults. */
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip 16384
boot_stack_top:
