#!/usr/bin/env python3
"""virtio disk figures for scripts/bench (issue 13, "Benchmark"), Keel and
Debian's Linux under the same QEMU with the same virtio-blk-pci disk (a
64 MiB raw image made here, attached read-only), interleaved in each run:

- load and bind the virtio stack until the disk is ready. Keel: `insmod
  virtio_blk` then `insmod virtio_pci` (whose probe adds the virtio device,
  which virtio_blk binds, registering vda): the sum of the loader's own
  "loaded ... in N us" times (TSC). Linux: the modules of virtio_pci and
  virtio_blk with their dependencies insmodded by busybox, timed by the
  kernel's printk clock between markers written to /dev/kmsg before the
  first insmod and after /sys/block/vda exists (so it includes busybox's
  process start per insmod, as loading from user space does);
- sequential 1 MiB reads of the raw disk: `blkbench vda seq` against
  busybox `dd if=/dev/vda of=/dev/null bs=1M iflag=direct`, timed by the
  printk clock between /dev/kmsg markers (busybox's dd prints no rate);
- random 4 KiB reads, one at a time: `blkbench vda rand` against
  randread.c (O_DIRECT pread at random aligned offsets, built static here:
  busybox has no reader that does not start a process per read);
- module file sizes: virtio_pci.kmod and virtio_blk.kmod, as built and
  without their DWARF, against Linux's virtio_pci.ko and virtio_blk.ko
  (their dependencies listed apart).

Run alone (`scripts/bench-virtio.py [--runs N] [--peer none]`, KEEL_BUILD
naming the build directory) or from scripts/bench.
"""

import argparse
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine, peer  # noqa: E402

SECTORS = 131072  # 64 MiB
RANDREAD_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keel", "randread.c")
KEEL_MODULES = ("virtio_pci", "virtio_blk")
KEEL_LOADED = re.compile(r"(virtio_pci|virtio_blk): loaded at \S+ \(\d+ KiB\) in (\d+) us")
BLKBENCH = re.compile(r"blkbench: vda (?:seq|rand) (\d+) x (\d+) bytes: (\d+) ms, (\d+) KiB/s, (\d+) IOPS, "
                      r"p50 (\d+) us")
RANDREAD = re.compile(r"randread: (\d+) x (\d+) bytes: (\d+) us, (\d+) IOPS, p50 (\d+) us")
KMSG = re.compile(r"^\[\s*([\d.]+)\] (bench-start|bench-ready)$", re.M)
LOAD_TARGET = 10     # Linux's stack load over Keel's, at least
SEQ_TARGET = 1       # Keel's sequential throughput over Linux's, at least
RAND_TARGET = 1.5    # Keel's random-read IOPS over Linux's, at least
SIZE_TARGET = 4      # Linux's module size over Keel's, at least


def pattern_image(directory):
    """Each 512-byte sector holds its number in every 8-byte word."""
    path = os.path.join(directory, "virtio-bench.img")
    with open(path, "wb") as image:
        for lba in range(SECTORS):
            image.write(struct.pack("<Q", lba) * 64)
    return path


def disk(image):
    return ["-drive", f"file={image},if=none,id=disk,format=raw,readonly=on", "-device", "virtio-blk-pci,drive=disk"]


def blkbench(guest, line):
    out = guest.run(line, timeout=300)
    match = BLKBENCH.search(out)
    if not match:
        raise peer.PeerError(f"Keel: {line} printed no figures:\n{out[-1000:]}")
    return [int(value) for value in match.groups()]


