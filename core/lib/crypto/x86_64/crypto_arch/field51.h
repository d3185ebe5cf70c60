// Multiplication and squaring mod 2^255 - 19 on five 51-bit limbs, for the
// Ed25519 in core/lib/crypto (the contract is field51_portable.h's, which
// the tests compare these with, limb for limb).
//
// Written out in assembly because the kernel runs under QEMU's TCG, where
// these are about half of a signature check. Compiled, the five 128-bit
// column sums stay live together and the registers spill: some 45 stack
// accesses per multiplication, each an emulated memory access with a
// software TLB lookup. Here the columns are summed one at a time into
// hi:lo, each limb leaving as soon as its column is complete, and the
// operands stay in registers (but for two of a multiplication's a limbs,
// read from memory by each product: no register is left for them). A
// verification got about a fifth faster in the guest and about 11% slower
// natively.
#pragma once

#include <stdint.h>

namespace keel::crypto_arch {

// hi:lo += x * y, with x in a register and y in a register or memory.
#define KEEL_FIELD51_MULADD(x, y)                                                                                      \
    "mov %[" #x "], %%rax\n\t"                                                                                         \
    "mulq %[" #y "]\n\t"                                                                                               \
    "add %%rax, %[lo]\n\t"                                                                                             \
    "adc %%rdx, %[hi]\n\t"
// hi:lo += 19 x * y, 19 x computed as x + 2 (9 x).
#define KEEL_FIELD51_MULADD_19(x, y)                                                                                   \
    "lea (%[" #x "],%[" #x "],8), %%rax\n\t"                                                                           \
    "lea (%[" #x "],%%rax,2), %%rax\n\t"                                                                               \
    "mulq %[" #y "]\n\t"                                                                                               \
    "add %%rax, %[lo]\n\t"                                                                                             \
    "adc %%rdx, %[hi]\n\t"
// hi:lo += 2 x * y.
#define KEEL_FIELD51_MULADD_2(x, y)                                                                                    \
    "lea (%[" #x "],%[" #x "]), %%rax\n\t"                                                                             \
    "mulq %[" #y "]\n\t"                                                                                               \
    "add %%rax, %[lo]\n\t"                                                                                             \
    "adc %%rdx, %[hi]\n\t"
// Limb k is the column sum's low 51 bits; the rest carries into the next
// column (below 2^74, while a column sums to less than 2^125).
#define KEEL_FIELD51_END_COLUMN(k)                                                                                     \
    "mov %[lo], %%rax\n\t"                                                                                             \
    "shl $13, %%rax\n\t"                                                                                               \
    "shr $13, %%rax\n\t"                                                                                               \
    "mov %%rax, %[h" #k "]\n\t"                                                                                        \
    "shrd $51, %[hi], %[lo]\n\t"                                                                                       \
    "shr $51, %[hi]\n\t"

[[gnu::always_inline]] inline unsigned __int128 field51_square(uint64_t* h, const uint64_t* a)
{
    uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4];
    uint64_t a3_19 = a3 * 19, a4_19 = a4 * 19;
    uint64_t lo = 0, hi = 0, rax, rdx;
    // clang-format off
    asm(KEEL_FIELD51_MULADD(a0, a0)   KEEL_FIELD51_MULADD_2(a1, a4_19) KEEL_FIELD51_MULADD_2(a2, a3_19)
        KEEL_FIELD51_END_COLUMN(0)
        KEEL_FIELD51_MULADD_2(a0, a1) KEEL_FIELD51_MULADD_2(a2, a4_19) KEEL_FIELD51_MULADD(a3, a3_19)
        KEEL_FIELD51_END_COLUMN(1)
        KEEL_FIELD51_MULADD_2(a0, a2) KEEL_FIELD51_MULADD(a1, a1)      KEEL_FIELD51_MULADD_2(a3, a4_19)
        KEEL_FIELD51_END_COLUMN(2)
        KEEL_FIELD51_MULADD_2(a0, a3) KEEL_FIELD51_MULADD_2(a1, a2)    KEEL_FIELD51_MULADD(a4, a4_19)
        KEEL_FIELD51_END_COLUMN(3)
        KEEL_FIELD51_MULADD_2(a0, a4) KEEL_FIELD51_MULADD_2(a1, a3)    KEEL_FIELD51_MULADD(a2, a2)
        KEEL_FIELD51_END_COLUMN(4)
        : [lo] "+r"(lo), [hi] "+r"(hi), "=&a"(rax), "=&d"(rdx),
          [h0] "=m"(h[0]), [h1] "=m"(h[1]), [h2] "=m"(h[2]), [h3] "=m"(h[3]), [h4] "=m"(h[4])
        : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "r"(a3), [a4] "r"(a4),
          [a3_19] "r"(a3_19), [a4_19] "r"(a4_19)
        : "cc");
    // clang-format on
    return (static_cast<unsigned __int128>(hi) << 64) | lo;
}

