// The x86_64 BLAKE2b compression function keeps words in xmm0-xmm10, and it
// also runs in interrupt handlers (the entropy pool hashes interrupt
// timings), whose interrupted code may hold values there: it must leave
// every xmm register as it found it. Built for x86_64 hosts only
// (tests/unit/crypto/meson.build).
#include <string.h>

#include <catch2/catch.hpp>

#include "crypto_arch/blake2b_compress.h"
#include "lib/crypto/blake2b.h"

TEST_CASE("blake2b x86_64 assembly: every xmm register as it was", "[crypto][blake2b]")
{
    REQUIRE(keel::crypto_arch::cpu_runs_blake2b_asm()); // the host runs what the guest runs
    alignas(16) uint8_t before[16 * 16];
    alignas(16) uint8_t after[16 * 16];
    for (size_t i = 0; i < sizeof(before); i++)
        before[i] = uint8_t(i * 7 + 3);
    memset(after, 0, sizeof(after));
    uint64_t state[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    alignas(16) uint8_t blocks[3 * 128];
    for (size_t i = 0; i < sizeof(blocks); i++)
        blocks[i] = uint8_t(i);
    // The call from assembly, so that no compiled code touches the xmm
    // registers between setting them and reading them back; below the red
    // zone, on a 16-byte aligned stack.
    asm volatile("mov %%rsp, %%rbx\n"
                 "sub $128, %%rsp\n"
                 "and $-16, %%rsp\n"
                 "movdqa 0(%[in]), %%xmm0\n movdqa 16(%[in]), %%xmm1\n movdqa 32(%[in]), %%xmm2\n"
                 "movdqa 48(%[in]), %%xmm3\n movdqa 64(%[in]), %%xmm4\n movdqa 80(%[in]), %%xmm5\n"
                 "movdqa 96(%[in]), %%xmm6\n movdqa 112(%[in]), %%xmm7\n movdqa 128(%[in]), %%xmm8\n"
                 "movdqa 144(%[in]), %%xmm9\n movdqa 160(%[in]), %%xmm10\n movdqa 176(%[in]), %%xmm11\n"
                 "movdqa 192(%[in]), %%xmm12\n movdqa 208(%[in]), %%xmm13\n movdqa 224(%[in]), %%xmm14\n"
                 "movdqa 240(%[in]), %%xmm15\n"
                 "mov %[state], %%rdi\n"
                 "mov %[blocks], %%rsi\n"
                 "mov $3, %%edx\n"
                 "mov $128, %%ecx\n"
                 "xor %%r8d, %%r8d\n"
                 "call keel_blake2b_compress_x86_64\n"
                 "movdqa %%xmm0, 0(%[out])\n movdqa %%xmm1, 16(%[out])\n movdqa %%xmm2, 32(%[out])\n"
                 "movdqa %%xmm3, 48(%[out])\n movdqa %%xmm4, 64(%[out])\n movdqa %%xmm5, 80(%[out])\n"
                 "movdqa %%xmm6, 96(%[out])\n movdqa %%xmm7, 112(%[out])\n movdqa %%xmm8, 128(%[out])\n"
                 "movdqa %%xmm9, 144(%[out])\n movdqa %%xmm10, 160(%[out])\n movdqa %%xmm11, 176(%[out])\n"
                 "movdqa %%xmm12, 192(%[out])\n movdqa %%xmm13, 208(%[out])\n movdqa %%xmm14, 224(%[out])\n"
                 "movdqa %%xmm15, 240(%[out])\n"
                 "mov %%rbx, %%rsp\n"
                 :
                 : [in] "r"(before), [out] "r"(after), [state] "r"(state), [blocks] "r"(blocks)
                 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0", "xmm1", "xmm2", "xmm3",
                 "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
                 "memory", "cc");
    CHECK(memcmp(before, after, sizeof(before)) == 0);
    // And it compressed: the same three blocks through the C++ function.
    uint64_t expected[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    for (int i = 0; i < 3; i++)
        keel::blake2b_compress_portable(expected, blocks + 128 * i, 128 * (i + 1), false);
    CHECK(memcmp(state, expected, sizeof(state)) == 0);
}
