#!/usr/bin/env python3
"""Writes core/lib/crypto/x86_64/crypto_arch/blake2b_asm.h: BLAKE2b's
compression function (RFC 7693 section 3.2) in x86-64 assembly with BMI2's
rorx and SSE4.1's pextrq, for the kernel under QEMU's TCG
(docs/performance.md, "Issue 12, fifth pass").

  gen-blake2b-x86_64.py OUT.h
  gen-blake2b-x86_64.py --check FILE.h   (fails unless FILE.h is what it writes)

Under TCG every guest memory access is an emulated one (a software TLB
lookup, with the guest registers written back first), and they are most
of what hashing costs there: the compiled compression function makes 437
per block, 192 of them reading the message. Moving a word between a
general register and an xmm register is not one: TCG keeps the xmm
registers in its own CPU state, so the move is a plain host load or store.
So the block is read once, two words into each of xmm0-xmm7, and each G
takes its message words from there through rsi, the one temporary. The
working vector lives in registers: 14 of its 16 words (every register but
rsp and rsi), the other two in the low halves of xmm8-xmm10 (their slots
and a spare). Before each G the words it needs are brought in, each in
exchange for the register word used furthest in the future (Belady's
choice), through the spare: two moves, no memory. The four G of a step
are independent, so each step runs them in the order that needs the
fewest exchanges. rorx rotates without a temporary and without touching
the flags, which a rotate instruction would make TCG compute out of line.

The function leaves the xmm registers as it found them (xmm0-xmm10 saved
in its frame and restored): it also runs in interrupt handlers (the
entropy pool hashes interrupt timings), where the interrupted code's xmm
registers are live (modules may use SSE; the interrupt entry does not
save the FPU state). And interrupts are off (the caller's flags saved and
restored) from the block's first read into an xmm register to the last
read out of one, about a microsecond under TCG, so that an interrupt
handler using SSE cannot change a word in the middle of a block.

The function compresses `count` consecutive blocks:
  void keel_blake2b_compress_x86_64(uint64_t state[8], const uint8_t* blocks,
      size_t count, uint64_t counter, uint64_t final_mask)
`counter` is the byte count t after the first block (each next block adds
128); `final_mask` is ~0 for the message's last block and 0 otherwise.
"""

import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel.blake2b_spec import G_WORDS, IV, ROUNDS, SIGMA, write_header  # noqa: E402

