"""The root from a virtio disk (docs/ext2.md, docs/kernel-parameters.md):
root= by name (the whole disk, an MBR or a GPT partition), LABEL= and
UUID=, ro and rw, rootflags=, rootwait and rootwait=SECONDS. The console
starts in the disk's root, over nullfs; what it writes there is judged
after power-off by e2fsck -fn and debugfs rdump on the host. A root that
is not there, or not a filesystem, is reported and the console starts in
the initramfs. Every boot of this flow reaches the console (it once hung
in about half of them: the boot thread, being idle, waited for a read)."""

import os
import re
import shutil
import subprocess
import tempfile

from harness import BOOT_TIMEOUT, Machine, PROMPT, boot, case, check
from keel.machine import Timeout

FS_KIB = 8192
PART_START = 2048  # sectors: the partition at 1 MiB
LABEL = "keel-disk"
UUID = "5e1f0c3a-9b7d-4c2e-8a61-0d2b3c4e5f60"
LOG_LINE = re.compile(r"^\[\s*\d+\.\d+\] ")


def make_tree(directory):
    """What mke2fs -d puts on the disk; also the model the disk is compared with."""
    os.makedirs(os.path.join(directory, "etc"))
    files = {"hello.txt": "hello from the host\n", "etc/motd": "the root on a virtio disk\n",
             "log": "first line\n", "remove-me": "soon gone\n", "big": "0123456789abcdef" * 8192}
    for name, text in files.items():
        with open(os.path.join(directory, name), "w") as out:
            out.write(text)
    os.symlink("etc/motd", os.path.join(directory, "motd-link"))


def make_filesystem(path, tree):
    with open(path, "wb") as image:
        image.truncate(FS_KIB * 1024)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", "-L", LABEL, "-U", UUID, "-d", tree, path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_disk(scratch, table=None):
    """A disk holding the filesystem: the whole disk (table None), or its
    one partition in an "mbr" or "gpt" table. Returns (disk, model tree)."""
    model = os.path.join(scratch, "model")
    make_tree(model)
    filesystem = os.path.join(scratch, "fs.img")
    make_filesystem(filesystem, model)
    os.makedirs(os.path.join(model, "lost+found"))
    disk = os.path.join(scratch, "disk.img")
    if table is None:
        shutil.copy(filesystem, disk)
        return disk, model
    with open(disk, "wb") as image:
        image.truncate((PART_START + FS_KIB * 2 + 2048) * 512)  # room for GPT's backup at the end
    layout = "label: %s\nstart=%d, size=%d, type=%s\n" % (
        {"mbr": "dos", "gpt": "gpt"}[table], PART_START, FS_KIB * 2, {"mbr": "83", "gpt": "L"}[table])
    subprocess.run(["/usr/sbin/sfdisk", "-q", disk], input=layout, text=True, check=True, stdout=subprocess.DEVNULL)
    with open(filesystem, "rb") as source, open(disk, "r+b") as image:
        image.seek(PART_START * 512)
        image.write(source.read())
    return disk, model


def filesystem_of(disk, scratch, partitioned):
    """The filesystem's bytes out of the disk, as a file for e2fsck and debugfs."""
    path = os.path.join(scratch, "after.img")
    with open(disk, "rb") as image, open(path, "wb") as out:
        if partitioned:
            image.seek(PART_START * 512)
        out.write(image.read(FS_KIB * 1024))
    return path


def tree_listing(root):
    """Every path under root with its type and content (or link target)."""
    listing = {}
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories + files:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                listing[relative] = ("symlink", os.readlink(path))
            elif os.path.isdir(path):
                listing[relative] = ("directory", None)
            else:
                with open(path, "rb") as data:
                    listing[relative] = ("file", data.read())
    return listing


def judge(filesystem, model, scratch):
    """e2fsck -fn finds the filesystem clean and debugfs rdump equals the model."""
    fsck = subprocess.run(["e2fsck", "-fn", filesystem], capture_output=True, text=True)
    check(fsck.returncode == 0, "e2fsck -fn found errors:\n" + fsck.stdout + fsck.stderr)
    dumped = os.path.join(scratch, "rdump")
    os.makedirs(dumped)
    subprocess.run(["debugfs", "-R", "rdump / " + dumped, filesystem], check=True, capture_output=True)
    have, want = tree_listing(dumped), tree_listing(model)
    for path in sorted(set(have) | set(want)):
        check(have.get(path) == want.get(path),
              f"{path}: the disk has {str(have.get(path))[:120]}, the model {str(want.get(path))[:120]}")


def run(vm, command, timeout=60):
    """A command's own output, without kernel log lines."""
    out = vm.command_output(command, timeout)
    return "".join(line for line in out.splitlines(True) if not LOG_LINE.match(line))


