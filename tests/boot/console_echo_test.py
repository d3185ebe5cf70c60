#!/usr/bin/env python3
"""How the boot tests read a command's output from the console
(scripts/keel/machine.py's after_echo): kernel log lines that a thread prints
while a command is typed break its echo, and must neither hide the output
nor be taken for it."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel.machine import after_echo  # noqa: E402

LOG = "[    0.098548] virtio_rng: bound to virtio0\n[    0.100494] autoload: loaded virtio_rng\n"
OUTPUT = "random: ready, 4096 bits credited\n  virtio_rng  512 bytes\n"

CASES = [
    # (what, the line typed, what the console printed after the prompt, its output)
    ("the echo alone", "random", "random\n" + OUTPUT, OUTPUT),
    ("log lines before the echo", "random", "\n" + LOG + "random\n" + OUTPUT, OUTPUT),
    ("log lines inside the echo", "random", "r\n" + LOG + "andom\n" + OUTPUT, OUTPUT),
    ("log lines inside, CRLF", "random", "ran\r\n" + LOG.replace("\n", "\r\n") + "dom\r\n" + OUTPUT, OUTPUT),
    ("log lines after the echo are output", "dmesg", "dmesg\n" + LOG, LOG),
    ("a command with no output", "true", "true\n", ""),
    ("an empty line", "", "\n" + OUTPUT, OUTPUT),
]


def main():
    failures = 0
    for name, line, text, expected in CASES:
        got = after_echo(text, line)
        if got != expected:
            failures += 1
            print(f"FAIL {name}: {line!r} in {text!r} gave {got!r}, not {expected!r}")
    print(f"{len(CASES) - failures} of {len(CASES)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
