"""virtio scenarios (docs/devices.md): a virtio-blk-pci disk autoloads the
virtio stack (virtio_pci on the pci bus, virtio_blk on the virtio bus it
adds) with no insmod, and nothing loads without one; a pattern image made
here (each 512-byte sector holds its own number in every 8-byte word) is
read through blkread and blkbench, sequentially and at random, verified;
sectors written and flushed are on the host's image after power-off; a
read-only disk refuses writes; an open disk pins both drivers; unbind/bind
and rmmod/insmod cycles leave every counter at its baseline. On AArch64
(virt) the disk is a virtio-blk-pci function behind the PCIe host bridge,
and a virtio-blk-device on a virtio-mmio slot (cases_virtio_mmio.py has
the rest of virtio-mmio's)."""

import os
import re
import tempfile

from cases_block import dumped, pattern
from cases_devices import counters, function_address, out_of, wait_log
from harness import ALL_ARCHES, TEST_INITRAMFS, boot, case, check, free_pages

SECTORS = 16384  # 8 MiB
WRITE_MARK = 0x5752000000000000  # blkwrite's mark in each word


def pattern_image(directory, sectors=SECTORS):
    path = os.path.join(directory, "pattern.img")
    with open(path, "wb") as image:
        for lba in range(sectors):
            image.write(pattern(lba))
    return path


# The disk's transport: its QEMU device, the transport module, the vendor
# in the virtio device's modalias. virtio-mmio is AArch64's (virt's slots).
TRANSPORTS = {
    "pci": ("virtio-blk-pci", "virtio_pci", "00001AF4"),
    "mmio": ("virtio-blk-device", "virtio_mmio", "554D4551"),
}


def boot_disk(image, readonly=False, cmdline="panic=-1", transport="pci"):
    if transport == "pci":
        return boot(cmdline, initrd=TEST_INITRAMFS, disks=[image + (",ro" if readonly else "")])
    drive = ["-drive", f"file={image},if=none,id=disk,format=raw" + (",readonly=on" if readonly else ""),
             "-device", f"{TRANSPORTS[transport][0]},drive=disk"]
    return boot(cmdline, initrd=TEST_INITRAMFS, extra=drive)


def wait_disk(vm, name="vda"):
    return wait_log(vm, r"virtio_blk: (virtio\d+): " + name + r": (\d+) sectors of 512 bytes([^\n]*)")


def virtio_address(vm):
    return function_address(vm, "1af4:10(?:01|42)", "a virtio block device (1af4:1001 or 1af4:1042)")


def autoloads_and_reads_the_pattern(transport):
    _, module, vendor = TRANSPORTS[transport]
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        with boot_disk(image, transport=transport) as vm:
            match = wait_disk(vm)
            check(int(match.group(2)) == SECTORS, f"the disk has {match.group(2)} sectors, not {SECTORS}", vm)
            # QEMU offers indirect descriptors: each request takes one ring
            # descriptor, so as many are in flight as the ring holds.
            ring = re.search(r"queue (\d+) \(indirect\), depth (\d+),", match.group(3))
            check(ring and ring.group(1) == ring.group(2),
                  f"not indirect, or not as deep as the ring: {match.group(0)}", vm)
            # The disk line comes from virtio_blk's probe, inside its init;
            # the autoload line comes after init returns, so wait for it.
            for name in (module, "virtio_blk"):
                wait_log(vm, r"autoload: \S+ \S+: loaded " + name)
            wait_log(vm, r"autoload: virtio\d+ virtio:d00000002v" + vendor + ": loaded virtio_blk")
            out = out_of(vm, "lsdev")
            check(re.search(r"virtio\d+ +virtio +bound +virtio_blk", out), f"lsdev: {out}", vm)
            out = out_of(vm, "lsblk")
            check(re.search(r"^vda +16384 +8 MiB +rw disk", out, re.M), f"lsblk: {out}", vm)
            data = dumped(out_of(vm, "blkread vda 2560 512"))
            check(data == pattern(5), f"sector 5 reads {data[:16].hex()}...", vm)
            data = dumped(out_of(vm, "blkread vda 8388604 4"))
            check(data == pattern(SECTORS - 1)[-4:], f"the last bytes read {data.hex()}", vm)
            for line, expected in (("blkbench vda seq 1048576 16 verify", 32768),
                                   ("blkbench vda seq 65536 128 verify", 16384),
                                   ("blkbench vda rand 4096 1000 verify", 8000),
                                   ("blkbench vda rand 512 500 verify", 500)):
                out = out_of(vm, line, timeout=240)
                check(f"verified {expected} sector(s), 0 mismatch(es)" in out, f"{line}: {out}", vm)
            out = out_of(vm, "blkread vda 8388608 1")
            check("lie past its end" in out, f"a read past the end: {out}", vm)


