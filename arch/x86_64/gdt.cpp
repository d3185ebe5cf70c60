// GDT and TSS. Long mode barely uses segmentation, but the TSS is how the
// CPU finds the interrupt stacks (IST) that let a double fault or NMI run
// on a known-good stack even when the current one overflowed.
#include "arch/interrupts.h"

#include <stddef.h>

namespace keel::arch {

namespace {

struct [[gnu::packed]] Tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
static_assert(sizeof(Tss) == 104);

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

constexpr size_t kIstStackSize = 16384;
alignas(16) uint8_t g_ist_stacks[2][kIstStackSize];
alignas(16) uint8_t g_ring0_stack[kIstStackSize];

Tss g_tss;

// null, kernel code, kernel data, user data, user code, TSS (two slots)
alignas(16) uint64_t g_gdt[7] = {
    0,
    0x00af9a000000ffff,
    0x00cf92000000ffff,
    0x00cff2000000ffff,
    0x00affa000000ffff,
    0,
    0,
};

constexpr uint16_t kKernelCode = 0x08;
constexpr uint16_t kKernelData = 0x10;
constexpr uint16_t kTssSelector = 0x28;

} // namespace

void gdt_init()
{
    g_tss.rsp[0] = reinterpret_cast<uint64_t>(g_ring0_stack + kIstStackSize);
    g_tss.ist[kIstDoubleFault - 1] = reinterpret_cast<uint64_t>(g_ist_stacks[0] + kIstStackSize);
    g_tss.ist[kIstNmi - 1] = reinterpret_cast<uint64_t>(g_ist_stacks[1] + kIstStackSize);
    g_tss.iomap_base = sizeof(Tss);

    uint64_t base = reinterpret_cast<uint64_t>(&g_tss);
    uint64_t limit = sizeof(Tss) - 1;
    g_gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    g_gdt[6] = base >> 32;

    DescriptorPointer pointer { sizeof(g_gdt) - 1, reinterpret_cast<uint64_t>(g_gdt) };
    asm volatile("lgdt %0\n"
                 "pushq %1\n"
                 "leaq 1f(%%rip), %%rax\n"
                 "pushq %%rax\n"
                 "lretq\n"
                 "1:\n"
                 "movw %2, %%ax\n"
                 "movw %%ax, %%ds\n"
                 "movw %%ax, %%es\n"
                 "movw %%ax, %%ss\n"
                 "ltr %3\n"
                 :
                 : "m"(pointer), "i"(uint64_t(kKernelCode)), "i"(kKernelData), "r"(kTssSelector)
                 : "rax", "memory");
}

} // namespace keel::arch
