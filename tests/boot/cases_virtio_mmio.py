"""virtio over virtio-mmio on AArch64 (QEMU virt, docs/devices.md): virt's
32 slots autoload virtio_mmio at every boot, the empty ones refused without
a word; a virtio-blk-device disk binds virtio_blk over it unchanged and
reads the same image as a virtio-blk-pci disk over PCIe; rmmod/modprobe and
unbind/bind cycles leave every counter and the free pages at their
baseline; a legacy (version 1) device and a malformed slot are refused
clearly."""

import os
import re
import subprocess
import tempfile

from cases_block import dumped
from cases_devices import counters, out_of, wait_log
from cases_virtio import KEYS, SECTORS, pattern_image
from harness import TEST_INITRAMFS, boot, case, check, free_pages
from keel.machine import MACHINES

AARCH64 = ("aarch64",)
SLOTS = 32
# QEMU plugs the first virtio-mmio -device into virt's highest slot.
TOP_SLOT = "a003e00.virtio_mmio"


def disk_options(image, index, device):
    """A read-only raw drive of `image` on `device` (virtio-blk-device or
    virtio-blk-pci): read-only, so two devices may share the file."""
    return ["-drive", f"file={image},if=none,id=disk{index},format=raw,readonly=on",
            "-device", f"{device},drive=disk{index}"]


def disk_on(vm, transport):
    """The disk (vdX) whose virtio device is a child of `transport` (a regex)."""
    device = wait_log(vm, r"(virtio\d+): virtio block device \(type 2\) on " + transport + r"\n").group(1)
    disk = wait_log(vm, r"virtio_blk: " + device + r": (vd\w): (\d+) sectors of 512 bytes")
    check(int(disk.group(2)) == SECTORS, f"{device}'s disk: {disk.group(0)}", vm)
    return disk.group(1)


def slot_lines(vm):
    """(address, state) of each of virt's virtio-mmio slots in lsdev."""
    slots = re.findall(r"^ *(\w+)\.virtio_mmio +of +(\w+)", out_of(vm, "lsdev"), re.M)
    check(len(slots) == SLOTS, f"{len(slots)} virtio-mmio slots listed, not {SLOTS}", vm)
    return slots


@case(arches=AARCH64)
def virtio_mmio_and_pci_disks_read_the_same_image():
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        with open(image, "rb") as handle:
            content = handle.read()
        extra = disk_options(image, 0, "virtio-blk-device") + disk_options(image, 1, "virtio-blk-pci")
        with boot("panic=-1", initrd=TEST_INITRAMFS, extra=extra) as vm:
            mmio = disk_on(vm, re.escape(TOP_SLOT))
            pci = disk_on(vm, r"0000:00:\w\w\.0")
            check(mmio != pci, f"one disk for both transports: {mmio}", vm)
            # The autoload line follows the module's init, which may still
            # be running when the disks are already there.
            wait_log(vm, r"autoload: \S+ of:Nvirtio_mmioT\(null\)Cvirtio,mmio: loaded virtio_mmio")
            log = out_of(vm, "dmesg")
            check(re.search(r"autoload: virtio\d+ virtio:d00000002v554D4551: loaded virtio_blk", log)
                  or re.search(r"virtio_blk: bound to virtio\d+", log), "virtio_blk did not bind over mmio", vm)
            # The empty slots: refused without a word, none bound.
            mmio_lines = re.findall(r"virtio_mmio: \S+: [^\n]*", log)
            check(mmio_lines == [f"virtio_mmio: {TOP_SLOT}: virtio type 2, vendor 0x554d4551, 256-byte configuration"],
                  "virtio_mmio said more (or less) than the one device:\n" + "\n".join(mmio_lines), vm)
            check("probe of" not in log, "a probe failure was logged", vm)
            slots = slot_lines(vm)
            check(slots.count(("a003e00", "bound")) == 1
                  and sum(state == "present" for _, state in slots) == SLOTS - 1, f"the slots: {slots}", vm)
            # The same bytes through both transports and on the host.
            for offset, length in ((0, 512), (2560, 512), (1048576 + 100, 300), (SECTORS * 512 - 16, 16)):
                for disk in (mmio, pci):
                    data = dumped(out_of(vm, f"blkread {disk} {offset} {length}"))
                    check(data == content[offset:offset + length],
                          f"{disk} at {offset}: {data[:16].hex()}..., the image has "
                          f"{content[offset:offset + 16].hex()}...", vm)
            out = out_of(vm, f"blkbench {mmio} rand 4096 500 verify", timeout=240)
            check("verified 4000 sector(s), 0 mismatch(es)" in out, f"random reads over mmio: {out}", vm)
            out = out_of(vm, f"blkwrite {mmio} 7 1")
            check("EROFS" in out, f"a write to the read-only disk over mmio: {out}", vm)