def check_root_over_nullfs(vm, source, options, super_options=None):
    """mountinfo: nullfs is mount 1, the disk is mounted on it as /, and
    nothing else (the initramfs's tmpfs was unmounted lazily)."""
    super_options = super_options or options
    lines = run(vm, "mountinfo").splitlines()
    check(len(lines) == 2, f"mountinfo lists {len(lines)} mounts, not nullfs and the disk: {lines}", vm)
    check(re.match(r"^1 1 \S+ / / rw - nullfs none rw$", lines[0]), f"mount 1 is not nullfs: {lines[0]}", vm)
    check(re.match(r"^\d+ 1 \S+ / / %s - ext2 %s %s$" % (options, re.escape(source), super_options), lines[1]),
          f"the disk is not mounted {options} on nullfs as /: {lines[1]}", vm)
    check(run(vm, "pwd") == "/\n", "the console does not start in /", vm)
    check(run(vm, "cat /etc/motd") == "the root on a virtio disk\n", "/etc/motd is not the disk's", vm)


@case
def ext2_root_on_virtio_reaches_the_console_every_boot():
    """The regression: root on a virtio disk, booted again and again. Each
    boot must reach the console with the disk as the root."""
    boots = 8
    with tempfile.TemporaryDirectory() as scratch:
        disk, _ = make_disk(scratch)
        for number in range(boots):
            cmdline = "panic=-1 nullfs_rootfs rootwait root=/dev/vda rootfstype=ext2"
            with Machine(cmdline=cmdline, disks=[disk + ",ro"]) as vm:
                try:
                    vm.expect(PROMPT, BOOT_TIMEOUT)
                except Timeout as error:
                    check(False, f"boot {number + 1} of {boots} did not reach the console: {error}")
                check("root: /dev/vda (ext2, read-only) is the root; the initramfs was unmounted" in vm.output,
                      f"boot {number + 1}: the disk did not become the root", vm)
                check_root_over_nullfs(vm, "/dev/vda", "ro")


@case
def ext2_root_on_an_mbr_partition_keeps_what_the_console_writes():
    """root=/dev/vda1 rw rootflags=: create, append, mkdir, symlink, rm,
    rename at the console, then sync and power off; the host checks."""
    with tempfile.TemporaryDirectory() as scratch:
        disk, model = make_disk(scratch, "mbr")
        with open(disk, "rb") as image:
            before_partition = image.read(PART_START * 512)
        cmdline = "panic=-1 nullfs_rootfs rootwait root=/dev/vda1 rootfstype=ext2 rootflags=errors=remount-ro rw"
        with boot(cmdline, disks=[disk]) as vm:
            check_root_over_nullfs(vm, "/dev/vda1", "rw", "rw,errors=remount-ro")
            check("ext2 (vda1): mounted read-write" in vm.command_output("dmesg"), "vda1 not mounted read-write", vm)
            for line, said in (("rmmod ext2", "could not remove 'ext2'"),
                               ("rmmod virtio_blk", "in use by block device vda1")):
                out = run(vm, line)
                check(said in out and "EBUSY" in out, f"{line} under the root: {out}", vm)
            for command in ("write /created.txt made at the console", "write -a /log second line",
                            "write -a /log third line", "mkdir /newdir", "mkdir /newdir/deeper",
                            "write /newdir/deeper/inner deep inside", "ln -s newdir/deeper/inner /inner-link",
                            "rm /remove-me", "mv /hello.txt /newdir/hello.txt", "truncate -s 1000 /big"):
                out = run(vm, command)
                check(out == "", f"'{command}' failed: {out}", vm)
            check(run(vm, "cat /log") == "first line\nsecond line\nthird line\n", "the appends read back wrong", vm)
            check(run(vm, "sync") == "", "sync failed", vm)
            vm.send("poweroff 0")
            check(vm.wait_exit(60) == 0, "poweroff failed", vm)
        # The same changes on the model.
        with open(os.path.join(model, "created.txt"), "w") as out:
            out.write("made at the console\n")
        with open(os.path.join(model, "log"), "a") as out:
            out.write("second line\nthird line\n")
        os.makedirs(os.path.join(model, "newdir", "deeper"))
        with open(os.path.join(model, "newdir", "deeper", "inner"), "w") as out:
            out.write("deep inside\n")
        os.symlink("newdir/deeper/inner", os.path.join(model, "inner-link"))
        os.remove(os.path.join(model, "remove-me"))
        os.rename(os.path.join(model, "hello.txt"), os.path.join(model, "newdir", "hello.txt"))
        os.truncate(os.path.join(model, "big"), 1000)
        with open(disk, "rb") as image:
            check(image.read(PART_START * 512) == before_partition, "the disk changed before its partition")
        judge(filesystem_of(disk, scratch, True), model, scratch)


