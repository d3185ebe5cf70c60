#!/usr/bin/env python3
"""Build the project's U-Boot for QEMU virt once, cached by its inputs
(scripts/keel/uboot.py; docs/aarch64.md, "The project's U-Boot").

  build-uboot.py [--jobs N]    build unless cached; print the binary's path
  build-uboot.py --path        print the cached binary's path, or fail

scripts/build runs it for aarch64 after installing what it needs.
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import uboot  # noqa: E402


def main():
    parser = argparse.ArgumentParser(prog="scripts/build-uboot.py")
    parser.add_argument("--jobs", type=int, default=None, help="make -jN (default: every CPU)")
    parser.add_argument("--path", action="store_true", help="only print the cached binary's path")
    options = parser.parse_args()
    try:
        print(uboot.built() if options.path else uboot.build(options.jobs))
    except uboot.NotBuilt as error:
        sys.exit(f"build-uboot: {error}")
    except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
        sys.exit(f"build-uboot: the project's U-Boot did not build: {error}")


if __name__ == "__main__":
    main()
