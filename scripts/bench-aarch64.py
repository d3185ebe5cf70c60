"""scripts/bench --arch aarch64: Keel's figures on QEMU's virt machine
(docs/aarch64.md, "Performance"). Host wall times from QEMU's start, each a
median over --runs boots: to the console prompt with QEMU loading the
kernel, and through U-Boot verifying the signed FIT (U-Boot's own share is
QEMU's start to its "Starting kernel"); then insmod times of the C, C++ and
Rust modules as the kernel reports them. No Linux is measured beside it:
Debian's arm64 kernel cannot be fetched here (docs/aarch64.md)."""

import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine  # noqa: E402

BUILD = machine.BUILD  # scripts/bench --arch aarch64 sets KEEL_BUILD
KERNEL = machine.kernel_path(BUILD, "aarch64")
INITRAMFS = os.path.join(BUILD, "initramfs", "initramfs.cpio")
FIT = os.path.join(BUILD, "arch", "aarch64", "uboot", "keel.itb")
MODULES = ("hello", "hello_cpp", "hello_rs")
LOADED = re.compile(r"(\w+): loaded at 0x[0-9a-f]+ \(\d+ KiB\) in (\d+) us")


def power_off(vm):
    vm.send("poweroff 0")
    status = vm.wait_exit(30)
    if status != 0:
        raise machine.Timeout(f"poweroff 0 gave status {status}")


def boot_direct():
    """Host seconds from QEMU's start to the prompt, QEMU loading the Image."""
    with machine.Machine(cmdline="panic=-1", initrd=INITRAMFS, kernel=KERNEL, arch="aarch64") as vm:
        vm.expect(machine.PROMPT, 60)
        wall = time.monotonic() - vm.started_at
        power_off(vm)
    return wall


def boot_uboot():
    """(QEMU's start to U-Boot starting the kernel, to the prompt), host seconds."""
    with machine.Machine(cmdline="panic=-1", uboot=FIT, arch="aarch64") as vm:
        vm.expect("Starting kernel", 60)
        handed_over = time.monotonic() - vm.started_at
        vm.expect(machine.PROMPT, 60)
        wall = time.monotonic() - vm.started_at
        power_off(vm)
    return handed_over, wall


def module_loads(loads):
    """{module: [insmod microseconds, ...]}, every load in one boot."""
    times = {name: [] for name in MODULES}
    with machine.Machine(cmdline="panic=-1", initrd=INITRAMFS, kernel=KERNEL, arch="aarch64") as vm:
        vm.expect(machine.PROMPT, 60)
        for _ in range(loads):
            for name in MODULES:
                out = vm.command_output(f"insmod {name}", 60)
                match = LOADED.search(out)
                if not match or match.group(1) != name:
                    raise machine.Timeout(f"insmod {name}: {out}")
                times[name].append(int(match.group(2)))
                vm.command_output(f"rmmod {name}", 60)
        power_off(vm)
    return times


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench --arch aarch64")
    parser.add_argument("--arch", choices=("aarch64",), default="aarch64")
    parser.add_argument("--runs", type=int, default=7, help="boots per figure (at least 5)")
    parser.add_argument("--loads", type=int, default=100, help="insmod/rmmod cycles per module (at least 10)")
    options = parser.parse_args()
    runs = max(5, options.runs)
    loads = max(10, options.loads)
    direct, through, handed = [], [], []
    try:
        for run in range(runs):
            print(f"bench: run {run + 1} of {runs}", file=sys.stderr, flush=True)
            direct.append(boot_direct())
            handed_over, wall = boot_uboot()
            handed.append(handed_over)
            through.append(wall)
        times = module_loads(loads)
    except (machine.Timeout, OSError) as error:
        print(f"scripts/bench: FAILED, no figures printed: {error}", file=sys.stderr)
        return 1

    def ms(values):
        return f"{statistics.median(values) * 1000:8.1f} ms"

    print(f"Boot on QEMU virt, cortex-a57, TCG (median of {runs}, host wall from QEMU's start)")
    print(f"  to the prompt, QEMU loading the kernel     {ms(direct)}")
    print(f"  to the prompt through U-Boot's signed FIT  {ms(through)}")
    print(f"    U-Boot's share (to 'Starting kernel')    {ms(handed)}")
    print(f"    the kernel's share after U-Boot          {ms([w - h for w, h in zip(through, handed)])}")
    print(f"insmod (median of {loads}, the kernel's own 'loaded ... in N us')")
    for name in MODULES:
        print(f"  {name:<12} {statistics.median(times[name]):8.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
