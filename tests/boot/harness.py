"""Shared by the boot scenarios: boot the real kernel under QEMU and check
what its console says. Every wait has a time limit (scripts/keel/machine.py)."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from keel.machine import ARCH, BUILD, DEFAULT, Machine, PROMPT, kernel_path  # noqa: E402,F401

BOOT_TIMEOUT = 60
CASES = {}
# The architectures each case runs on (x86_64 unless the case says more).
CASE_ARCHES = {}
# For cases that run on every architecture: @case(arches=ALL_ARCHES).
ALL_ARCHES = ("x86_64", "aarch64")
# The boot tests' initramfs: the default one plus /lib/test (tests/modules).
TEST_INITRAMFS = os.path.join(BUILD, "tests", "modules", "test-initramfs.cpio")
TEST_METADATA = os.path.join(BUILD, "tests", "modules", "test-initramfs.json")


def case(function=None, *, arches=("x86_64",)):
    """Register a scenario: @case, or @case(arches=("x86_64", "aarch64"))."""
    def register(function):
        name = function.__name__.replace("_", "-")
        CASES[name] = function
        CASE_ARCHES[name] = tuple(arches)
        return function
    return register(function) if function else register


class Failure(Exception):
    pass


def check(condition, message, vm=None):
    if not condition:
        tail = "\n--- console (tail) ---\n" + vm.output[-3000:] if vm else ""
        raise Failure(message + tail)


# Driver modules the machine's own hardware autoloads at every boot() (QEMU
# loading the kernel) with the in-tree modules: QEMU virt's device tree
# always has 32 virtio-mmio slots (docs/devices.md), so virtio_mmio loads
# on AArch64 as Linux's does. Through U-Boot the tree disables the empty
# ones (docs/aarch64.md, "The tree U-Boot is handed").
MACHINE_MODULES = {"x86_64": (), "aarch64": ("virtio_mmio",)}
MACHINE_AUTOLOAD = re.compile(r"autoload: \S+ \S+: loaded (\w+)")


AUTOLOAD_INDEXED = re.compile(r"autoload: \d+ driver module\(s\) indexed")


def wait_machine_modules(vm, timeout=BOOT_TIMEOUT):
    """Wait until the machine's own driver modules have loaded, so that a
    scenario's baselines (free pages, counters, lsmod) are taken after."""
    wanted = set(MACHINE_MODULES.get(vm.arch, ()))
    deadline = time.monotonic() + timeout
    log = vm.output
    # The index is built in autoload's thread, reading every module file
    # (memory taken and given back) while the console may already run.
    while not (wanted <= set(MACHINE_AUTOLOAD.findall(log)) and AUTOLOAD_INDEXED.search(log)):
        check(time.monotonic() < deadline, f"{sorted(wanted)} did not autoload, or no module index", vm)
        time.sleep(0.2)
        log = vm.command_output("dmesg")


def boot(cmdline="panic=-1", **kwargs):
    """A booted Machine at the prompt (kwargs as Machine's: machine=, initrd=, ...),
    with the machine's own driver modules loaded when the initramfs has them."""
    vm = Machine(cmdline=cmdline, **kwargs)
    vm.start()
    vm.expect(PROMPT, BOOT_TIMEOUT)
    if kwargs.get("initrd", DEFAULT) in (DEFAULT, TEST_INITRAMFS) and not kwargs.get("uboot"):
        wait_machine_modules(vm)
    return vm


def free_pages(vm):
    match = re.search(r"pages: total (\d+) free (\d+)", vm.command_output("mem"))
    check(match, "mem printed no page counts", vm)
    return int(match.group(2))


def refcount(vm, name):
    """lsmod's count of what keeps `name` loaded (users, references, pins)."""
    match = re.search(r"^" + name + r" \d+ (\d+) ", vm.command_output("lsmod"), re.M)
    check(match, f"lsmod does not list {name}", vm)
    return int(match.group(1))


def settled_free_pages(vm, timeout=10):
    """Free pages once two reads 0.3 s apart agree: autoload's thread goes
    on giving memory back after its index line, beside the console."""
    deadline = time.monotonic() + timeout
    last = free_pages(vm)
    while True:
        time.sleep(0.3)
        now = free_pages(vm)
        if now == last or time.monotonic() > deadline:
            return now
        last = now
