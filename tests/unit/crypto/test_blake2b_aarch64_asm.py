#!/usr/bin/env python3
"""Runs the generated AArch64 BLAKE2b compression function
(core/lib/crypto/aarch64/crypto_arch/blake2b_asm.h) on a small model of
the instructions it uses, and checks what it computes against Python's
hashlib for messages of many lengths, and that it keeps the AAPCS64's
promises: x18-x30 and sp as they were; it reads only its frame (at or
above sp), the state and the blocks, and writes only its frame and the
state.

The host cannot run AArch64 code; the boot case
`b2sum-matches-the-host-on-every-length` runs it in the guest.

  test_blake2b_aarch64_asm.py HEADER
"""

import hashlib
import re
import sys

MASK = (1 << 64) - 1
# The initial state, written out here rather than taken from the generator's
# constants (scripts/keel/blake2b_spec.py), so that a wrong constant there
# cannot agree with itself.
IV = [0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
      0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179]
STATE_ADDRESS, BLOCKS_ADDRESS, STACK_TOP = 0x10000, 0x20000, 0x80000


def instructions(header):
    """The function's instructions and labels, from the header's asm."""
    text = open(header).read()
    body = text[text.index('asm(R"(') + 7:text.index(')");')]
    lines = [line.strip() for line in body.splitlines()]
    return [line for line in lines if line and not line.startswith((".", "//"))]


class Machine:
    def __init__(self, program):
        self.program = program
        self.labels = {line[:-1]: i for i, line in enumerate(program) if line.endswith(":")}
        self.x = [0] * 31
        self.sp = STACK_TOP
        self.memory = {}
        self.z = False
        self.checking = False
        self.blocks_size = 0

    def reg(self, name):
        if name == "sp":
            return self.sp
        if name == "xzr":
            return 0
        return self.x[int(name[1:])]

    def set(self, name, value):
        value &= MASK
        if name == "sp":
            self.sp = value
        elif name != "xzr":
            self.x[int(name[1:])] = value

    def in_frame(self, address):
        """At or above sp (nothing lives below it), below the caller's stack top."""
        return self.sp <= address < STACK_TOP

    def load(self, address):
        assert address % 8 == 0, hex(address)
        if self.checking:
            in_state = STATE_ADDRESS <= address < STATE_ADDRESS + 64
            in_blocks = BLOCKS_ADDRESS <= address < BLOCKS_ADDRESS + self.blocks_size
            assert in_state or in_blocks or self.in_frame(address), f"read {address:#x}"
        return int.from_bytes(bytes(self.memory.get(address + i, 0) for i in range(8)), "little")

    def store(self, address, value):
        assert address % 8 == 0, hex(address)
        if self.checking:
            in_state = STATE_ADDRESS <= address < STATE_ADDRESS + 64
            assert in_state or self.in_frame(address), f"wrote {address:#x} (sp {self.sp:#x})"
        for i, byte in enumerate(value.to_bytes(8, "little")):
            self.memory[address + i] = byte

    def immediate(self, text):
        return int(text.lstrip("#"), 0)

    def address(self, operand):
        """[base, #offset] (pre-index '!' handled by the caller)."""
        parts = [p.strip() for p in operand.strip("[]!").split(",")]
        return self.reg(parts[0]) + (self.immediate(parts[1]) if len(parts) > 1 else 0), parts[0]

    def run(self):
        pc = 0
        while True:
            line = self.program[pc]
            pc += 1
            if line.endswith(":"):
                continue
            op, _, rest = line.partition(" ")
            args = [a.strip() for a in re.split(r",(?![^\[]*\])", rest)] if rest else []
            if op == "ret":
                return
            if op in ("ldr", "str", "ldp", "stp"):
                registers = args[:-1] if not args[-1].startswith("#") else args[:-2]
                post = args[-1] if args[-1].startswith("#") else None
                memory_operand = args[len(registers)]
                address, base = self.address(memory_operand)
                if post is not None:
                    address = self.reg(base)
                if memory_operand.endswith("!"):
                    self.set(base, address)  # pre-index: the base moves first
                for i, register in enumerate(registers):
                    if op[0] == "l":
                        self.set(register, self.load(address + 8 * i))
                    else:
                        self.store(address + 8 * i, self.reg(register))
                if post is not None:
                    self.set(base, address + self.immediate(post))
            elif op == "mov":
                self.set(args[0], self.reg(args[1]) if args[1].startswith(("x", "sp")) else self.immediate(args[1]))
            elif op == "movk":
                shift = self.immediate(args[2].split()[1])
                value = self.reg(args[0]) & ~(0xffff << shift)
                self.set(args[0], value | (self.immediate(args[1]) << shift))
            elif op in ("add", "subs", "eor"):
                a = self.reg(args[1])
                b = self.immediate(args[2]) if args[2].startswith("#") else self.reg(args[2])
                result = {"add": a + b, "subs": a - b, "eor": a ^ b}[op] & MASK
                self.set(args[0], result)
                if op == "subs":
                    self.z = result == 0
            elif op == "ror":
                value, n = self.reg(args[1]), self.immediate(args[2])
                self.set(args[0], (value >> n) | (value << (64 - n)))
            elif op == "b.ne":
                if not self.z:
                    pc = self.labels[args[0].rstrip("bf")]  # a numeric local label
            else:
                raise ValueError(f"instruction the model does not know: {line}")


def compress(program, state, blocks, counter, final_mask):
    """One call; checks the calling convention; returns the new state."""
    machine = Machine(program)
    for i, word in enumerate(state):
        machine.store(STATE_ADDRESS + 8 * i, word)
    for i in range(0, len(blocks), 8):
        machine.store(BLOCKS_ADDRESS + i, int.from_bytes(blocks[i:i + 8], "little"))
    machine.checking = True
    machine.blocks_size = len(blocks)
    preserved = {r: 0x1111111111111111 * (r % 15 + 1) for r in range(18, 31)}
    for r, value in preserved.items():
        machine.x[r] = value
    machine.x[0:5] = [STATE_ADDRESS, BLOCKS_ADDRESS, len(blocks) // 128, counter, final_mask]
    machine.run()
    for r, value in preserved.items():
        assert machine.x[r] == value, f"x{r} not restored"
    assert machine.sp == STACK_TOP, "sp not restored"
    return [machine.load(STATE_ADDRESS + 8 * i) for i in range(8)]


def blake2b(program, message):
    """BLAKE2b-512 as blake2b.cpp drives the compression function: every
    whole block but the last in one run, then the last, padded."""
    state = list(IV)
    state[0] ^= 0x01010040
    full = max(0, (len(message) - 1) // 128)
    if full:
        state = compress(program, state, message[:128 * full], 128, 0)
    last = message[128 * full:]
    state = compress(program, state, last + bytes(128 - len(last)), len(message), MASK)
    return b"".join(word.to_bytes(8, "little") for word in state)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    program = instructions(sys.argv[1])
    lengths = [0, 1, 3, 64, 127, 128, 129, 255, 256, 257, 383, 384, 385, 1000, 1024, 1025]
    for length in lengths:
        message = bytes((i * 131 + length) & 0xff for i in range(length))
        got = blake2b(program, message)
        want = hashlib.blake2b(message, digest_size=64).digest()
        if got != want:
            sys.exit(f"blake2b_asm: {length} bytes: {got.hex()} != {want.hex()}")
    print(f"blake2b_asm: {len(lengths)} lengths agree with hashlib")


if __name__ == "__main__":
    main()