[[gnu::always_inline]] inline unsigned __int128 field51_mul(uint64_t* h, const uint64_t* a, const uint64_t* b)
{
    uint64_t a0 = a[0], a1 = a[1], a2 = a[2];
    uint64_t b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4];
    uint64_t lo = 0, hi = 0, rax, rdx;
    // clang-format off
    asm(KEEL_FIELD51_MULADD(b0, a0) KEEL_FIELD51_MULADD_19(b4, a1) KEEL_FIELD51_MULADD_19(b3, a2)
        KEEL_FIELD51_MULADD_19(b2, a3) KEEL_FIELD51_MULADD_19(b1, a4)
        KEEL_FIELD51_END_COLUMN(0)
        KEEL_FIELD51_MULADD(b1, a0) KEEL_FIELD51_MULADD(b0, a1) KEEL_FIELD51_MULADD_19(b4, a2)
        KEEL_FIELD51_MULADD_19(b3, a3) KEEL_FIELD51_MULADD_19(b2, a4)
        KEEL_FIELD51_END_COLUMN(1)
        KEEL_FIELD51_MULADD(b2, a0) KEEL_FIELD51_MULADD(b1, a1) KEEL_FIELD51_MULADD(b0, a2)
        KEEL_FIELD51_MULADD_19(b4, a3) KEEL_FIELD51_MULADD_19(b3, a4)
        KEEL_FIELD51_END_COLUMN(2)
        KEEL_FIELD51_MULADD(b3, a0) KEEL_FIELD51_MULADD(b2, a1) KEEL_FIELD51_MULADD(b1, a2)
        KEEL_FIELD51_MULADD(b0, a3) KEEL_FIELD51_MULADD_19(b4, a4)
        KEEL_FIELD51_END_COLUMN(3)
        KEEL_FIELD51_MULADD(b4, a0) KEEL_FIELD51_MULADD(b3, a1) KEEL_FIELD51_MULADD(b2, a2)
        KEEL_FIELD51_MULADD(b1, a3) KEEL_FIELD51_MULADD(b0, a4)
        KEEL_FIELD51_END_COLUMN(4)
        : [lo] "+r"(lo), [hi] "+r"(hi), "=&a"(rax), "=&d"(rdx),
          [h0] "=m"(h[0]), [h1] "=m"(h[1]), [h2] "=m"(h[2]), [h3] "=m"(h[3]), [h4] "=m"(h[4])
        : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "m"(a[3]), [a4] "m"(a[4]),
          [b0] "r"(b0), [b1] "r"(b1), [b2] "r"(b2), [b3] "r"(b3), [b4] "r"(b4)
        : "cc");
    // clang-format on
    return (static_cast<unsigned __int128>(hi) << 64) | lo;
}

#undef KEEL_FIELD51_MULADD
#undef KEEL_FIELD51_MULADD_19
#undef KEEL_FIELD51_MULADD_2
#undef KEEL_FIELD51_END_COLUMN

} // namespace keel::crypto_arch