@case(arches=ALL_ARCHES)
def virtio_blk_autoloads_and_reads_the_pattern():
    autoloads_and_reads_the_pattern("pci")


@case(arches=("aarch64",))
def virtio_blk_over_mmio_autoloads_and_reads_the_pattern():
    autoloads_and_reads_the_pattern("mmio")


@case(arches=ALL_ARCHES)
def virtio_no_disk_no_driver():
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        out_of(vm, "mkdir /ready")  # a command round trip: autoload had the boot to act
        out = out_of(vm, "lsmod")
        check("virtio_pci" not in out and "virtio_blk" not in out, f"virtio modules loaded with no device: {out}", vm)
        check("vda" not in out_of(vm, "lsblk"), "a disk with no device", vm)


def write_flush_poweroff_reaches_the_image(transport):
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        with boot_disk(image, transport=transport) as vm:
            wait_disk(vm)
            out = out_of(vm, "blkwrite vda 100 3")
            check("3 sector(s) from 100 written and flushed" in out, f"blkwrite: {out}", vm)
            out = out_of(vm, "blkwrite vda 16383 1")
            check("1 sector(s) from 16383 written and flushed" in out, f"blkwrite of the last sector: {out}", vm)
            data = dumped(out_of(vm, "blkread vda 51200 512"))
            check(data == pattern(100, WRITE_MARK), f"sector 100 after the write: {data[:16].hex()}", vm)
            vm.send("poweroff 0")
            status = vm.wait_exit(60)
            check(status == 0, f"poweroff gave exit status {status}", vm)
        with open(image, "rb") as disk:
            content = disk.read()
        for lba in range(SECTORS):
            written = 100 <= lba <= 102 or lba == SECTORS - 1
            expected = pattern(lba, WRITE_MARK if written else 0)
            actual = content[lba * 512:(lba + 1) * 512]
            check(actual == expected, f"the image's sector {lba} holds {actual[:16].hex()}..., "
                  f"expected {expected[:16].hex()}...")


@case(arches=ALL_ARCHES)
def virtio_blk_write_flush_poweroff_reaches_the_image():
    write_flush_poweroff_reaches_the_image("pci")


@case(arches=("aarch64",))
def virtio_blk_over_mmio_write_flush_poweroff_reaches_the_image():
    write_flush_poweroff_reaches_the_image("mmio")


@case(arches=ALL_ARCHES)
def virtio_blk_read_only_disk_refuses_writes():
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        with boot_disk(image, readonly=True) as vm:
            match = wait_disk(vm)
            check("read-only" in match.group(3), f"the driver did not see VIRTIO_BLK_F_RO: {match.group(0)}", vm)
            out = out_of(vm, "lsblk")
            check(re.search(r"^vda +16384 +8 MiB +ro disk", out, re.M), f"lsblk: {out}", vm)
            out = out_of(vm, "blkwrite vda 100 1")
            check("EROFS" in out, f"a write to a read-only disk: {out}", vm)
            out = out_of(vm, "blkbench vda rand 4096 100 verify")
            check("verified 800 sector(s), 0 mismatch(es)" in out, f"reads of a read-only disk: {out}", vm)
        with open(image, "rb") as disk:
            check(disk.read(512 * 101)[512 * 100:] == pattern(100), "the read-only image changed")


