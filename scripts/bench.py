"""scripts/bench's driver. Wall times come from the host clock; guest times
from the kernel's TSC. Every figure is a median over --runs boots, and the
reference (QEMU's floor) is measured in the same run, interleaved."""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine  # noqa: E402

NULL_KERNEL = os.path.join(machine.BUILD, "arch", "x86_64", "null-pvh.elf")
TEST_INITRAMFS = os.path.join(machine.BUILD, "tests", "modules", "test-initramfs.cpio")
BENCH_CRYPTO = os.path.join(machine.BUILD, "tests", "unit", "crypto", "bench-crypto")
TIMING = re.compile(r"read (\d+) verify (\d+) parse (\d+) map (\d+) relocate (\d+) init (\d+) total (\d+) us")
STAGES = ("read", "verify", "parse", "map", "relocate", "init", "total")


def time_floor():
    """QEMU start to exit for a PVH kernel that powers off at once."""
    command = machine.qemu_command(kernel=NULL_KERNEL)
    start = time.monotonic()
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def time_boot():
    """QEMU start to the console prompt; and the guest's own TSC figure."""
    vm = machine.Machine(cmdline="loglevel=4")
    start = time.monotonic()
    vm.start()
    try:
        vm.expect(machine.PROMPT, timeout=60)
        wall = time.monotonic() - start
        dmesg = vm.command_output("dmesg")
        match = re.search(r"boot: core up in (\d+) us", dmesg)
        guest_us = int(match.group(1)) if match else None
        unpack = re.search(r"initramfs: unpacked (\d+) entries .*?, (\d+) bytes in (\d+) us", dmesg)
        unpack = tuple(int(value) for value in unpack.groups()) if unpack else None
    finally:
        vm.kill()
    return wall, guest_us, unpack


def image_size(path):
    with tempfile.TemporaryDirectory() as scratch:
        stripped = os.path.join(scratch, "keel.stripped")
        subprocess.run(["llvm-strip", "-o", stripped, path], check=True)
        return os.path.getsize(path), os.path.getsize(stripped)


def module_loads(runs):
    """insmod/rmmod cycles in one boot: the kernel's own stage timings (TSC)
    for a signed module and for the same module unsigned, interleaved."""
    results = {"signed": [], "unsigned": []}
    vm = machine.Machine(cmdline="loglevel=4", initrd=TEST_INITRAMFS)
    vm.start()
    try:
        vm.expect(machine.PROMPT, timeout=60)
        for index in range(runs + 1):
            for kind, path in (("signed", "hello"), ("unsigned", "/lib/test/hello-unsigned.kmod")):
                vm.command_output("insmod " + path)
                match = TIMING.search(vm.command_output("lsmod -t"))
                vm.command_output("rmmod hello")
                if match and index > 0:   # the first round warms up the emulator's code cache
                    results[kind].append([int(value) for value in match.groups()])
    finally:
        vm.kill()
    return results


def crypto_figures():
    if not os.path.exists(BENCH_CRYPTO):
        return None
    return subprocess.run([BENCH_CRYPTO, "5"], capture_output=True, text=True).stdout


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("--runs", type=int, default=7, help="boots per figure (at least 5)")
    options = parser.parse_args()
    runs = max(5, options.runs)

    floors, boots, guests, unpacks = [], [], [], []
    for _ in range(runs):
        floors.append(time_floor())
        wall, guest, unpack = time_boot()
        boots.append(wall)
        if guest is not None:
            guests.append(guest)
        if unpack:
            unpacks.append(unpack)

    floor = statistics.median(floors)
    boot = statistics.median(boots)
    print(f"Boot (median of {runs}, QEMU q35 + TCG, 256 MiB)")
    print(f"  QEMU floor (do-nothing PVH kernel)  {ms(floor)}")
    print(f"  Keel boot to prompt                 {ms(boot)}")
    print(f"  Keel minus floor                    {ms(boot - floor)}   (target: within 40 ms)")
    print(f"  Keel / floor                        {boot / floor:8.2f} x")
    if guests:
        print(f"  guest: kernel entry to console      {statistics.median(guests) / 1000:8.1f} ms   (TSC)")
    if unpacks:
        entries, size, _ = unpacks[0]
        us = statistics.median(u[2] for u in unpacks)
        print(f"  initramfs unpack into tmpfs         {us / 1000:8.1f} ms   ({entries} entries, {size / 1024:.0f} KiB: "
              f"{size / us:.1f} MB/s)")
    loads = module_loads(runs)
    if loads["signed"]:
        print(f"insmod of hello.kmod (median of {runs} loads in one boot, kernel TSC, microseconds)")
        print("  " + " ".join(f"{stage:>9}" for stage in ("",) + STAGES))
        for kind in ("signed", "unsigned"):
            medians = [statistics.median(column) for column in zip(*loads[kind])]
            print(f"  {kind:>9}" + " ".join(f"{value:9.0f}" for value in medians))
        signed_total = statistics.median(row[-1] for row in loads["signed"])
        unsigned_total = statistics.median(row[-1] for row in loads["unsigned"])
        verify = statistics.median(row[1] for row in loads["signed"])
        print(f"  signature check: {verify:.0f} us = {verify / signed_total:.0%} of a signed load; "
              f"signed / unsigned load time {signed_total / unsigned_total:.2f} x")
    crypto = crypto_figures()
    if crypto:
        print("Host crypto (core/lib/crypto built natively, same code as the kernel's)")
        for line in crypto.strip().splitlines():
            print("  " + line)
    full, stripped = image_size(machine.KERNEL)
    print("Image")
    print(f"  keel.elf                            {full / 1024:8.1f} KiB")
    print(f"  keel.elf stripped                   {stripped / 1024:8.1f} KiB   (target: under 256 KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