def keel_round(image, loads, seq_count, rand_count):
    """{figure: value} of one Keel boot."""
    with peer.KeelGuest(initrd=os.path.join(machine.BUILD, "tests", "modules", "test-initramfs.cpio")) as guest:
        guest.start(disk(image))
        for _ in range(100):
            if "vda" in guest.run("lsblk"):
                break
        else:
            raise peer.PeerError("Keel: the disk never appeared (autoload of virtio_pci and virtio_blk)")
        times = []
        for _ in range(loads):
            guest.run("rmmod virtio_pci")
            guest.run("rmmod virtio_blk")
            guest.run("insmod virtio_blk")
            guest.run("insmod virtio_pci")
            if "vda" not in guest.run("lsblk"):
                raise peer.PeerError("Keel: no vda after insmod virtio_blk, virtio_pci")
            loaded = dict(KEEL_LOADED.findall(guest.run("dmesg")))  # the last of each
            if set(loaded) != set(KEEL_MODULES):
                raise peer.PeerError(f"Keel: the log did not time both loads: {loaded}")
            times.append(sum(int(us) for us in loaded.values()))
        _, size, ms, kib_s, _, _ = blkbench(guest, f"blkbench vda seq 1048576 {seq_count}")
        _, _, _, _, iops, p50 = blkbench(guest, f"blkbench vda rand 4096 {rand_count}")
    return {"load us": statistics.median(times), "seq MB/s": kib_s * 1024 / 1e6, "rand IOPS": iops,
            "rand p50 us": p50}


def kernel_span(guest, command):
    """Microseconds of the Linux guest's printk clock between markers
    written to /dev/kmsg before and after `command`."""
    guest.run("dmesg -c > /dev/null")
    guest.run(f"echo bench-start > /dev/kmsg && {command} && echo bench-ready > /dev/kmsg")
    marks = {name: float(at) for at, name in KMSG.findall(guest.run("dmesg"))}
    if set(marks) != {"bench-start", "bench-ready"}:
        raise peer.PeerError(f"Linux: the markers are missing from the log: {marks}")
    return (marks["bench-ready"] - marks["bench-start"]) * 1e6


def linux_stack(assets):
    """The modules to load, dependencies first: virtio_pci's, then virtio_blk's."""
    return assets.module_stack(("virtio_pci", "virtio_blk"))


def linux_round(assets, image, randread, loads, seq_count, rand_count):
    modules = linux_stack(assets)
    files = {f"/lib/peer/{name}.ko": assets.module(name) for name in modules}
    files["/bin/randread"] = randread
    with peer.LinuxGuest(assets, files) as guest:
        guest.start(disk(image))
        times = []
        insmods = " && ".join(f"insmod /lib/peer/{name}.ko" for name in modules)
        rmmods = " && ".join(f"rmmod {name}" for name in reversed(modules))
        for _ in range(loads):
            times.append(kernel_span(guest, f"{insmods} && while [ ! -e /sys/block/vda ]; do :; done"))
            if len(times) < loads:
                guest.run(rmmods)
        # busybox's dd prints no rate: the kernel's clock around it (dd's own start included).
        us = kernel_span(guest, f"dd if=/dev/vda of=/dev/null bs=1M count={seq_count} iflag=direct 2>/dev/null")
        seq = seq_count * 1048576 / us  # bytes per microsecond: MB/s
        out = guest.run(f"randread /dev/vda 4096 {rand_count}")
        match = RANDREAD.search(out)
        if not match:
            raise peer.PeerError(f"Linux: randread printed no figures:\n{out}")
    return {"load us": statistics.median(times), "seq MB/s": seq, "rand IOPS": int(match.group(4)),
            "rand p50 us": int(match.group(5)), "modules": len(modules)}


def build_randread(directory):
    binary = os.path.join(directory, "randread")
    subprocess.run(["cc", "-static", "-O2", "-o", binary, RANDREAD_SOURCE], check=True)
    return binary


def without_debug_info(path, scratch):
    """A module file's size with its DWARF stripped (in-tree modules keep it
    for the debugger; Debian's .ko files ship without): the ELF image
    stripped by llvm-objcopy, plus the signature trailer after it."""
    with open(path, "rb") as module:
        data = module.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    elf_end = shoff + shentsize * shnum
    elf = os.path.join(scratch, "image.elf")
    with open(elf, "wb") as out:
        out.write(data[:elf_end])
    subprocess.run(["llvm-objcopy", "--strip-debug", elf, elf + ".stripped"], check=True)
    return os.path.getsize(elf + ".stripped") + len(data) - elf_end


