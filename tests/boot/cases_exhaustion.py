"""The memory-exhaustion tier: fill memory through a tmpfs, module loads and
thread creation in turn, then check that every way of giving memory back
(rm, rmdir, umount, rmmod, thread exit) works with no free page at all, and
that free memory comes back to where it was. Also the root tmpfs's size
limit, which keeps users from getting there through the root."""

import os
import re
import subprocess
import tempfile

from harness import BUILD, TEST_INITRAMFS, boot, case, check, free_pages, settled_free_pages
from keel.machine import ROOT

MEMORY = "64M"
# Loadable by name or path from the test initramfs; consumer brings provider.
MODULES = ["hello", "hello_cpp", "hello_rs", "params", "consumer", "/lib/test/big.kmod", "/lib/test/rustfs.kmod",
           "nullfs"]


def quiet(vm, line, timeout=120):
    """Run a command that must print nothing (succeed silently)."""
    out = vm.command_output(line, timeout)
    check(out.strip() == "", f"'{line}' printed: {out[:500]}", vm)


def fill_to_zero(vm, directory, prefix):
    """Write files of zeros into `directory` until no page is left."""
    for number in range(200):
        out = vm.command_output(f"fill {directory}/{prefix}{number} 1G", timeout=300)
        check(re.search(r"fill: \S+: \d+ of \d+ bytes(: .*\((ENOMEM|ENOSPC)\))?$", out.strip()) or
              "cannot open" in out and "ENOMEM" in out, f"fill: {out}", vm)
        if free_pages(vm) == 0:
            return
    check(False, "memory did not run out", vm)


def zero_free(vm, what):
    check(free_pages(vm) == 0, f"{what}: memory is not exhausted", vm)


def module_names(vm):
    lines = vm.command_output("lsmod").splitlines()
    return [m.group(1) for m in (re.match(r"(\w+) \d+ \d+ \S+ Live ", line) for line in lines) if m]


def exhaustion_round(vm):
    # tmpfs: rm, rmdir and umount with no free page.
    quiet(vm, "mkdir /fill")
    quiet(vm, "mount -t tmpfs -o size=0 fill /fill")
    quiet(vm, "mkdir /fill/empty /fill/dir")
    quiet(vm, "write /fill/dir/note kept")
    fill_to_zero(vm, "/fill", "a")
    zero_free(vm, "tmpfs")
    check("Size: " in vm.command_output("stat /fill/a0"), "stat with no free page", vm)
    check("/fill" in vm.command_output("mounts"), "mounts with no free page", vm)
    quiet(vm, "rm /fill/a0")
    check(free_pages(vm) > 0, "rm gave no page back", vm)
    fill_to_zero(vm, "/fill", "b")
    quiet(vm, "rmdir /fill/empty")
    fill_to_zero(vm, "/fill", "c")
    quiet(vm, "umount /fill")
    check(free_pages(vm) > 10000, "umount did not give the tmpfs's pages back", vm)

    # Module loads: what fits loads, the first that does not is refused
    # with ENOMEM and leaves nothing; rmmod with no free page.
    quiet(vm, "mount -t tmpfs -o size=0 fill /fill")
    keep = 150  # pages (600 KiB): room for a few modules, not all
    out = vm.command_output(f"fill /fill/pre {(free_pages(vm) - keep) * 4}K", timeout=300)
    check(re.search(r"fill: /fill/pre: (\d+) of \1 bytes$", out.strip()), f"pre-fill: {out}", vm)
    refused = 0
    for module in MODULES:
        out = vm.command_output(f"insmod {module}", timeout=120)
        if "could not insert" in out:
            check("ENOMEM" in out, f"insmod {module} at low memory: {out}", vm)
            refused += 1
    loaded = [name for name in module_names(vm) if name != "tmpfs"]
    check(loaded and refused, f"module loads did not run out of memory (loaded {loaded}, refused {refused})", vm)
    fill_to_zero(vm, "/fill", "m")
    zero_free(vm, "modules")
    for name in ["consumer"] + [name for name in loaded if name != "consumer"]:
        if name in module_names(vm):
            out = vm.command_output(f"rmmod {name}")
            check("could not remove" not in out, f"rmmod {name} with no free page: {out}", vm)
    check(module_names(vm) == ["tmpfs"], f"modules left: {module_names(vm)}", vm)
    quiet(vm, "umount /fill")

    # Threads: created until memory runs out, then exit with none left.
    out = vm.command_output("selftest park 100000", timeout=300)
    check(re.search(r"selftest park: \d+ threads parked, then ENOMEM", out), f"park: {out}", vm)
    # The last thread that did not fit may leave too little for a mount:
    # then memory is already gone, which is the point.
    filled = free_pages(vm) > 0
    if filled:
        out = vm.command_output("mount -t tmpfs -o size=0 fill /fill")
        filled = out.strip() == ""
        check(filled or "ENOMEM" in out, f"mount at low memory: {out}", vm)
    if filled:
        fill_to_zero(vm, "/fill", "t")
    zero_free(vm, "threads")
    out = vm.command_output("selftest unpark", timeout=120)
    check("selftest unpark: 0 threads left: PASS" in out, f"unpark with no free page: {out}", vm)
    if filled:
        quiet(vm, "umount /fill")
    quiet(vm, "rmdir /fill")