@case
def ext2_root_by_label_and_uuid_on_gpt():
    """root=LABEL= (read-only by default; without nullfs_rootfs the disk is
    entered with chroot over the initramfs) and root=UUID= (any case) with
    rw and rootwait=SECONDS on a GPT partition."""
    with tempfile.TemporaryDirectory() as scratch:
        disk, model = make_disk(scratch, "gpt")
        with boot(f"panic=-1 root=LABEL={LABEL} rootwait", disks=[disk]) as vm:
            check("root: /dev/vda1 (ext2, read-only) is the root, entered with chroot" in vm.command_output("dmesg"),
                  "LABEL= did not find the GPT partition", vm)
            mounts = run(vm, "mounts")
            on_root = re.search(r"^/dev/vda1 /root ext2 ro ", mounts, re.M)
            check(re.search(r"^rootfs / tmpfs ", mounts, re.M) and on_root,
                  f"the mount table is not the initramfs with the disk on /root: {mounts}", vm)
            check(run(vm, "cat /hello.txt") == "hello from the host\n", "the console is not in the disk's root", vm)
            out = run(vm, "write /refused nothing")
            check("EROFS" in out, f"a read-only root took a write: {out}", vm)
        with boot(f"panic=-1 nullfs_rootfs root=UUID={UUID.upper()} rootwait=30 ro rw", disks=[disk]) as vm:
            check_root_over_nullfs(vm, "/dev/vda1", "ro")  # ro wins over rw
        with boot(f"panic=-1 nullfs_rootfs root=UUID={UUID} rootwait=30 rw", disks=[disk]) as vm:
            check_root_over_nullfs(vm, "/dev/vda1", "rw")
            check(run(vm, "write /by-uuid found by its UUID") == "", "cannot write to the root", vm)
            check(run(vm, "sync") == "", "sync failed", vm)
            vm.send("poweroff 0")
            check(vm.wait_exit(60) == 0, "poweroff failed", vm)
        with open(os.path.join(model, "by-uuid"), "w") as out:
            out.write("found by its UUID\n")
        judge(filesystem_of(disk, scratch, True), model, scratch)


def check_initramfs_stays(vm, said):
    log = vm.command_output("dmesg")
    for line in said:
        check(line in log, f"the log does not say '{line}'", vm)
    mounts = run(vm, "mounts")
    check(re.search(r"^rootfs / tmpfs ", mounts, re.M) and "ext2" not in mounts,
          f"the initramfs is not the root: {mounts}", vm)
    check("lib" in run(vm, "ls /"), "the console is not in the initramfs", vm)


@case
def ext2_root_missing_or_unmountable_is_reported():
    """A root= that names no device (by name or label), not waited for or
    waited for rootwait=SECONDS, or a disk that holds no filesystem: the
    log says so, naming the device, and the console starts in the
    initramfs."""
    with tempfile.TemporaryDirectory() as scratch:
        disk, _ = make_disk(scratch)
        devices = "root: block devices: vda"
        for option, said in (("root=/dev/vdz", ["root: no device /dev/vdz; the initramfs stays the root"]),
                             ("root=LABEL=nope", ["root: no device LABEL=nope; the initramfs stays the root"]),
                             ("rootwait=abc root=/dev/vdz", ["cmdline: rootwait=abc: expects an unsigned integer",
                                                             "root: no device /dev/vdz; the initramfs stays"])):
            with boot("panic=-1 nullfs_rootfs " + option, disks=[disk]) as vm:
                check_initramfs_stays(vm, said + [devices])
        with boot("panic=-1 nullfs_rootfs rootwait=2 root=/dev/vdz", disks=[disk]) as vm:
            check_initramfs_stays(vm, ["root: no device /dev/vdz after waiting 2 s (rootwait=2)", devices])
            log = vm.command_output("dmesg")
            began = re.search(r"^\[\s*(\d+\.\d+)\] root: waiting up to 2 s for /dev/vdz", log, re.M)
            ended = re.search(r"^\[\s*(\d+\.\d+)\] root: no device /dev/vdz after", log, re.M)
            check(began and ended, f"the wait is not logged: {log[-1500:]}", vm)
            waited = float(ended.group(1)) - float(began.group(1))
            check(2.0 <= waited < 10.0, f"rootwait=2 waited {waited:.3f} s", vm)
        blank = os.path.join(scratch, "blank.img")
        with open(blank, "wb") as image:
            image.truncate(FS_KIB * 1024)
        with boot("panic=-1 nullfs_rootfs root=/dev/vda rootfstype=ext2", disks=[blank]) as vm:
            check_initramfs_stays(vm, ["root: cannot mount /dev/vda (ext2) on /root"])
