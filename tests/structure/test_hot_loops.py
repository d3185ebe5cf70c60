#!/usr/bin/env python3
"""The kernel's memcpy and memset each lie within one 4 KiB page
(core/lib/base/memory.cpp, KEEL_LOOP_ALIGNED): under QEMU's TCG a loop that
straddles a page boundary runs measurably slower, and these two run more
iterations than any other loop. Fails naming the function when the link
put one across a boundary, or when it outgrew its 256-byte slot.

    test_hot_loops.py KERNEL.elf"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel import elf  # noqa: E402

PAGE = 4096
SLOT = 256
HOT = ("memcpy", "memset")


def main():
    image = elf.read(sys.argv[1])
    found = {s.name: s for s in image.symbols(image.section(".symtab")) if s.name in HOT and s.size}
    failures = []
    for name in HOT:
        symbol = found.get(name)
        if symbol is None:
            failures.append(f"{name}: not in the kernel's symbol table")
            continue
        start, end = symbol.value, symbol.value + symbol.size - 1
        if start // PAGE != end // PAGE:
            failures.append(f"{name}: {start:#x}-{end:#x} straddles a page boundary")
        if start % SLOT or symbol.size > SLOT:
            failures.append(f"{name}: at {start:#x}, {symbol.size} bytes: not within a {SLOT}-byte slot")
    for failure in failures:
        print("FAIL:", failure)
    if not failures:
        print("ok: " + ", ".join(f"{n} at {found[n].value:#x} ({found[n].size} bytes)" for n in HOT))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
