// BLAKE2b's compression function in assembly with BMI2's rorx and SSE4.1's
// pextrq, where the CPU has both; blake2b.cpp falls back to its C++ one
// elsewhere.
//
// Under QEMU's TCG every guest memory access is an emulated one, and the
// compiled function makes 437 per block (its 16-word working vector does
// not fit the registers, and it reads the message from memory at each
// use); the generated assembly (scripts/gen-blake2b-x86_64.py explains it)
// reads the block once into xmm registers, spills into xmm registers too,
// and has 39 instructions with a memory operand a block (and saves and
// restores the xmm registers it uses once a call, since it also runs in
// interrupt handlers). docs/performance.md has the figures.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto_arch/blake2b_asm.h"

extern "C" void keel_blake2b_compress_x86_64(
    uint64_t* state, const uint8_t* blocks, size_t count, uint64_t counter, uint64_t final_mask);

namespace keel::crypto_arch {

// BMI2 (CPUID leaf 7, EBX bit 8) and SSE4.1 (leaf 1, ECX bit 19), asked
// once; 1 or 0, -1 until asked.
inline bool cpu_runs_blake2b_asm()
{
    static int8_t known = -1;
    int8_t answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (answer < 0) {
        uint32_t max_leaf, a, b, c, d;
        asm volatile("cpuid" : "=a"(max_leaf), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
        answer = 0;
        if (max_leaf >= 7) {
            asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
            bool sse41 = (c >> 19) & 1;
            asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
            answer = sse41 && ((b >> 8) & 1);
        }
        __atomic_store_n(&known, answer, __ATOMIC_RELAXED);
    }
    return answer != 0;
}

// Compresses `count` consecutive blocks into `state` and returns true, or
// returns false without touching anything when the CPU cannot run it.
// `counter`: the message length after the first block; `last`: the first
// block is the message's last (then count is 1).
inline bool blake2b_compress(uint64_t* state, const uint8_t* blocks, size_t count, uint64_t counter, bool last)
{
    if (!cpu_runs_blake2b_asm())
        return false;
    keel_blake2b_compress_x86_64(state, blocks, count, counter, last ? ~uint64_t(0) : 0);
    return true;
}

} // namespace keel::crypto_arch