@case(arches=ALL_ARCHES)
def virtio_blk_open_disk_pins_the_drivers():
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        with boot_disk(image) as vm:
            wait_disk(vm)
            address = virtio_address(vm)
            out_of(vm, "blkopen vda")
            for line, said in (("rmmod virtio_blk", "virtio_blk: in use by block device vda (open) (device virtio"),
                               ("rmmod virtio_pci", "virtio_pci: in use by block device vda (open) (device virtio"),
                               (f"unbind {address}", "below it is held by block device vda (open)")):
                out = out_of(vm, line)
                check(said in out and "EBUSY" in out, f"{line} while open: {out}", vm)
            check("vda" in out_of(vm, "lsblk"), "the disk went while open", vm)
            out_of(vm, "blkclose vda")
            out = out_of(vm, "rmmod virtio_blk")
            check("unloaded" in out, f"rmmod after close: {out}", vm)
            check("vda" not in out_of(vm, "lsblk"), "the disk outlived its driver", vm)
            out = out_of(vm, "lsdev")
            check(re.search(r"virtio\d+ +virtio +present", out), f"the virtio device after rmmod: {out}", vm)
            out = out_of(vm, "insmod virtio_blk")
            check("vda" in out_of(vm, "lsblk"), f"no disk after insmod: {out}", vm)
            data = dumped(out_of(vm, "blkread vda 512 512"))
            check(data == pattern(1), f"sector 1 after insmod reads {data[:16].hex()}", vm)


KEYS = ("devices", "bound", "drivers", "resources", "pins", "irq vectors", "handlers", "mmio", "dma buffers", "bytes",
        "mappings", "work", "vmalloc areas")


def unloaded_baseline(vm):
    """Both modules out (virtio_blk first: it is not pinned by virtio_pci),
    and the counters then."""
    wait_disk(vm)
    out_of(vm, "rmmod virtio_blk")
    out_of(vm, "rmmod virtio_pci")
    lsmod = out_of(vm, "lsmod")
    check("virtio_blk" not in lsmod and "virtio_pci" not in lsmod, f"the virtio modules did not unload: {lsmod}", vm)
    return counters(vm), free_pages(vm)


def check_baseline(vm, baseline, pages):
    after = counters(vm)
    for key in KEYS:
        check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
    check(free_pages(vm) == pages, f"free pages {pages} -> {free_pages(vm)}", vm)


def control_of(vm, address):
    """The function's `Control:` bits from `lspci -v`."""
    out = out_of(vm, "lspci -v")
    match = re.search(rf"^{re.escape(address[5:])} .*\n(?:\t.*\n)*?\tControl: (.*)", out, re.M)
    return match.group(1).strip() if match else f"no Control line:\n{out}"


@case(arches=ALL_ARCHES)
def virtio_unbind_rebind_cycles():
    """The transport unbound and bound again: its child goes and comes back,
    virtio_blk binding it from inside virtio_pci's probe each time."""
    with tempfile.TemporaryDirectory() as directory:
        with boot_disk(pattern_image(directory)) as vm:
            baseline, pages = unloaded_baseline(vm)
            address = virtio_address(vm)
            # Unbound: no DMA and no INTx, decoding left on (as Linux's
            # pci_disable_device leaves it); bound: DMA again.
            check(control_of(vm, address) == "I/O+ Mem+ BusMaster- DisINTx+", "unbound: "
                  + control_of(vm, address), vm)
            out_of(vm, "insmod virtio_blk")
            out_of(vm, "insmod virtio_pci")
            check("vda" in out_of(vm, "lsblk"), "no disk after insmod", vm)
            check(control_of(vm, address) == "I/O+ Mem+ BusMaster+ DisINTx+", "bound: " + control_of(vm, address), vm)
            out = out_of(vm, f"devtest cycles 100 {address}", timeout=280)
            check(f"devtest: 100 unbind/bind cycles of {address}: baseline kept: PASS" in out, f"devtest: {out}", vm)
            out = out_of(vm, "blkbench vda rand 4096 50 verify")
            check("verified 400 sector(s), 0 mismatch(es)" in out, f"the disk after the cycles: {out}", vm)
            out_of(vm, "rmmod virtio_blk")
            out_of(vm, "rmmod virtio_pci")
            check_baseline(vm, baseline, pages)


