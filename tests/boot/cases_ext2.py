"""ext2 in the kernel: the signed module loads under enforcement, mounts an
image the host made (carried in the initramfs onto a RAM disk), files are
written at the console and synced, and the disk comes back out over the
console (ramdisk dump) for e2fsck -fn and debugfs to judge. Images ext2
must refuse or distrust are met in the same boot; the kernel keeps
running."""

import os
import re
import struct
import subprocess
import tempfile

from keel.machine import INITRAMFS
from harness import boot, case, check
from cases_vfs import newc_archive

IMAGE_KIB = 1024
LOG_LINE = re.compile(r"^\[\s*\d+\.\d+\] ")


def make_image(path, tree, options):
    with open(path, "wb") as image:
        image.truncate(IMAGE_KIB * 1024)
    subprocess.run(["mke2fs", "-q", "-F"] + options + ["-d", tree, path, "%dk" % IMAGE_KIB],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def debugfs(path, request, writable=False):
    return subprocess.run(["debugfs"] + (["-w"] if writable else []) + ["-R", request, path],
                          capture_output=True, text=True).stdout


def corrupt_directory(path):
    """The third entry of /dir's first block gets a rec_len of 3."""
    block = int(debugfs(path, "bmap /dir 0").split()[-1])
    with open(path, "r+b") as image:
        image.seek(block * 1024 + 24 + 4)
        image.write(struct.pack("<H", 3))


def make_archive(scratch):
    """The default initramfs followed by one holding the test images."""
    tree = os.path.join(scratch, "tree")
    os.makedirs(os.path.join(tree, "dir"))
    with open(os.path.join(tree, "hello.txt"), "w") as out:
        out.write("hello from the host\n")
    with open(os.path.join(tree, "remove-me"), "w") as out:
        out.write("soon gone\n")
    with open(os.path.join(tree, "big"), "wb") as out:
        out.write(bytes(range(256)) * 400)
    for i in range(5):
        with open(os.path.join(tree, "dir", "file-%d" % i), "w") as out:
            out.write("file %d\n" % i)
    images = {}
    for name, options in (("disk.img", ["-t", "ext2", "-b", "1024", "-L", "keel-root"]),
                          ("ext4.img", ["-t", "ext4", "-O", "^has_journal"]),
                          ("bad.img", ["-t", "ext2", "-b", "1024"])):
        path = os.path.join(scratch, name)
        make_image(path, tree, options)
        images[name] = path
    corrupt_directory(images["bad.img"])
    entries = []
    for number, (name, path) in enumerate(images.items()):
        with open(path, "rb") as image:
            data = image.read()
        entries.append(([900 + number, 0o100644, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], name.encode(), data))
    entries.append(([0] * 13, b"TRAILER!!!", b""))
    archive = os.path.join(scratch, "initramfs.cpio")
    with open(INITRAMFS, "rb") as default, open(archive, "wb") as out:
        out.write(default.read())
        out.write(newc_archive(entries, magic=b"070701"))
    return archive


def undump(text, path):
    """Rebuilds a disk from `ramdisk dump` output."""
    end = re.search(r"^end (\d+)$", text, re.M)
    check(end, "ramdisk dump printed no end line:\n" + text[-1000:])
    data = bytearray(int(end.group(1)))
    for offset, hexdata in re.findall(r"^([0-9a-f]+) ([0-9a-f]{128})$", text, re.M):
        start = int(offset, 16)
        data[start:start + 64] = bytes.fromhex(hexdata)
    with open(path, "wb") as out:
        out.write(data)


@case
def ext2_module_writes_what_e2fsck_accepts():
    with tempfile.TemporaryDirectory() as scratch:
        archive = make_archive(scratch)
        with boot("panic=-1 module.sig_enforce=1", initrd=archive, memory="256M") as vm:
            def run(command, timeout=60):
                """A command's own output, without kernel log lines."""
                out = vm.command_output(command, timeout)
                return "".join(line for line in out.splitlines(True) if not LOG_LINE.match(line))

            out = run("insmod /lib/modules/ext2.kmod")
            check("ERROR" not in out and "ext2" in run("lsmod"), f"ext2.kmod did not load signed: {out}", vm)
            check(run("ramdisk create ram0 /disk.img") == "", "no RAM disk from /disk.img", vm)
            run("mkdir /mnt")
            out = run("mount -t ext2 /dev/ram0 /mnt")
            check(out == "", f"mount failed: {out}", vm)
            check(run("cat /mnt/hello.txt") == "hello from the host\n", "hello.txt reads wrong", vm)
            for command in ("write /mnt/written.txt from keel", "mkdir /mnt/newdir",
                            "write /mnt/newdir/inner deep inside", "ln -s written.txt /mnt/link",
                            "ln /mnt/written.txt /mnt/newdir/second-name", "mv /mnt/hello.txt /mnt/newdir/hello",
                            "rm /mnt/remove-me", "fill /mnt/zeros 300K", "chmod 600 /mnt/written.txt",
                            "truncate -s 1000 /mnt/big", "rm /mnt/dir/file-2"):
                out = run(command)
                quiet = out == "" or out == "fill: /mnt/zeros: 307200 of 307200 bytes\n"
                check(quiet, f"'{command}' failed: {out}", vm)
            df = run("df /mnt")
            check(re.search(r"ram0\s+ext2\s+\d+", df), f"df shows no ext2: {df}", vm)
            out = run("rmmod ext2")
            check("could not remove 'ext2'" in out and "EBUSY" in out, f"rmmod ext2 while mounted: {out}", vm)
            check(run("sync") == "", "sync failed", vm)
            dump = run("ramdisk dump ram0", timeout=120)

            # Disks ext2 must refuse or distrust.
            check(run("ramdisk create ram1 /ext4.img") == "", "no RAM disk from /ext4.img", vm)
            run("mkdir /other")
            out = run("mount -t ext2 /dev/ram1 /other")
            check("EINVAL" in out, f"an ext4 image was mounted: {out}", vm)
            dmesg = vm.command_output("dmesg")
            check("unsupported incompatible features: extent, 64bit, flex_bg" in dmesg,
                  "the refusal does not name the features", vm)
            check(run("ramdisk create ram2 /bad.img") == "", "no RAM disk from /bad.img", vm)
            check(run("mount -t ext2 -o errors=remount-ro /dev/ram2 /other") == "", "bad.img did not mount", vm)
            out = run("ls /other/dir")
            check("EUCLEAN" in out, f"a corrupt directory listed without complaint: {out}", vm)
            dmesg = vm.command_output("dmesg")
            check(re.search(r"ext2 \(ram2\): inode \d+: directory block 0: entry at offset 24: rec_len 3", dmesg)
                  and "remounting read-only (errors=remount-ro)" in dmesg, "the corruption was not reported", vm)
            out = run("write /other/new text")
            check("EROFS" in out, f"written after errors=remount-ro: {out}", vm)
            check(run("cat /mnt/newdir/inner") == "deep inside\n", "the good disk stopped working", vm)
            for target in ("/other", "/mnt"):
                check(run("umount " + target) == "", f"umount {target} failed", vm)
            check(run("rmmod ext2") == "", "rmmod ext2 after unmounting failed", vm)
            vm.send("poweroff")
            check(vm.wait_exit(60) == 0, "poweroff failed", vm)

        # The host judges the disk as it was after sync, still mounted.
        image = os.path.join(scratch, "after.img")
        undump(dump, image)
        fsck = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
        check(fsck.returncode == 0, "e2fsck -fn found errors:\n" + fsck.stdout + fsck.stderr)
        check(debugfs(image, "cat /written.txt") == "from keel\n", "debugfs reads written.txt wrong")
        check(debugfs(image, "cat /newdir/inner") == "deep inside\n", "debugfs reads newdir/inner wrong")
        check(debugfs(image, "cat /newdir/hello") == "hello from the host\n", "the moved file reads wrong")
        check(debugfs(image, "stat /link").find("Fast link dest: \"written.txt\"") >= 0, "the symlink is wrong")
        listing = debugfs(image, "ls -l /")
        check("remove-me" not in listing and "zeros" in listing, "the root lists wrong:\n" + listing)
        check("307200" in debugfs(image, "stat /zeros"), "zeros has the wrong size")
        check("Links: 2" in debugfs(image, "stat /written.txt"), "the hard link is not counted")
        check(re.search(r"Mode:\s+0600", debugfs(image, "stat /written.txt")), "chmod did not reach the disk")
        check("Size: 1000" in debugfs(image, "stat /big"), "truncate did not reach the disk")


@case
def ext2_root_from_a_disk():
    """root=LABEL= on a RAM disk made from an initramfs file: ext2 loads
    from the initramfs, the disk becomes the root by pivot_root(".", ".")
    over nullfs and a lazy unmount, and the console starts in it."""
    with tempfile.TemporaryDirectory() as scratch:
        archive = make_archive(scratch)
        cmdline = ("panic=-1 module.sig_enforce=1 nullfs_rootfs ramdisk=ram0:/disk.img root=LABEL=keel-root "
                   "rootfstype=ext2 rootflags=errors=remount-ro rw")
        with boot(cmdline, initrd=archive, memory="256M") as vm:
            mounts = vm.command_output("mounts")
            check(re.search(r"^none / nullfs ", mounts, re.M) and re.search(r"^/dev/ram0 / ext2 rw", mounts, re.M)
                  and "tmpfs" not in mounts, f"the mount table is not nullfs then ext2 as /: {mounts}", vm)
            check(vm.command_output("cat /hello.txt") == "hello from the host\n", "/hello.txt is not the disk's", vm)
            check(vm.command_output("pwd") == "/\n", "the console does not start in /", vm)
            # lsblk -f says what blkid says of the same image.
            blkid = subprocess.run(["/usr/sbin/blkid", "-p", "-o", "export", os.path.join(scratch, "disk.img")],
                                   capture_output=True, text=True).stdout
            fields = dict(line.split("=", 1) for line in blkid.splitlines() if "=" in line)
            listed = vm.command_output("lsblk -f")
            check(re.search(r"^ram0 +%s +%s +%s$" % (fields["TYPE"], fields["LABEL"], fields["UUID"]), listed, re.M),
                  f"lsblk -f differs from blkid ({fields}):\n{listed}", vm)
            out = vm.command_output("rmmod ext2")
            check("could not remove 'ext2'" in out, f"rmmod ext2 under the root: {out}", vm)
            check(vm.command_output("write /note written in the root") == "", "cannot write to the root", vm)
            check(vm.command_output("sync") == "", "sync failed", vm)
            dump = vm.command_output("ramdisk dump ram0", timeout=120)
        image = os.path.join(scratch, "root.img")
        undump(dump, image)
        fsck = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
        check(fsck.returncode == 0, "e2fsck -fn found errors:\n" + fsck.stdout + fsck.stderr)
        check(debugfs(image, "cat /note") == "written in the root\n", "debugfs reads /note wrong")
