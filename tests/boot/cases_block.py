"""Block layer scenarios (docs/devices.md): the test disk driver
(tests/modules/ramblk_test.c) on QEMU's pci-testdev, autoloaded; its
pattern disk (each 512-byte sector holds its own number in every 8-byte
word) read through blkread, and sequentially and at random through
blkbench with verification; written and read back; MBR partitions; a held
disk pinning its driver (rmmod and unbind say EBUSY and name the holder);
unbind/bind and rmmod/insmod cycles with the counters at baseline."""

import re
import struct
import zlib

from cases_devices import counters, function_address, out_of, wait_log
from harness import TEST_INITRAMFS, boot, case, check, free_pages


def boot_ramblk():
    return boot("panic=-1", initrd=TEST_INITRAMFS, devices=["pci-testdev"])


def wait_disk(vm, name="ramblka"):
    wait_log(vm, r"ramblk_test: \S+: disk " + name)


def dumped(out):
    """The bytes of blkread's hex dump."""
    data = bytearray()
    for line in out.splitlines():
        match = re.match(r"^[0-9a-f]{8}:((?: [0-9a-f]{2})+)$", line.strip())
        if match:
            data += bytes(int(byte, 16) for byte in match.group(1).split())
    return bytes(data)


def pattern(lba, mark=0):
    return struct.pack("<Q", lba | mark) * 64


def testdev_address(vm):
    return function_address(vm, "1b36:0005", "pci-testdev (1b36:0005)")


@case
def block_pattern_disk_reads_and_writes():
    with boot_ramblk() as vm:
        wait_disk(vm)
        out = out_of(vm, "lsblk")
        check(re.search(r"^ramblka +4096 +2 MiB +rw disk +512-byte sectors, depth 4", out, re.M), f"lsblk: {out}", vm)
        data = dumped(out_of(vm, "blkread ramblka 2560 512"))
        check(data == pattern(5), f"sector 5 reads {data[:16].hex()}...", vm)
        # Not sector-aligned: the bytes asked for, from two sectors.
        data = dumped(out_of(vm, "blkread ramblka 4092 8"))
        check(data == pattern(7)[-4:] + pattern(8)[:4], f"bytes 4092..4099 read {data.hex()}", vm)
        for line, expected in (("blkbench ramblka seq 65536 64 verify", 8192),
                               ("blkbench ramblka rand 4096 500 verify", 4000),
                               ("blkbench ramblka rand 512 300 verify", 300)):
            out = out_of(vm, line)
            check(f"verified {expected} sector(s), 0 mismatch(es)" in out, f"{line}: {out}", vm)
        out = out_of(vm, "blkwrite ramblka 100 3")
        check("3 sector(s) from 100 written and flushed" in out, f"blkwrite: {out}", vm)
        data = dumped(out_of(vm, "blkread ramblka 51200 512"))
        check(data == pattern(100, 0x5752000000000000), f"sector 100 after the write: {data[:16].hex()}", vm)
        out = out_of(vm, "blkread ramblka 2097150 4")
        check("lie past its end" in out, f"a read past the end: {out}", vm)
        out = out_of(vm, "blkread nodisk 0 1")
        check("nodisk: cannot open: ENXIO" in out, f"a missing disk: {out}", vm)