def a_reset_that_fails(transport):
    """A device whose reset never completes may go on writing the rings and
    buffers it was given (the test hook `devtest failreset` makes the next
    unbinding act so): over PCI its transport's bus mastering goes off,
    over MMIO, which has no such switch, the memory is kept, never reused."""
    with tempfile.TemporaryDirectory() as directory:
        with boot_disk(pattern_image(directory), transport=transport) as vm:
            device = wait_disk(vm).group(1)
            before = counters(vm)
            check(before.get("quarantined") == 0, f"quarantined before: {before}", vm)
            check("its next unbinding fails its reset" in out_of(vm, f"devtest failreset {device}"), "hook", vm)
            out = out_of(vm, f"unbind {device}")
            check(f"virtio: {device}: reset at unbinding: failed on purpose" in out, f"unbind: {out}", vm)
            check(re.search(r"Tainted: \S*T", out_of(vm, "lsmod")), "the hook did not taint the kernel", vm)
            after = counters(vm)
            if transport == "pci":
                address = virtio_address(vm)
                check(f"virtio: {device}: DMA stopped at its transport {address}" in out, f"unbind: {out}", vm)
                check("BusMaster-" in control_of(vm, address), "bus mastering: " + control_of(vm, address), vm)
                check(after["quarantined"] == 0 and after["bytes"] < before["bytes"],
                      f"with DMA stopped, the memory goes back: {before} -> {after}", vm)
                # The device alone cannot be bound again: its DMA is off.
                out = out_of(vm, f"bind {device} virtio_blk")
                check(f"its transport's DMA was stopped after a reset that failed: bind {address} again" in out,
                      f"binding the device alone: {out}", vm)
                # The transport bound again turns bus mastering back on.
                out_of(vm, f"unbind {address}")
                out_of(vm, f"bind {address} virtio_pci")  # its child binds inside this probe
                check("vda" in out_of(vm, "lsblk"), "no disk after the transport's rebind", vm)
            else:
                check(re.search(device + r": its DMA could not be stopped \(its virtio reset failed\): the memory it "
                                r"was given is kept", out), f"unbind: {out}", vm)
                check(after["bytes"] < before["bytes"] and after["quarantined"] == before["bytes"] - after["bytes"],
                      f"the binding's DMA memory should be kept: {before} -> {after}", vm)
                # The next probe resets it; its next unbinding resets it
                # too, and then gives that binding's memory back.
                out_of(vm, f"bind {device} virtio_blk")
            out = out_of(vm, "blkbench vda rand 4096 20 verify")
            check("verified 160 sector(s), 0 mismatch(es)" in out, f"the disk after the rebind: {out}", vm)
            if transport != "pci":
                kept = counters(vm)["quarantined"]
                out_of(vm, f"unbind {device}")
                check(counters(vm)["quarantined"] == kept, "a quiet device's memory was kept", vm)


@case(arches=ALL_ARCHES)
def virtio_a_reset_that_fails_stops_the_transports_dma():
    a_reset_that_fails("pci")


@case(arches=("aarch64",))
def virtio_a_reset_that_fails_over_mmio_keeps_the_dma_memory():
    a_reset_that_fails("mmio")


@case(arches=ALL_ARCHES)
def virtio_rmmod_insmod_cycles():
    """virtio_blk loaded and unloaded under a bound transport, then
    virtio_pci under a loaded virtio_blk (the whole stack binds each time).
    The baseline has virtio_pci bound and its virtio device unclaimed:
    loading virtio_pci alone would have autoload load virtio_blk."""
    with tempfile.TemporaryDirectory() as directory:
        with boot_disk(pattern_image(directory)) as vm:
            wait_disk(vm)
            # One warm-up round first, as modtest takes its baseline after
            # one: on AArch64 the boot's bind leaves one page more in use
            # than every later bind does (with INTx as with MSI-X), a
            # one-time difference; the cycles below are what find leaks.
            out_of(vm, "rmmod virtio_pci")
            out_of(vm, "insmod virtio_pci")
            wait_disk(vm)
            out_of(vm, "rmmod virtio_blk")
            check(re.search(r"virtio\d+ +virtio +present", out_of(vm, "lsdev")), "virtio device not unbound", vm)
            baseline, pages = counters(vm), free_pages(vm)
            out = out_of(vm, "modtest cycles 100 virtio_blk", timeout=280)
            check(re.search(r"modtest: 100 cycles of virtio_blk .*: PASS", out), f"modtest virtio_blk: {out}", vm)
            out_of(vm, "insmod virtio_blk")
            out_of(vm, "rmmod virtio_pci")
            out = out_of(vm, "modtest cycles 100 virtio_pci", timeout=280)
            check(re.search(r"modtest: 100 cycles of virtio_pci .*: PASS", out), f"modtest virtio_pci: {out}", vm)
            out_of(vm, "insmod virtio_pci")
            out = out_of(vm, "blkbench vda rand 4096 50 verify")
            check("verified 400 sector(s), 0 mismatch(es)" in out, f"the disk after the cycles: {out}", vm)
            out_of(vm, "rmmod virtio_blk")
            check_baseline(vm, baseline, pages)


@case(arches=ALL_ARCHES)
def virtio_blk_interrupt_fallbacks_and_modern_ids():
    """Without MSI-X (vectors=0) the INTx line and the ISR byte; with one
    MSI-X vector, configuration and queue share it; a modern-only device
    (1af4:1042) is driven the same."""
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        for options, said in ((",vectors=0", "1 INTx interrupt(s)"), (",vectors=1", "1 MSI-X interrupt(s)"),
                              (",disable-legacy=on", "2 MSI-X interrupt(s)")):
            drive = ["-drive", f"file={image},if=none,id=disk,format=raw",
                     "-device", "virtio-blk-pci,drive=disk" + options]
            with boot("panic=-1", initrd=TEST_INITRAMFS, extra=drive) as vm:
                wait_disk(vm)
                match = wait_log(vm, r"virtio_pci: \S+: virtio type 2( \(transitional\))?, 1 queue\(s\), ([^\n]*)")
                check(said in match.group(2), f"{options}: {match.group(0)}", vm)
                check((match.group(1) is None) == (options == ",disable-legacy=on"),
                      f"{options}: transitional or not: {match.group(0)}", vm)
                out = out_of(vm, "blkbench vda rand 4096 200 verify")
                check("verified 1600 sector(s), 0 mismatch(es)" in out, f"{options}: reads: {out}", vm)
                out = out_of(vm, "blkwrite vda 7 1")
                check("1 sector(s) from 7 written and flushed" in out, f"{options}: blkwrite: {out}", vm)


@case(arches=ALL_ARCHES)
def virtio_blk_4096_byte_sectors():
    """VIRTIO_BLK_F_BLK_SIZE: a disk of 4096-byte logical sectors, whose
    requests still address the device in 512-byte units."""
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        drive = ["-drive", f"file={image},if=none,id=disk,format=raw",
                 "-device", "virtio-blk-pci,drive=disk,logical_block_size=4096,physical_block_size=4096"]
        with boot("panic=-1", initrd=TEST_INITRAMFS, extra=drive) as vm:
            wait_log(vm, r"virtio_blk: virtio\d+: vda: 2048 sectors of 4096 bytes")
            out = out_of(vm, "lsblk")
            check(re.search(r"^vda +2048 +8 MiB +rw disk +4096-byte sectors", out, re.M), f"lsblk: {out}", vm)
            for line, expected in (("blkbench vda seq 65536 16 verify", 2048),
                                   ("blkbench vda rand 4096 200 verify", 1600)):
                out = out_of(vm, line)
                check(f"verified {expected} sector(s), 0 mismatch(es)" in out, f"{line}: {out}", vm)
            data = dumped(out_of(vm, "blkread vda 12288 512"))
            check(data == pattern(24), f"byte 12288 (512-byte sector 24) reads {data[:16].hex()}", vm)