def check_baseline(vm, baseline, pages):
    """Every counter and the heap (bytes and allocations) as they were; no
    page fewer free (a page table or slab page the baseline held may have
    been returned since: a leak is a page that is not)."""
    after = counters(vm)
    for key in KEYS + ("heap", "bytes in"):
        check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
    check(free_pages(vm) >= pages, f"free pages {pages} -> {free_pages(vm)}", vm)


@case(arches=AARCH64)
def virtio_mmio_rmmod_modprobe_and_unbind_cycles():
    """virtio_blk unloaded and loaded under a bound slot, then virtio_mmio
    (32 slots probed on each load) under a loaded virtio_blk, then the
    slot unbound and bound: the counters and the free pages come back."""
    with tempfile.TemporaryDirectory() as directory:
        image = pattern_image(directory)
        with boot("panic=-1", initrd=TEST_INITRAMFS, extra=disk_options(image, 0, "virtio-blk-device")) as vm:
            disk = disk_on(vm, re.escape(TOP_SLOT))
            out_of(vm, "rmmod virtio_blk")
            check(re.search(r"virtio\d+ +virtio +present", out_of(vm, "lsdev")), "virtio device not unbound", vm)
            baseline, pages = counters(vm), free_pages(vm)
            out = out_of(vm, "modtest cycles 20 virtio_blk", timeout=280)
            check(re.search(r"modtest: 20 cycles of virtio_blk .*: PASS", out), f"modtest virtio_blk: {out}", vm)
            out_of(vm, "modprobe virtio_blk")
            out = out_of(vm, "rmmod virtio_mmio")
            check("unloaded" in out and disk not in out_of(vm, "lsblk"), f"rmmod virtio_mmio: {out}", vm)
            check(all(state == "present" for _, state in slot_lines(vm)), "a slot stayed bound", vm)
            out = out_of(vm, "modtest cycles 20 virtio_mmio", timeout=280)
            check(re.search(r"modtest: 20 cycles of virtio_mmio .*: PASS", out), f"modtest virtio_mmio: {out}", vm)
            out = out_of(vm, "modprobe of:Nvirtio_mmioT(null)Cvirtio,mmio")
            check(disk in out_of(vm, "lsblk"), f"no disk after modprobe by alias: {out}", vm)
            out = out_of(vm, f"devtest cycles 20 {TOP_SLOT}", timeout=280)
            check(f"devtest: 20 unbind/bind cycles of {TOP_SLOT}: baseline kept: PASS" in out, f"devtest: {out}", vm)
            out = out_of(vm, f"blkbench {disk} rand 4096 100 verify", timeout=240)
            check("verified 800 sector(s), 0 mismatch(es)" in out, f"the disk after the cycles: {out}", vm)
            out_of(vm, "rmmod virtio_blk")
            check_baseline(vm, baseline, pages)


def edited_tree(directory, machine, edits):
    """QEMU's own device tree for `machine`, each (pattern, replacement) of
    `edits` applied once to its source: the path of the edited blob."""
    plain, edited = os.path.join(directory, "virt.dtb"), os.path.join(directory, "edited.dtb")
    options = list(machine)
    options[options.index("-machine") + 1] += f",dumpdtb={plain}"
    subprocess.run(options + ["-m", "256M", "-display", "none"], check=True, capture_output=True)
    source = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", plain], check=True, capture_output=True,
                            text=True).stdout
    for pattern, replacement in edits:
        source, count = re.subn(pattern, replacement, source)
        check(count == 1, f"QEMU's tree has no {pattern!r} to edit")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", edited], input=source, check=True, text=True)
    return edited


def slot_pattern(address, inside):
    """The text of virt's slot `address` up to `inside`, as group 1."""
    return r"(virtio_mmio@" + address + r" \{[^}]*)" + inside


