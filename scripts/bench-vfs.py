#!/usr/bin/env python3
"""VFS figures for scripts/bench (issue 5, "Performance"):

- initramfs unpack throughput in the guest: a 32 MiB archive of many small
  files in nested directories (plus the default initramfs, so the early
  modules load), generated here at bench time with the build's
  gen_init_cpio; the kernel times the unpacking with the TSC and logs
  "initramfs: unpacked ... N bytes in U us" (core/init/root.cpp);
- path lookups per second on a deep tree: in the guest with the console's
  `vfsbench lookups N PATH` (TSC), on the host with bench-vfs-lookup (the
  same VFS and tmpfs sources built natively without sanitizers).

Every figure is a median. Run alone (`scripts/bench-vfs.py [--runs N]`, with
KEEL_BUILD naming the build directory) or from scripts/bench.
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine  # noqa: E402

GEN_INIT_CPIO = os.path.join(machine.BUILD, "scripts", "tools", "gen_init_cpio")
DEFAULT_SPEC = os.path.join(machine.BUILD, "initramfs", "initramfs.spec")
HOST_BENCH = os.path.join(machine.BUILD, "tests", "unit", "vfs", "bench-vfs-lookup")
INITRAMFS_DIR = os.path.join(machine.ROOT, "initramfs")

ARCHIVE_BYTES = 32 << 20
SMALL_DIRS = 16          # /bench/small/dNN, each with its share of the small files
SMALL_SIZES = (256, 7936)
WIDE_FILES = 4096        # /bench/wide/fN: one big directory
DEPTH, SIBLINGS = 32, 8  # /bench/deep: the same shape as bench-vfs-lookup's tree
UNPACK = re.compile(r"initramfs: unpacked (\d+) entries .*?, (\d+) bytes in (\d+) us")
LOOKUPS = re.compile(r"vfsbench: (\d+) lookups of '[^']*' \((\d+) components\) in (\d+) us: (\d+) lookups/s")


def newc_size(name, size):
    """Bytes a newc entry takes: header and name, then data, each 4-aligned."""
    return (110 + len(name) + 1 + 3) // 4 * 4 + (size + 3) // 4 * 4


def deep_path():
    return "/bench/deep" + "".join(f"/d{SIBLINGS - 1}" for _ in range(DEPTH)) + "/leaf"


def write_spec(scratch):
    """The default spec plus the bench tree; returns (spec path, small files)."""
    with open(DEFAULT_SPEC) as default:
        lines = [default.read().rstrip("\n"), "", "# scripts/bench-vfs.py"]
    total = 0
    for line in lines[0].splitlines():   # the default content counts towards 32 MiB
        fields = line.split()
        if fields and fields[0] == "file":
            location = fields[2].replace("${KEEL_INITRAMFS_DIR}", INITRAMFS_DIR)
            total += newc_size(fields[1], os.path.getsize(location))
        elif fields and fields[0] in ("dir", "nod", "slink", "pipe", "sock"):
            total += newc_size(fields[1], len(fields[2]) if fields[0] == "slink" else 0)

    def add(line, name, size=0):
        nonlocal total
        lines.append(line)
        total += newc_size(name, size)

    # A pool of source files, reused: the archive holds a copy per entry.
    rng = random.Random(5)
    pool = []
    for index in range(64):
        size = rng.randint(*SMALL_SIZES)
        path = os.path.join(scratch, f"pool{index}")
        with open(path, "wb") as out:
            out.write(bytes(rng.getrandbits(8) for _ in range(size)))
        pool.append((path, size))
    tiny = os.path.join(scratch, "tiny")
    with open(tiny, "wb") as out:
        out.write(b"x" * 64)

    for name in ("/bench", "/bench/small", "/bench/wide", "/bench/deep"):
        add(f"dir {name} 0755 0 0", name)
    parent = "/bench/deep"
    for _ in range(DEPTH):
        for sibling in range(SIBLINGS):
            add(f"dir {parent}/d{sibling} 0755 0 0", f"{parent}/d{sibling}")
        parent += f"/d{SIBLINGS - 1}"
    add(f"file {deep_path()} {tiny} 0644 0 0", deep_path(), 64)
    for index in range(WIDE_FILES):
        add(f"file /bench/wide/f{index} {tiny} 0644 0 0", f"/bench/wide/f{index}", 64)
    for directory in range(SMALL_DIRS):
        add(f"dir /bench/small/d{directory:02} 0755 0 0", f"/bench/small/d{directory:02}")
    trailer = newc_size("TRAILER!!!", 0)
    small = 0
    while True:
        path, size = pool[small % len(pool)]
        name = f"/bench/small/d{small % SMALL_DIRS:02}/f{small:05}"
        if total + newc_size(name, size) + trailer > ARCHIVE_BYTES:
            break
        add(f"file {name} {path} 0644 0 0", name, size)
        small += 1
    spec = os.path.join(scratch, "bench.spec")
    with open(spec, "w") as out:
        out.write("\n".join(lines) + "\n")
    return spec, small


def build_archive(scratch):
    spec, small = write_spec(scratch)
    archive = os.path.join(scratch, "bench.cpio")
    subprocess.run([GEN_INIT_CPIO, "-o", archive, spec], check=True,
                   env=dict(os.environ, KEEL_INITRAMFS_DIR=INITRAMFS_DIR))
    return archive, small


def guest_lookups(vm, path, target_us=300000):
    """(lookups/s, components) of `path`: the median of five timed batches,
    each sized to take about target_us of guest time."""
    count = 1000
    for _ in range(4):
        match = LOOKUPS.search(vm.command_output(f"vfsbench lookups {count} {path}", timeout=300))
        if not match:
            return None
        us = int(match.group(3))
        if us >= target_us / 2:
            break
        count = min(10000000, max(count * 2, count * target_us // max(us, 1)))
    rates = []
    for _ in range(5):
        match = LOOKUPS.search(vm.command_output(f"vfsbench lookups {count} {path}", timeout=300))
        if match:
            rates.append(int(match.group(4)))
            components = int(match.group(2))
    return (statistics.median(rates), components) if rates else None


def measure_guest(archive, runs):
    """Per boot: the unpack line's (entries, bytes, us); lookups from the last boot."""
    unpacks, lookups = [], {}
    for run in range(runs):
        vm = machine.Machine(cmdline="loglevel=4", initrd=archive, memory="512M")
        vm.start()
        try:
            vm.expect(machine.PROMPT, timeout=300)
            match = UNPACK.search(vm.command_output("dmesg", timeout=60))
            if match:
                unpacks.append(tuple(int(value) for value in match.groups()))
            if run == runs - 1:
                for name, path in (("deep", deep_path()), ("wide", f"/bench/wide/f{WIDE_FILES - 1}"),
                                   ("short", "/bench")):
                    lookups[name] = guest_lookups(vm, path)
        finally:
            vm.kill()
    return unpacks, lookups


