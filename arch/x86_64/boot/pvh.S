/*
 * PVH entry point.
 *
 * QEMU (-kernel), Firecracker and cloud-hypervisor find `pvh_start32`
 * through the XEN_ELFNOTE_PHYS32_ENTRY note below and jump to it in 32-bit
 * protected mode, paging off, with %ebx holding the physical address of the
 * hvm_start_info structure. We build just enough page tables to reach the
 * higher half (identity + top-2-GiB views of the first GiB), switch to long
 * mode and call pvh_entry(start_info_phys) (arch/x86_64/entry.cpp). The real page tables are built
 * in C++ (arch/x86_64/paging.cpp).
 */

#define KERNEL_VIRT_BASE 0xffffffff80000000
#define PHYS(sym) ((sym) - KERNEL_VIRT_BASE)

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_PGE (1 << 7)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

    .section .note.Xen, "a"
    .balign 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .globl pvh_start32
    .type pvh_start32, @function
pvh_start32:
    cli
    cld

    /* .bss holds the boot page tables and stack: clear it first, four
     * bytes a step (the linker aligns both ends to 16). Under QEMU's TCG
     * each step of a rep prefix is a trip round a loop: by bytes, the
     * 660 KiB took 0.75 ms. */
    movl $PHYS(__bss_start), %edi
    movl $PHYS(__bss_end), %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    /* One page directory of 2 MiB pages maps the first GiB ... */
    movl $PHYS(boot_pd), %edi
    movl $0x83, %eax                /* present, writable, 2 MiB page */
    movl $512, %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    /* ... at virtual 0 (identity, for this code) and at KERNEL_VIRT_BASE. */
    movl $PHYS(boot_pd) + 3, %eax
    movl %eax, PHYS(boot_pdpt_low)
    movl %eax, PHYS(boot_pdpt_high) + 510 * 8
    movl $PHYS(boot_pdpt_low) + 3, %eax
    movl %eax, PHYS(boot_pml4)
    movl %eax, PHYS(boot_pml4) + 273 * 8     /* the direct map, 0xffff888000000000 */
    movl $PHYS(boot_pdpt_high) + 3, %eax
    movl %eax, PHYS(boot_pml4) + 511 * 8

    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3

    movl %cr4, %eax
    orl $(CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4

    movl $MSR_EFER, %ecx
    rdmsr
    orl $(EFER_LME | EFER_NXE), %eax
    wrmsr

    /* Paging on (long mode), write protection in ring 0, SSE usable. */
    movl %cr0, %eax
    andl $~CR0_EM, %eax
    orl $(CR0_PG | CR0_WP | CR0_MP | CR0_PE), %eax
    movl %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_entry

    .code64
long_mode_entry:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs

    movabsq $boot_stack_top, %rsp
    movl %ebx, %edi                 /* zero-extends: start_info physical address */
    movabsq $pvh_entry, %rax
    xorl %ebp, %ebp                 /* terminates backtraces */
    pushq $0                        /* fake return address, keeps the ABI alignment */
    jmp *%rax
    .size pvh_start32, . - pvh_start32

    .section .boot.rodata, "a"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .bss.boot, "aw", @nobits
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4096
    /* Left unmapped by paging_init: an overflow of the boot stack faults. */
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip 16384
boot_stack_top:
