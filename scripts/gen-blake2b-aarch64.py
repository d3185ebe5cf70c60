#!/usr/bin/env python3
"""Writes core/lib/crypto/aarch64/crypto_arch/blake2b_asm.h: BLAKE2b's
compression function (RFC 7693 section 3.2) in AArch64 assembly, for the
kernel under QEMU's TCG (docs/performance.md, "Issue 15: BLAKE2b in
AArch64 registers").

  gen-blake2b-aarch64.py OUT.h
  gen-blake2b-aarch64.py --check FILE.h   (fails unless FILE.h is what it writes)

Under TCG every guest memory access is an emulated one (a software TLB
lookup, with the guest registers written back first), and they are most
of what hashing costs there. The compiled C++ function keeps the working
vector in registers but not the message: it copies the block's words to
the stack and reads them back, about 140 accesses a block, and it is
called once per block. Here one call compresses a run of blocks; the 16
words of the working vector live in registers for the whole block, and 13
more registers cache message words: a word is read from the block when a
G needs it and is not cached, into the register whose word is needed
furthest in the future (Belady's choice; message words are never written,
so dropping one costs nothing). Every register but sp, x29 (the frame
pointer stays a frame pointer, for backtraces) and x1 (the block) holds a
word; what else a block needs (the state pointer, the counter, the count,
the final-block mask) lives in the frame. AArch64's three-operand add,
eor and ror need no temporary.

The function compresses `count` consecutive blocks:
  void keel_blake2b_compress_a64(uint64_t state[8], const uint8_t* blocks,
      size_t count, uint64_t counter, uint64_t final_mask)
`counter` is the byte count t after the first block (each next block adds
128); `final_mask` is ~0 for the message's last block and 0 otherwise.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel.blake2b_spec import G_WORDS, IV, ROUNDS, SIGMA, write_header  # noqa: E402

BLOCK = "x1"
# The working vector's registers (x0, x2-x4 are free once the arguments
# are in the frame), then the message cache's.
VECTOR = ["x0"] + [f"x{i}" for i in range(2, 17)]
CACHE = ["x17", "x18"] + [f"x{i}" for i in range(19, 29)] + ["x30"]
SYMBOL = "keel_blake2b_compress_a64"
# The frame: x29 and x30, x18-x28 (stored in pairs, the last with xzr),
# then the arguments kept across blocks.
SAVED = ["x18"] + [f"x{i}" for i in range(19, 29)] + ["xzr"]
STATE, COUNT, COUNTER, MASK = (16 + 8 * len(SAVED) + 8 * i for i in range(4))
FRAME = 16 + 8 * len(SAVED) + 32


def message_uses():
    """The message word each use reads, in execution order (two per G)."""
    uses = []
    for r in range(ROUNDS):
        s = SIGMA[r % 10]
        for g in range(8):
            uses += [s[2 * g], s[2 * g + 1]]
    return uses


class MessageCache:
    """Which message word each cache register holds."""

    def __init__(self):
        self.holds = {register: None for register in CACHE}
        self.loads = 0

    def get(self, word, position, uses, out):
        """The register holding `word`, read from the block if it is not
        cached; `position`: this use's index in `uses`."""
        for register, held in self.holds.items():
            if held == word:
                return register

        def next_use(register):
            held = self.holds[register]
            if held is None:
                return -1
            for later in range(position, len(uses)):
                if uses[later] == held:
                    return later - position
            return len(uses)

        free = [r for r in CACHE if self.holds[r] is None]
        victim = free[0] if free else max(CACHE, key=next_use)
        out.append(f"ldr {victim}, [{BLOCK}, #{8 * word}]")
        self.holds[victim] = word
        self.loads += 1
        return victim


def load_constant(register, value):
    """mov/movk: no literal pool, so no memory access."""
    out = [f"mov {register}, #{value & 0xffff:#x}"]
    for shift in (16, 32, 48):
        out.append(f"movk {register}, #{(value >> shift) & 0xffff:#x}, lsl #{shift}")
    return out


