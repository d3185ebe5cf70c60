#!/usr/bin/env python3
"""check_size.py FILE BYTES: FILE is BYTES long, or at most 7 bytes shorter
(tests/modules/big.kmod is padded to the size of the Linux module
scripts/bench compares it with; build-module.py --pad-to)."""

import os
import sys


def main():
    path, expected = sys.argv[1], int(sys.argv[2])
    size = os.path.getsize(path)
    if not expected - 8 < size <= expected:
        sys.exit(f"{path}: {size} bytes, expected {expected} (or up to 7 fewer)")
    print(f"{path}: {size} bytes")


if __name__ == "__main__":
    main()
