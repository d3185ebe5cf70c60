#!/usr/bin/env python3
"""ext2 figures for scripts/bench (issue 14, "Benchmark"), Keel and Debian's
Linux (whose built-in ext4 driver mounts ext2) under the same QEMU with the
same virtio-blk-pci disk, interleaved in each run. Each boot gets a fresh
copy of one image made here with mke2fs -d (4 KiB blocks): a 64 MiB file
and a tree of 100 directories of 100 small files. The disk is mounted
right after boot, so every figure starts cold (nothing of it cached):

- stat every file of the 10,000-file tree: `fsbench stat` (lstat of every
  entry, depth first) against busybox `du -s` (which lstats every entry);
- read the 64 MiB file through the filesystem: `fsbench read` (1 MiB
  reads) against busybox `dd bs=1M`;
- create 1,000 files of 6 bytes in a new directory, then sync: `fsbench
  create` against a busybox shell loop (`echo hello > f$i`, no process per
  file) and `sync`;
- ext2.kmod's size: the file as built, without its DWARF, and what it maps
  when loaded.

Keel times itself with the TSC; Linux is timed by its printk clock between
markers written to /dev/kmsg (so its figures include starting one busybox
process, under a millisecond). Run alone (`scripts/bench-ext2.py [--runs N]
[--peer none]`, KEEL_BUILD naming the build directory) or from
scripts/bench.
"""

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keel import machine, peer  # noqa: E402

BIG_MIB = 64
DIRECTORIES = 100
FILES_PER_DIRECTORY = 100
CREATED = 1000
IMAGE_MIB = 192
STAT = re.compile(r"fsbench: stat of (\d+) entries under \S+ in (\d+) us")
READ = re.compile(r"fsbench: read (\d+) bytes of \S+ in (\d+) us")
CREATE = re.compile(r"fsbench: created (\d+) files in \S+ and synced in (\d+) us")
LOADED = re.compile(r"ext2: loaded at \S+ \((\d+) KiB\)")
READ_TARGET = 1      # Keel's read throughput over Linux's, at least
CREATE_TARGET = 2    # Linux's time over Keel's, at least
STAT_TARGET = 2      # Linux's time over Keel's, at least
SIZE_LIMIT_KIB = 64  # ext2.kmod, at most