# A round's two steps: columns, then diagonals.
STEPS = [G_WORDS[:4], G_WORDS[4:]]
REGISTERS = ["rax", "rbx", "rcx", "rdx", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
SAVED = ["rbx", "rbp", "r12", "r13", "r14", "r15"]
SYMBOL = "keel_blake2b_compress_x86_64"
# The message: two words in each of xmm0-xmm7. The slots of the two
# spilled words and the spare: xmm8-xmm10's low halves.
SLOT_XMM = 8
# The frame: the arguments kept across blocks.
STATE, COUNT, COUNTER, MASK, BLOCKS, FLAGS = (8 * i for i in range(6))
# Then the caller's xmm0-xmm10, given back at the end.
XMM_USED = SLOT_XMM + 3
SAVED_XMM = 8 * 6
FRAME = SAVED_XMM + 16 * XMM_USED


def message_word(word):
    """Into rsi, the temporary: an even word is its register's low half."""
    if word % 2 == 0:
        return f"movq %xmm{word // 2}, %rsi"
    return f"pextrq $1, %xmm{word // 2}, %rsi"


def steps():
    """[(round, step, the step's four G)] in execution order."""
    return [(r, s, STEPS[s]) for r in range(ROUNDS) for s in range(2)]


class Allocation:
    """Where each word of the working vector is: ("reg", name) or ("slot", index)."""

    def __init__(self, spilled):
        registers = iter(REGISTERS)
        self.location = {}
        for slot, word in enumerate(spilled):
            self.location[word] = ("slot", slot)
        for word in range(16):
            if word not in spilled:
                self.location[word] = ("reg", next(registers))
        self.spare = len(spilled)
        self.swaps = 0

    def copy(self):
        other = Allocation.__new__(Allocation)
        other.location = dict(self.location)
        other.spare = self.spare
        other.swaps = self.swaps
        return other

    def bring_in(self, needed, future, out):
        """Makes every word of `needed` a register word. `future`: the word
        sets of the G applications to come, in order."""
        for word in needed:
            if self.location[word][0] == "reg":
                continue

            def next_use(w):
                for distance, uses in enumerate(future):
                    if w in uses:
                        return distance
                return len(future)

            candidates = [w for w in range(16) if self.location[w][0] == "reg" and w not in needed]
            victim = max(candidates, key=next_use)
            register = self.location[victim][1]
            slot = self.location[word][1]
            out.append(f"movq %{register}, %xmm{SLOT_XMM + self.spare}")
            out.append(f"movq %xmm{SLOT_XMM + slot}, %{register}")
            self.location[victim] = ("slot", self.spare)
            self.location[word] = ("reg", register)
            self.spare = slot
            self.swaps += 1

    def reg(self, word):
        kind, where = self.location[word]
        assert kind == "reg"
        return "%" + where


def run_step(allocation, round_number, step, order, later, out):
    """Emits one step's four G in `order`; `later`: word sets of the G
    applications after this step."""
    gs = [STEPS[step][i] for i in order]
    for i, words in enumerate(gs):
        future = [set(w) for w in gs[i:]] + later
        allocation.bring_in(words, future, out)
        index = 4 * step + order[i]
        s = SIGMA[round_number % 10]
        out.append(f"# round {round_number}, G{index}")
        a, b, c, d = (allocation.reg(w) for w in words)
        for message, (first, second) in ((s[2 * index], (32, 24)), (s[2 * index + 1], (16, 63))):
            out += [message_word(message), f"add {b}, {a}", f"add %rsi, {a}", f"xor {a}, {d}",
                    f"rorx ${first}, {d}, {d}", f"add {d}, {c}", f"xor {c}, {b}", f"rorx ${second}, {b}, {b}"]


def schedule(spilled):
    """The rounds' instructions with each step's order chosen greedily, and
    the allocation at their end."""
    allocation = Allocation(spilled)
    out = []
    all_steps = steps()
    for k, (round_number, step, _) in enumerate(all_steps):
        later = [set(w) for _, _, gs in all_steps[k + 1:] for w in gs]
        best = None
        for order in itertools.permutations(range(4)):
            trial = allocation.copy()
            run_step(trial, round_number, step, order, later, [])
            if best is None or trial.swaps < best[0]:
                best = (trial.swaps, order)
        run_step(allocation, round_number, step, best[1], later, out)
    return out, allocation


def initial_value(word, register):
    """Instructions loading word `word` of the initial working vector (the
    state pointer in r15)."""
    if word < 8:
        return [f"mov {8 * word}(%r15), %{register}"]
    constant = f"movabs ${IV[word - 8]:#x}, %{register}"
    if word == 12:
        return [constant, f"xor {COUNTER}(%rsp), %{register}"]  # the counter's high word is 0
    if word == 14:
        return [constant, f"xor {MASK}(%rsp), %{register}"]
    return [constant]


def generate():
    candidates = []
    for spilled in itertools.combinations(range(16), 2):
        if Allocation(spilled).location[0] != ("reg", "rax"):
            continue  # rax carries the spilled words' initial values
        body, final = schedule(spilled)
        candidates.append((final.swaps, spilled, body, final))
    swaps, spilled, body, final = min(candidates, key=lambda c: c[0])
    start = Allocation(spilled)
    out = [f".pushsection .text.{SYMBOL},\"axG\",@progbits,{SYMBOL},comdat", f".globl {SYMBOL}",
           f".hidden {SYMBOL}", f".type {SYMBOL},@function", ".p2align 4", f"{SYMBOL}:"]
    out += [f"push %{r}" for r in SAVED]
    out += [f"sub ${FRAME}, %rsp"]
    out += [f"movdqu %xmm{i}, {SAVED_XMM + 16 * i}(%rsp)" for i in range(XMM_USED)]
    out += [f"mov %rdi, {STATE}(%rsp)", f"mov %rdx, {COUNT}(%rsp)",
            f"mov %rcx, {COUNTER}(%rsp)", f"mov %r8, {MASK}(%rsp)", f"mov %rsi, {BLOCKS}(%rsp)"]
    # Interrupts stay off while the xmm registers hold anything.
    # popfq, not cli, clears IF: at CPL 3 (the host's unit test) it leaves
    # IF alone where cli would fault.
    out += ["1:", "pushfq", "pop %rax", f"mov %rax, {FLAGS}(%rsp)", "btr $9, %rax", "push %rax", "popfq",
            f"mov {BLOCKS}(%rsp), %rsi"]
    out += [f"movdqu {16 * i}(%rsi), %xmm{i}" for i in range(8)]
    out.append(f"mov {STATE}(%rsp), %r15")
    for word in spilled:
        out += initial_value(word, "rax")
        out.append(f"movq %rax, %xmm{SLOT_XMM + start.location[word][1]}")
    # r15's own word last: until then it holds the state pointer.
    for word in sorted(range(16), key=lambda w: start.location[w] == ("reg", "r15")):
        if start.location[word][0] == "reg":
            out += initial_value(word, start.location[word][1])
    out += body
    # state[i] ^= v[i] ^ v[i + 8], pairs held in registers first, so that
    # their registers are free for the slot words.
    out.append("# state ^= v[0..7] ^ v[8..15]")
    pairs = sorted(range(8), key=lambda i: any(final.location[w][0] == "slot" for w in (i, i + 8)))
    free = []
    pointer = None
    for i in pairs:
        for w in (i, i + 8):
            if final.location[w][0] == "slot":
                register = free.pop()
                out.append(f"movq %xmm{SLOT_XMM + final.location[w][1]}, %{register}")
                final.location[w] = ("reg", register)
        a, b = final.location[i][1], final.location[i + 8][1]
        out.append(f"xor %{b}, %{a}")
        if pointer is None:
            pointer = b
            out.append(f"mov {STATE}(%rsp), %{pointer}")
        else:
            free.append(b)
        out.append(f"xor %{a}, {8 * i}(%{pointer})")
        free.append(a)
    out += [f"push {FLAGS}(%rsp)", "popfq", f"addq $128, {BLOCKS}(%rsp)", f"addq $128, {COUNTER}(%rsp)",
            f"decq {COUNT}(%rsp)", "jnz 1b"]
    out += [f"movdqu {SAVED_XMM + 16 * i}(%rsp), %xmm{i}" for i in range(XMM_USED)]
    out.append(f"add ${FRAME}, %rsp")
    out += [f"pop %{r}" for r in reversed(SAVED)]
    out += ["ret", f".size {SYMBOL}, .-{SYMBOL}", ".popsection"]
    return out, swaps, spilled


def main():
    lines, swaps, spilled = generate()
    memory = sum(1 for line in lines if "(" in line and not line.startswith(("#", ".")))
    write_header("gen-blake2b-x86_64", __doc__,
                 [f"{swaps} exchanges per block; words {spilled[0]} and {spilled[1]} start in slots;",
                  f"{memory} instructions with a memory operand."], lines)


if __name__ == "__main__":
    main()