def rounds():
    """The twelve rounds; the message cache starts empty for each block."""
    uses = message_uses()
    cache = MessageCache()
    out = []
    position = 0
    for r in range(ROUNDS):
        for g, words in enumerate(G_WORDS):
            out.append(f"// round {r}, G{g}")
            a, b, c, d = (VECTOR[w] for w in words)
            for first, second in ((32, 24), (16, 63)):
                m = cache.get(uses[position], position, uses, out)
                position += 1
                out += [f"add {a}, {a}, {b}", f"add {a}, {a}, {m}", f"eor {d}, {d}, {a}", f"ror {d}, {d}, #{first}",
                        f"add {c}, {c}, {d}", f"eor {b}, {b}, {c}", f"ror {b}, {b}, #{second}"]
    return out, cache.loads


def generate():
    body, loads = rounds()
    out = [f".pushsection .text.{SYMBOL},\"axG\",%progbits,{SYMBOL},comdat", f".globl {SYMBOL}",
           f".hidden {SYMBOL}", f".type {SYMBOL},%function", ".p2align 4", f"{SYMBOL}:"]
    out += [f"stp x29, x30, [sp, #-{FRAME}]!", "mov x29, sp"]
    for i in range(0, len(SAVED), 2):
        out.append(f"stp {SAVED[i]}, {SAVED[i + 1]}, [sp, #{16 + 8 * i}]")
    out += [f"str x0, [sp, #{STATE}]", f"str x2, [sp, #{COUNT}]", f"str x3, [sp, #{COUNTER}]",
            f"str x4, [sp, #{MASK}]", "1:"]
    # v[0..7] = state, through a cache register (free until the rounds).
    pointer, scratch = CACHE[0], CACHE[1]
    out.append(f"ldr {pointer}, [sp, #{STATE}]")
    for i in range(0, 8, 2):
        out.append(f"ldp {VECTOR[i]}, {VECTOR[i + 1]}, [{pointer}, #{8 * i}]")
    for i in range(8):
        out += load_constant(VECTOR[8 + i], IV[i])
    out += [f"ldr {scratch}, [sp, #{COUNTER}]", f"eor {VECTOR[12]}, {VECTOR[12]}, {scratch}",  # high word 0
            f"ldr {scratch}, [sp, #{MASK}]", f"eor {VECTOR[14]}, {VECTOR[14]}, {scratch}"]
    out += body
    # state[i] ^= v[i] ^ v[i + 8], through the cache registers, free again.
    out.append("// state ^= v[0..7] ^ v[8..15]")
    out.append(f"ldr {pointer}, [sp, #{STATE}]")
    h = CACHE[1:9]
    for i in range(0, 8, 2):
        out.append(f"ldp {h[i]}, {h[i + 1]}, [{pointer}, #{8 * i}]")
    for i in range(8):
        out += [f"eor {h[i]}, {h[i]}, {VECTOR[i]}", f"eor {h[i]}, {h[i]}, {VECTOR[i + 8]}"]
    for i in range(0, 8, 2):
        out.append(f"stp {h[i]}, {h[i + 1]}, [{pointer}, #{8 * i}]")
    out += [f"add {BLOCK}, {BLOCK}, #128", f"ldr {scratch}, [sp, #{COUNTER}]", f"add {scratch}, {scratch}, #128",
            f"str {scratch}, [sp, #{COUNTER}]", f"ldr {scratch}, [sp, #{COUNT}]", f"subs {scratch}, {scratch}, #1",
            f"str {scratch}, [sp, #{COUNT}]", "b.ne 1b"]
    for i in range(0, len(SAVED) - 2, 2):
        out.append(f"ldp {SAVED[i]}, {SAVED[i + 1]}, [sp, #{16 + 8 * i}]")
    out.append(f"ldr {SAVED[-2]}, [sp, #{16 + 8 * (len(SAVED) - 2)}]")
    out += [f"ldp x29, x30, [sp], #{FRAME}", "ret", f".size {SYMBOL}, .-{SYMBOL}", ".popsection"]
    return out, loads


def main():
    lines, loads = generate()
    body_start = lines.index("1:")
    body_end = lines.index("b.ne 1b")
    accesses = sum(2 if line.startswith(("ldp", "stp")) else 1
                   for line in lines[body_start:body_end] if line.startswith(("ldr", "str", "ldp", "stp")))
    write_header("gen-blake2b-aarch64", __doc__,
                 [f"{loads} message reads and {accesses} memory accesses in all per block."], lines)


if __name__ == "__main__":
    main()