def host_lookups(runs):
    if not os.path.exists(HOST_BENCH):
        return []
    out = subprocess.run([HOST_BENCH, str(runs)], capture_output=True, text=True).stdout
    return out.strip().splitlines()


def report(runs=3):
    """Prints the VFS figures (scripts/bench calls this)."""
    runs = max(1, runs)
    with tempfile.TemporaryDirectory(prefix="keel-bench-vfs-") as scratch:
        archive, small = build_archive(scratch)
        size = os.path.getsize(archive)
        unpacks, lookups = measure_guest(archive, runs)
    print(f"VFS (median of {runs} boots, QEMU q35 + TCG, 512 MiB; kernel TSC)")
    if unpacks:
        entries, data, _ = unpacks[0]
        us = statistics.median(u[2] for u in unpacks)
        print(f"  initramfs unpack                    {us / 1000:8.1f} ms   ({size / 2**20:.1f} MiB archive, {entries} "
              f"entries, {small} small files, {data / 2**20:.1f} MiB of file data)")
        print(f"  unpack throughput                   {size / 2**20 / (us / 1e6):8.1f} MiB/s of archive "
              f"({data / 2**20 / (us / 1e6):.1f} MiB/s of file data)")
    else:
        print("  initramfs unpack: no 'initramfs: unpacked' line in dmesg")
    for name, result in lookups.items():
        if result:
            rate, components = result
            print(f"  guest lookups, {name:5} ({components:2} components) {rate:10.0f} /s   "
                  f"({1e9 / rate:.0f} ns each, vfsbench lookups)")
    lines = host_lookups(7)
    if lines:
        print("Host path lookups (the same VFS + tmpfs sources, native, no sanitizers; bench-vfs-lookup)")
        for line in lines:
            print("  " + line)


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-vfs.py")
    parser.add_argument("--runs", type=int, default=3, help="boots with the 32 MiB archive")
    report(parser.parse_args().runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