@case
def block_partitions_and_pins():
    with boot_ramblk() as vm:
        wait_disk(vm)
        out_of(vm, "rmmod ramblk_test")
        out = out_of(vm, "insmod ramblk_test partitions=1")
        check("MBR partition table, 2 partition(s)" in out, f"no partitions read: {out}", vm)
        out = out_of(vm, "lsblk")
        for line in (r"^ramblka1 +1024 +0 MiB +rw part +start 2048$", r"^ramblka2 +1024 +0 MiB +rw part +start 3072$"):
            check(re.search(line, out, re.M), f"lsblk lacks {line}: {out}", vm)
        data = dumped(out_of(vm, "blkread ramblka2 0 512"))
        check(data == pattern(3072), f"ramblka2's first sector is not the disk's 3072: {data[:16].hex()}", vm)
        out = out_of(vm, "blkread ramblka1 524288 1")
        check("lie past its end" in out, f"a read past the partition's end: {out}", vm)
        address = testdev_address(vm)
        out_of(vm, "blkopen ramblka1")
        out = out_of(vm, "rmmod ramblk_test")
        check("in use by block device ramblka1 (open)" in out and "EBUSY" in out, f"rmmod while open: {out}", vm)
        out = out_of(vm, f"unbind {address}")
        check("in use by block device ramblka1 (open)" in out and "EBUSY" in out, f"unbind while open: {out}", vm)
        out_of(vm, "blkclose ramblka1")
        out = out_of(vm, "rmmod ramblk_test")
        check("unloaded" in out, f"rmmod after close: {out}", vm)
        check("ramblka" not in out_of(vm, "lsblk"), "the disk outlived its driver", vm)
        out = out_of(vm, "blkread ramblka 0 1")
        check("ENXIO" in out, f"a read after rmmod: {out}", vm)
        # A driver that takes at most 3 sectors a request (and fails longer
        # ones): the block layer cuts every request to it, partitions' too,
        # and never calls submit from inside submit though the driver
        # completes each piece there.
        check_cut_requests(vm, "depth=2", rounds=16, first=100, count=7)
        data = dumped(out_of(vm, "blkread ramblka 50688 512")) + dumped(out_of(vm, "blkread ramblka 54784 512"))
        check(data == pattern(99) + pattern(107), "the sectors around the write changed", vm)
        out = out_of(vm, "blkread ramblka2 0 4096")
        expected = b"".join(pattern(lba) for lba in range(3072, 3080))
        check(f"crc32 {zlib.crc32(expected):08x}" in out, f"ramblka2's first 8 sectors: {out}", vm)
        # The same with each piece completing later, from the worker
        # thread, newest first: out of order and in another context.
        out_of(vm, "rmmod ramblk_test")
        check_cut_requests(vm, "depth=4 defer=1", rounds=8, first=200, count=11)
        log = out_of(vm, "dmesg")
        check("over max_sectors" not in log, "the driver saw a request over its limit", vm)
        check("submit re-entered" not in log, "submit was called from inside submit", vm)


def check_cut_requests(vm, options, rounds, first, count):
    """ramblk_test with partitions and max_sectors=3 (and `options`): 64 KiB
    reads `rounds` times, each 43 requests to the driver, and a write of
    `count` sectors from `first` that reads back whole."""
    out_of(vm, f"insmod ramblk_test partitions=1 max_sectors=3 {options}")
    before = requests_of(vm)
    out = out_of(vm, f"blkbench ramblka seq 65536 {rounds} verify")
    # Sector 0 holds the MBR, not its number: the one mismatch.
    check(f"verified {rounds * 128} sector(s), 1 mismatch(es)" in out, f"blkbench cut to 3 sectors ({options}): {out}",
          vm)
    check(requests_of(vm) - before == rounds * 43, f"requests {before} -> {requests_of(vm)}, not 43 per 64 KiB", vm)
    out = out_of(vm, f"blkwrite ramblka {first} {count}")
    check(f"{count} sector(s) from {first} written and flushed" in out, f"blkwrite cut to 3 sectors: {out}", vm)
    out = out_of(vm, f"blkread ramblka {first * 512} {count * 512}")
    written = b"".join(pattern(lba, 0x5752000000000000) for lba in range(first, first + count))
    check(f"crc32 {zlib.crc32(written):08x}" in out, f"sectors {first}..{first + count - 1} after the write: {out}", vm)


def requests_of(vm):
    """The requests lsblk says the driver was handed for ramblka."""
    out = out_of(vm, "lsblk")
    match = re.search(r"^ramblka .* (\d+) requests, on ", out, re.M)
    check(match, f"lsblk: {out}", vm)
    return int(match.group(1))


@case
def block_unbind_rebind_cycles_at_baseline():
    with boot_ramblk() as vm:
        wait_disk(vm)
        address = testdev_address(vm)
        out_of(vm, "rmmod ramblk_test")
        baseline = counters(vm)
        pages = free_pages(vm)
        out_of(vm, "insmod ramblk_test partitions=1")
        out = out_of(vm, f"devtest cycles 100 {address}", timeout=240)
        check(f"devtest: 100 unbind/bind cycles of {address}: baseline kept: PASS" in out, f"devtest: {out}", vm)
        check("ramblka2" in out_of(vm, "lsblk"), "no disk after the cycles", vm)
        out_of(vm, "rmmod ramblk_test")
        out = out_of(vm, "modtest cycles 30 ramblk_test partitions=1", timeout=240)
        check(re.search(r"modtest: 30 cycles of ramblk_test .*: PASS", out), f"modtest: {out}", vm)
        after = counters(vm)
        for key in ("devices", "bound", "drivers", "resources", "pins", "dma buffers", "bytes"):
            check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
        check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)}", vm)