def median_of(rounds, key):
    return statistics.median(figures[key] for figures in rounds)


def row(label, keel, linux, unit, target, linux_over_keel=True):
    return peer.ratio_row(label, keel, linux, unit, target, linux_over_keel)


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-virtio.py")
    parser.add_argument("--runs", type=int, default=5, help="boots of each kernel")
    parser.add_argument("--loads", type=int, default=5, help="stack loads per boot")
    parser.add_argument("--peer", choices=("linux", "none"), default="linux")
    options = parser.parse_args()
    seq_count, rand_count = 64, 2000
    with tempfile.TemporaryDirectory() as scratch:
        image = pattern_image(scratch)
        try:
            assets = peer.LinuxAssets.fetch(log=lambda m: print(m, file=sys.stderr)) \
                if options.peer == "linux" else None
            randread = build_randread(scratch) if assets else None
            keel_rounds, linux_rounds = peer.interleave(
                "bench-virtio", options.runs, lambda: keel_round(image, options.loads, seq_count, rand_count),
                (lambda: linux_round(assets, image, randread, options.loads, seq_count, rand_count))
                if assets else None)
        except (peer.PeerError, machine.Timeout, OSError, subprocess.CalledProcessError) as error:
            print(f"bench-virtio: FAILED, no figures printed: {error}", file=sys.stderr)
            return 1
    with_linux = bool(linux_rounds)

    def linux(key):
        return median_of(linux_rounds, key) if with_linux else None

    print(f"virtio disk (median of {options.runs} boots each, {options.loads} stack loads per boot, a 64 MiB "
          f"virtio-blk-pci disk{'; Keel and Linux ' + assets.release + ' interleaved' if with_linux else ''})")
    print(f"  {'':52}{'Keel':>16}{'Linux':>16}  ratio")
    stack = f"Linux {linux_rounds[0]['modules']} modules" if with_linux else "Linux not measured"
    print(row(f"load + bind virtio_pci, virtio_blk to vda ({stack})", median_of(keel_rounds, "load us") / 1000,
              linux("load us") / 1000 if with_linux else None, "ms", LOAD_TARGET))
    print(row(f"sequential 1 MiB reads, raw disk ({seq_count} MiB)", median_of(keel_rounds, "seq MB/s"),
              linux("seq MB/s"), "MB/s", SEQ_TARGET, linux_over_keel=False))
    print(row(f"random 4 KiB reads, one at a time ({rand_count})", median_of(keel_rounds, "rand IOPS"),
              linux("rand IOPS"), "IOPS", RAND_TARGET, linux_over_keel=False))
    print(row("  their median latency", median_of(keel_rounds, "rand p50 us"), linux("rand p50 us"), "us", 1))
    with tempfile.TemporaryDirectory() as scratch:
        for name in KEEL_MODULES:
            path = os.path.join(machine.BUILD, "modules", name + ".kmod")
            linux_size = os.path.getsize(assets.module(name)) / 1024 if with_linux else None
            print(row(f"module file: {name}.kmod / {name}.ko", os.path.getsize(path) / 1024, linux_size, "KiB",
                      SIZE_TARGET))
            print(row("  without debug info (Debian's .ko have none)", without_debug_info(path, scratch) / 1024,
                      linux_size, "KiB", SIZE_TARGET))
    if with_linux:
        others = [name for name in linux_stack(assets) if name not in ("virtio_pci", "virtio_blk")]
        extra = sum(os.path.getsize(assets.module(name)) for name in others) / 1024
        print(f"  (Linux also loads {', '.join(others)}: {extra:.0f} KiB more)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