@case
def exhaustion_every_freeing_path_works_with_no_free_page():
    with boot("panic=-1", initrd=TEST_INITRAMFS, memory=MEMORY) as vm:
        baseline = settled_free_pages(vm)
        # The first round leaves what is kept for reuse (page tables of the
        # vmalloc region that thread stacks and modules grew into).
        exhaustion_round(vm)
        settled = free_pages(vm)
        check(baseline - settled < 256, f"the first round kept {baseline - settled} pages", vm)
        exhaustion_round(vm)
        check(free_pages(vm) == settled, f"free pages {settled} -> {free_pages(vm)} after a second round", vm)
        check("Kernel panic" not in vm.output, "panicked", vm)
        check(vm.command_output("uptime").startswith("up "), "alive", vm)


@case
def exhaustion_root_tmpfs_keeps_half_of_memory():
    # The root tmpfs is limited to half of RAM (as Linux's tmpfs): filling
    # it ends with ENOSPC while the kernel keeps the other half.
    with boot("panic=-1", memory=MEMORY) as vm:
        total = int(re.search(r"pages: total (\d+)", vm.command_output("mem")).group(1))
        limits = re.search(r"rootfs / tmpfs rw,size=(\d+),nr_inodes=(\d+) ", vm.command_output("mounts"))
        # Half of what the allocator had when the root was mounted (before
        # the initramfs's own pages were given back); as many inodes as
        # half the pages, as Linux's tmpfs.
        check(limits and 0.45 * total * 4096 < int(limits.group(1)) <= 0.5 * total * 4096,
              "the root tmpfs has no half-of-RAM size", vm)
        check(0.45 * total < int(limits.group(2)) <= 0.5 * total, "the root tmpfs has no inode limit", vm)
        out = vm.command_output("fill /big 1G", timeout=300)
        check("No space left on device (ENOSPC)" in out, f"filling the root: {out}", vm)
        check(free_pages(vm) > total * 4 // 10, "filling the root took more than half of memory", vm)
        check(vm.command_output("rm /big").strip() == "", "rm /big", vm)
    # initramfs_options= sets it (and the rest of the root's options).
    with boot("panic=-1 initramfs_options=size=4m,mode=0755", memory=MEMORY) as vm:
        check(re.search(r"rootfs / tmpfs rw,nr_inodes=\d+,size=4m,mode=0755 ", vm.command_output("mounts")),
              "initramfs_options=", vm)
        out = vm.command_output("fill /big 1G", timeout=300)
        check(re.search(r"fill: /big: \d+ of \d+ bytes: No space left on device \(ENOSPC\)", out), out, vm)
        size = int(re.search(r"Size: (\d+)", vm.command_output("stat /big")).group(1))
        check(size <= 4 << 20, f"/big grew to {size} bytes past size=4m", vm)


@case
def exhaustion_initramfs_file_that_does_not_fit_is_not_kept():
    # An initramfs file larger than the root's room is skipped whole: a
    # partial copy (28 of 36 MB) once stayed in the tree.
    with tempfile.TemporaryDirectory() as scratch:
        payload = os.path.join(scratch, "big.bin")
        with open(payload, "wb") as out:
            out.write(os.urandom(3 << 20))
        with open(os.path.join(BUILD, "initramfs", "initramfs.spec")) as source:
            spec = source.read() + f"file /big.bin {payload} 0644 0 0\nfile /after {payload} 0644 0 0\n"
        spec_path, image = os.path.join(scratch, "big.spec"), os.path.join(scratch, "big.cpio")
        with open(spec_path, "w") as out:
            out.write(spec)
        subprocess.run([os.path.join(BUILD, "scripts", "tools", "gen_init_cpio"), "-o", image, spec_path], check=True,
                       env=dict(os.environ, KEEL_INITRAMFS_DIR=os.path.join(ROOT, "initramfs")))
        with boot("panic=-1 initramfs_options=size=4m", initrd=image, memory=MEMORY) as vm:
            check(re.search(r"initramfs: entry \d+ \(\"big.bin\"\): cannot write file: ENOSPC; skipped", vm.output)
                  or re.search(r"initramfs: entry \d+ \(\"after\"\): cannot write file: ENOSPC; skipped", vm.output),
                  "no file was skipped for want of room", vm)
            for path in ("/big.bin", "/after"):
                out = vm.command_output(f"stat {path}")
                check("No such file or directory" in out or f"Size: {3 << 20}" in out,
                      f"{path} is a partial copy: {out}", vm)
            check("keel" in vm.command_output("cat /etc/hostname"), "the rest was not unpacked", vm)