@case(arches=AARCH64)
def virtio_mmio_refuses_legacy_and_malformed_slots_clearly():
    """QEMU's default legacy interface (version 1) on the top slot, and
    virt's own tree with the lowest slot's reg cut to 16 bytes: each is
    refused with its reason, once; the other slots stay quiet and the
    module unloads."""
    legacy = [option for option in MACHINES["aarch64"] if option != "virtio-mmio.force-legacy=false"]
    legacy.remove("-global")
    with tempfile.TemporaryDirectory() as directory:
        broken = edited_tree(directory, legacy, [
            (slot_pattern("a000000", r"reg = <0x00 0xa000000 0x00 0x200>"), r"\1reg = <0x00 0xa000000 0x00 0x10>")])
        with boot("panic=-1", machine=legacy, extra=["-dtb", broken, "-device", "virtio-rng-device"]) as vm:
            log = wait_log(vm, r"virtio_mmio: a000000\.virtio_mmio: [^\n]*").string
            check(re.search(r"virtio_mmio: a000000\.virtio_mmio: its reg range is smaller than the 0x100 bytes of "
                            r"virtio-mmio registers \(0x10 bytes\); no device", log), "no clear refusal of reg", vm)
            refusal = re.findall(r"virtio_mmio: " + re.escape(TOP_SLOT) + r": [^\n]*", log)
            check(refusal == [f"virtio_mmio: {TOP_SLOT}: the legacy virtio-mmio interface (version 1) is not "
                              "supported, only virtio 1.x (version 2) (magic 0x74726976, version 1, device ID 4); "
                              "no device"], f"the legacy device's refusal: {refusal}", vm)
            check(len(re.findall(r"virtio_mmio: \S+: ", log)) == 2, "virtio_mmio said more than two things", vm)
            check(all(state == "present" for _, state in slot_lines(vm)), "a slot was bound", vm)
            check("virtio_rng" not in out_of(vm, "lsmod"), "virtio_rng loaded for a refused device", vm)
            out = out_of(vm, "rmmod virtio_mmio")
            check("unloaded" in out, f"rmmod virtio_mmio: {out}", vm)


@case(arches=AARCH64)
def virtio_mmio_bogus_registers_and_a_missing_interrupt_are_refused():
    """A slot whose reg points at the PL031 clock's registers (no virtio
    magic value there) and the device's slot without its interrupts
    property: both refused with their reason; modprobe after rmmod leaves
    the counters and the heap where they were."""
    with tempfile.TemporaryDirectory() as directory:
        edited = edited_tree(directory, MACHINES["aarch64"], [
            (slot_pattern("a000200", r"reg = <0x00 0xa000200 0x00 0x200>"),
             r"\1reg = <0x00 0x9010000 0x00 0x1000>"),
            (slot_pattern("a003e00", r"interrupts = <0x00 0x2f 0x01>;"), r"\1")])
        with boot("panic=-1", extra=["-dtb", edited, "-device", "virtio-rng-device"]) as vm:
            log = out_of(vm, "dmesg")
            check(re.search(r"virtio_mmio: 9010000\.virtio_mmio: not a virtio-mmio device: the magic value is not "
                            r"0x74726976 \(\"virt\"\) \(magic 0x[0-9a-f]{8}, version \d+, device ID \d+\); no device",
                            log), "the PL031's registers were not refused as not virtio's", vm)
            check(re.search(r"virtio_mmio: " + re.escape(TOP_SLOT) + r": no usable interrupt \(-\d+\); a virtio "
                            r"device needs one", log), "the slot without an interrupt was not refused", vm)
            check(all(state == "present" for _, state in slot_lines(vm)), "a slot was bound", vm)
            check("virtio_rng" not in out_of(vm, "lsmod"), "virtio_rng loaded for a refused device", vm)
            baseline = counters(vm)
            out_of(vm, "rmmod virtio_mmio")
            out_of(vm, "modprobe virtio_mmio")
            after = counters(vm)
            for key in KEYS + ("heap", "bytes in"):
                check(after.get(key) == baseline.get(key), f"{key}: {baseline.get(key)} -> {after.get(key)}", vm)
            check(len(re.findall(r"no usable interrupt", out_of(vm, "dmesg"))) == 2, "modprobe did not probe", vm)
