"""Shared by the boot scenarios: boot the real kernel under QEMU and check
what its console says. Every wait has a time limit (scripts/keel/machine.py)."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel.machine import BUILD, Machine, PROMPT  # noqa: E402,F401

BOOT_TIMEOUT = 60
CASES = {}
# The boot tests' initramfs: the default one plus /lib/test (tests/modules).
TEST_INITRAMFS = os.path.join(BUILD, "tests", "modules", "test-initramfs.cpio")
TEST_METADATA = os.path.join(BUILD, "tests", "modules", "test-initramfs.json")


def case(function):
    CASES[function.__name__.replace("_", "-")] = function
    return function


class Failure(Exception):
    pass


def check(condition, message, vm=None):
    if not condition:
        tail = "\n--- console (tail) ---\n" + vm.output[-3000:] if vm else ""
        raise Failure(message + tail)


def boot(cmdline="panic=-1", **kwargs):
    vm = Machine(cmdline=cmdline, **kwargs)
    vm.start()
    vm.expect(PROMPT, BOOT_TIMEOUT)
    return vm


def free_pages(vm):
    match = re.search(r"pages: total (\d+) free (\d+)", vm.command_output("mem"))
    check(match, "mem printed no page counts", vm)
    return int(match.group(2))