def _virtio_bench():
    """bench-virtio.py's helpers (its file name is not a module name)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-virtio.py")
    spec = importlib.util.spec_from_file_location("bench_virtio", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


virtio = _virtio_bench()


def make_image(directory):
    tree = os.path.join(directory, "tree")
    os.makedirs(tree)
    with open(os.path.join(tree, "big"), "wb") as out:
        block = bytes(range(256)) * 4096
        for _ in range(BIG_MIB):
            out.write(block)
    for number in range(DIRECTORIES):
        subdirectory = os.path.join(tree, "tree", "d%02d" % number)
        os.makedirs(subdirectory)
        for file in range(FILES_PER_DIRECTORY):
            with open(os.path.join(subdirectory, "f%02d" % file), "w") as out:
                out.write("x\n")
    image = os.path.join(directory, "ext2-bench.img")
    with open(image, "wb") as out:
        out.truncate(IMAGE_MIB << 20)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", "-N", "16384", "-d", tree, image], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tree)
    return image


def disk(image):
    """A fresh copy of the image, writable, as a virtio-blk-pci disk."""
    copy = image + ".run"
    shutil.copyfile(image, copy)
    return ["-drive", f"file={copy},if=none,id=disk,format=raw", "-device", "virtio-blk-pci,drive=disk"]


def figure(guest, line, regex, side):
    out = guest.run(line, timeout=300)
    match = regex.search(out)
    if not match:
        raise peer.PeerError(f"{side}: {line} printed no figures:\n{out[-1000:]}")
    return [int(value) for value in match.groups()]


def keel_round(image):
    with peer.KeelGuest() as guest:
        guest.start(disk(image))
        for _ in range(100):
            if "vda" in guest.run("lsblk"):
                break
        else:
            raise peer.PeerError("Keel: the disk never appeared (autoload of virtio_pci and virtio_blk)")
        guest.run("insmod ext2")
        guest.run("mkdir /mnt")
        out = guest.run("mount -t ext2 /dev/vda /mnt")
        if "ERROR" in out or "mount:" in out:
            raise peer.PeerError(f"Keel: mount failed: {out}")
        entries, stat_us = figure(guest, "fsbench stat /mnt/tree", STAT, "Keel")
        size, read_us = figure(guest, "fsbench read /mnt/big", READ, "Keel")
        created, create_us = figure(guest, f"fsbench create /mnt/new {CREATED}", CREATE, "Keel")
        loaded = LOADED.search(guest.run("dmesg"))
    if entries != DIRECTORIES * (FILES_PER_DIRECTORY + 1) or size != BIG_MIB << 20 or created != CREATED:
        raise peer.PeerError(f"Keel: stat {entries} entries, read {size} bytes, created {created} files")
    return {"stat ms": stat_us / 1000, "read MB/s": size / read_us, "create ms": create_us / 1000,
            "mapped KiB": int(loaded.group(1)) if loaded else None}


def linux_round(assets, image):
    modules = virtio.linux_stack(assets)
    files = {f"/lib/peer/{name}.ko": assets.module(name) for name in modules}
    with peer.LinuxGuest(assets, files) as guest:
        guest.start(disk(image))
        guest.run(" && ".join(f"insmod /lib/peer/{name}.ko" for name in modules))
        guest.run("while [ ! -e /sys/block/vda ]; do :; done && mkdir -p /mnt && mount -t ext2 /dev/vda /mnt")
        stat_us = virtio.kernel_span(guest, "du -s /mnt/tree > /dev/null")
        read_us = virtio.kernel_span(guest, "dd if=/mnt/big of=/dev/null bs=1M 2>/dev/null")
        create_us = virtio.kernel_span(guest, f"mkdir /mnt/new && i=0 && while [ $i -lt {CREATED} ]; do "
                                       "echo hello > /mnt/new/f$i; i=$((i+1)); done && sync")
        count = guest.run("ls /mnt/new | wc -l").split()
        if not count or count[-1] != str(CREATED):
            raise peer.PeerError(f"Linux: /mnt/new holds {count} files, not {CREATED}")
    return {"stat ms": stat_us / 1000, "read MB/s": (BIG_MIB << 20) / read_us, "create ms": create_us / 1000}


def median_of(rounds, key):
    return statistics.median(figures[key] for figures in rounds)


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-ext2.py")
    parser.add_argument("--runs", type=int, default=5, help="boots of each kernel")
    parser.add_argument("--peer", choices=("linux", "none"), default="linux")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        try:
            image = make_image(scratch)
            assets = peer.LinuxAssets.fetch(log=lambda m: print(m, file=sys.stderr)) \
                if options.peer == "linux" else None
            keel_rounds, linux_rounds = peer.interleave(
                "bench-ext2", options.runs, lambda: keel_round(image),
                (lambda: linux_round(assets, image)) if assets else None)
        except (peer.PeerError, machine.Timeout, OSError, subprocess.CalledProcessError) as error:
            print(f"bench-ext2: FAILED, no figures printed: {error}", file=sys.stderr)
            return 1
    with_linux = bool(linux_rounds)

    def linux(key):
        return median_of(linux_rounds, key) if with_linux else None

    print(f"ext2 (median of {options.runs} boots each, a {IMAGE_MIB} MiB virtio-blk-pci disk mounted at boot, "
          f"cold{'; Keel and Linux ' + assets.release + ' (ext4 driver) interleaved' if with_linux else ''})")
    print(f"  {'':52}{'Keel':>16}{'Linux':>16}  ratio")
    count = DIRECTORIES * FILES_PER_DIRECTORY
    print(virtio.row(f"stat every file of a {count:,}-file tree", median_of(keel_rounds, "stat ms"),
                     linux("stat ms"), "ms", STAT_TARGET))
    print(virtio.row(f"read a {BIG_MIB} MiB file", median_of(keel_rounds, "read MB/s"), linux("read MB/s"), "MB/s",
                     READ_TARGET, linux_over_keel=False))
    print(virtio.row(f"create {CREATED:,} small files and sync", median_of(keel_rounds, "create ms"),
                     linux("create ms"), "ms", CREATE_TARGET))
    path = os.path.join(machine.BUILD, "modules", "ext2.kmod")
    with tempfile.TemporaryDirectory() as scratch:
        stripped = virtio.without_debug_info(path, scratch) / 1024
    print(f"  {'ext2.kmod file, as built':<52}{os.path.getsize(path) / 1024:10.1f} KiB")
    mapped = keel_rounds[0]["mapped KiB"]
    met = "met" if stripped <= SIZE_LIMIT_KIB else "NOT MET"
    print(f"  {'  without debug info':<52}{stripped:10.1f} KiB   target at most {SIZE_LIMIT_KIB} KiB: {met}")
    if mapped is not None:
        print(f"  {'  mapped when loaded (lsmod)':<52}{mapped:10.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
