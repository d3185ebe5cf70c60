#!/usr/bin/env python3
"""scripts/keel/guest_profile.py on hand-made QEMU logs: blocks as QEMU
translated them (`-d in_asm`, x86_64's and AArch64's line shapes), and
the instructions executed per block (`-d exec` with `nochain`): each entry
of a block counts the instructions its translation listed, a block
translated again counts its new size from then on, and one translated
before the log began counts 1 an entry."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel.guest_profile import executed_instructions, translated_blocks  # noqa: E402

LOG = """\
----------------
IN: keel::memcpy
0xffffffff80001000:  48 89 f8                 movq     %rdi, %rax
0xffffffff80001003:  48 83 fa 40              cmpq     $0x40, %rdx
0xffffffff80001007:  72 20                    jb       0xffffffff80001029

Trace 0: 0x7f0000000040 [00000000/ffffffff80001000/00000000/ff000201] keel::memcpy
Trace 0: 0x7f0000000040 [00000000/ffffffff80001000/00000000/ff000201] keel::memcpy
----------------
IN:
0xffff000040081000:  d503201f  nop
0xffff000040081004:  d65f03c0  ret

Trace 0: 0x7f0000000100 [00000000/ffff000040081000/00000000/00000000]
Trace 0: 0x7f0000000200 [00000000/ffffffff80009000/00000000/00000000]
"""


def main():
    failures = []

    def check(condition, message):
        if not condition:
            failures.append(message)
            print(f"FAIL: {message}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "qemu.log")
        with open(path, "w") as log:
            log.write(LOG)
        blocks = translated_blocks(path)
        check(blocks == [(0xFFFFFFFF80001000, 3), (0xFFFF000040081000, 2)], f"translated blocks {blocks}")
        executed = executed_instructions(path)
        check(executed == {0xFFFFFFFF80001000: 6, 0xFFFF000040081000: 2, 0xFFFFFFFF80009000: 1},
              f"executed instructions {executed}")
        # A block translated again (its page was written): its new size
        # counts from then on (two entries of 3, one of 1).
        with open(path, "a") as log:
            log.write("IN: keel::memcpy\n0xffffffff80001000:  90  nop\n"
                      "Trace 0: 0x7f0000000300 [00000000/ffffffff80001000/00000000/ff000201] keel::memcpy\n")
        executed = executed_instructions(path)
        check(executed[0xFFFFFFFF80001000] == 7, f"after a new translation: {executed}")

    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("guest-profile: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
