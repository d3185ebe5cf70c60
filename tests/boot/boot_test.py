#!/usr/bin/env python3
"""QEMU boot scenarios: boot the real kernel, talk to its serial console.

  boot_test.py CASE       run one scenario (meson registers each as a test)
  boot_test.py --list [--arch ARCH]
                          name the scenarios (for ARCH, default x86_64)

Scenarios live in cases_*.py; harness.py has what they share.
"""

import sys

import cases_aarch64  # noqa: F401
import cases_aarch64_devices  # noqa: F401
import cases_abi  # noqa: F401
import cases_agreement  # noqa: F401
import cases_block  # noqa: F401
import cases_carrier  # noqa: F401
import cases_console  # noqa: F401
import cases_core  # noqa: F401
import cases_devices  # noqa: F401
import cases_dhcp  # noqa: F401
import cases_ext2  # noqa: F401
import cases_ext2_root  # noqa: F401
import cases_exhaustion  # noqa: F401
import cases_icmp  # noqa: F401
import cases_gdb  # noqa: F401
import cases_interop  # noqa: F401
import cases_modules  # noqa: F401
import cases_net  # noqa: F401
import cases_protocols  # noqa: F401
import cases_random  # noqa: F401
import cases_signing  # noqa: F401
import cases_tcp  # noqa: F401
import cases_tcperr  # noqa: F401
import cases_udp  # noqa: F401
import cases_vfs  # noqa: F401
import cases_virtio  # noqa: F401
import cases_virtio_mmio  # noqa: F401
import cases_vnet  # noqa: F401
from harness import CASE_ARCHES, CASES, Failure


def main(argv):
    if len(argv) >= 2 and argv[1] == "--list":
        arch = argv[3] if len(argv) == 4 and argv[2] == "--arch" else "x86_64"
        print("\n".join(name for name in CASES if arch in CASE_ARCHES[name]))
        return 0
    if len(argv) != 2 or argv[1] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        CASES[argv[1]]()
    except Failure as failure:
        print(f"FAIL {argv[1]}: {failure}")
        return 1
    print(f"PASS {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
