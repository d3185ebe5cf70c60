"""VFS scenarios: nullfs as the immutable root with a tmpfs on top, the
init idiom (pivot_root . . and a lazy umount), tmpfs limits and memory,
busy and lazy unmounts, module pinning, and malformed initramfs images."""

import os
import re
import subprocess
import tempfile

from keel.machine import BUILD, INITRAMFS, ROOT
from cases_devices import wait_log
from harness import ALL_ARCHES, TEST_INITRAMFS, boot, case, check, free_pages


def out_of(vm, command, timeout=60):
    return vm.command_output(command, timeout)


def mountinfo(vm):
    """[(id, parent, mountpoint, fstype, source)] from the mountinfo command."""
    lines = []
    for line in out_of(vm, "mountinfo").splitlines():
        match = re.match(r"^(\d+) (\d+) \S+ \S+ (\S+) \S+ - (\S+) (\S+)", line)
        if match:
            lines.append((int(match.group(1)), int(match.group(2)), match.group(3), match.group(4), match.group(5)))
    return lines


def prepare_new_root(vm):
    for command in ("mkdir /newroot", "mount -t tmpfs -o size=2m newroot /newroot", "write /newroot/marker new root",
                    "mkdir /newroot/initramfs"):
        out = out_of(vm, command)
        check(out.strip() == "", f"{command}: {out}", vm)


@case(arches=ALL_ARCHES)
def vfs_nullfs_root_and_the_init_idiom():
    with boot("panic=-1 nullfs_rootfs") as vm:
        mounts = mountinfo(vm)
        check(mounts[:2] == [(1, 1, "/", "nullfs", "none"), (2, 1, "/", "tmpfs", "rootfs")],
              f"nullfs is not mount 1 with the tmpfs as mount 2 on it: {mounts}", vm)
        check("keel" in out_of(vm, "cat /etc/hostname"), "the initramfs was not unpacked into the tmpfs", vm)
        prepare_new_root(vm)
        before = free_pages(vm)
        check(out_of(vm, "cd /newroot").strip() == "", "cd /newroot failed", vm)
        out = out_of(vm, "pivot_root . .")
        check(out.strip() == "", f"pivot_root . . failed: {out}", vm)
        out = out_of(vm, "umount -l .")
        check(out.strip() == "", f"umount -l . failed: {out}", vm)
        listing = out_of(vm, "ls /")
        check("marker" in listing and "etc" not in listing, f"/ is not the new root: {listing}", vm)
        check("new root" in out_of(vm, "cat /marker"), "the new root's file is not readable", vm)
        check(out_of(vm, "pwd").strip() == "/", "the working directory is not /", vm)
        mounts = mountinfo(vm)
        check([m[3:] for m in mounts] == [("nullfs", "none"), ("tmpfs", "newroot")],
              f"after the lazy umount the old root is still listed: {mounts}", vm)
        after = free_pages(vm)
        # The old root held the unpacked initramfs (modules included).
        check(after - before >= 30, f"the old root's pages were not returned ({before} -> {after} free)", vm)


@case(arches=ALL_ARCHES)
def vfs_pivot_root_keeps_the_initramfs():
    with boot("panic=-1 nullfs_rootfs") as vm:
        prepare_new_root(vm)
        out_of(vm, "cd /newroot")
        out = out_of(vm, "pivot_root . initramfs")
        check(out.strip() == "", f"pivot_root . initramfs failed: {out}", vm)
        check("keel" in out_of(vm, "cat /initramfs/etc/hostname"), "the old root is not at /initramfs", vm)
        check("new root" in out_of(vm, "cat /marker"), "/ is not the new root", vm)
        out = out_of(vm, "mounts")
        check(re.search(r"^rootfs /initramfs tmpfs", out, re.M), f"mounts does not show the old root: {out}", vm)


@case(arches=ALL_ARCHES)
def vfs_pivot_root_on_the_tmpfs_root_fails():
    with boot("panic=-1") as vm:
        mounts = mountinfo(vm)
        check(mounts and mounts[0][3:] == ("tmpfs", "rootfs") and mounts[0][0] == mounts[0][1],
              f"without nullfs_rootfs the tmpfs is not the root mount: {mounts}", vm)
        prepare_new_root(vm)
        out_of(vm, "cd /newroot")
        out = out_of(vm, "pivot_root . .")
        check("Invalid argument (EINVAL)" in out,
              f"pivot_root on the absolute root did not fail with EINVAL: {out}", vm)


def mount_devices(vm):
    """[(id, device, mountpoint, fstype)] from the mountinfo command."""
    return [(int(m.group(1)), m.group(2), m.group(3), m.group(4))
            for m in re.finditer(r"^(\d+) \d+ (\d+:\d+) \S+ (\S+) \S+ - (\S+)", out_of(vm, "mountinfo"), re.M)]


EPERM = "Operation not permitted (EPERM)"


@case(arches=ALL_ARCHES)
def vfs_nullfs_refuses_every_change():
    """Every mutation the console offers, on the root nullfs's superblock
    (mount 1 is under the tmpfs and cannot be named from the console; a
    nullfs mount shares its superblock and root directory, so /n is it)."""
    with boot("panic=-1 nullfs_rootfs") as vm:
        out_of(vm, "mkdir /n")
        check(out_of(vm, "mount -t nullfs none /n").strip() == "", "mounting nullfs failed", vm)
        devices = mount_devices(vm)
        root_dev = next(dev for id_, dev, _, fstype in devices if id_ == 1 and fstype == "nullfs")
        check(any(dev == root_dev and point == "/n" for _, dev, point, fstype in devices if fstype == "nullfs"),
              f"/n is not the root nullfs's superblock: {devices}", vm)
        stat = out_of(vm, "stat /n")
        check(f"Device: {root_dev.split(':')[1]}\t" in stat and "Inode: 1\t" in stat,
              f"stat /n is not the root nullfs's root directory: {stat}", vm)
        refused = {
            "mkdir /n/x": "mkdir: cannot create directory '/n/x': ",
            "mkdir -p /n/x/y": "mkdir: cannot create directory '/n/x/y': ",
            "write /n/f text": "write: cannot open '/n/f': ",
            "ln -s target /n/l": "ln: failed to create link '/n/l': ",
            "ln /n /n/h": "ln: failed to create link '/n/h': ",        # a hard link of its root
            "chmod 0700 /n": "chmod: changing permissions of '/n': ",
            "chown 1:1 /n": "chown: changing ownership of '/n': ",
            "touch /n": "touch: cannot touch '/n': ",                  # setattr of the times
            "touch /n/f": "touch: cannot touch '/n/f': ",              # create
            "truncate -s 0 /n/f": "truncate: cannot open '/n/f': ",    # create
        }
        for command, prefix in refused.items():
            out = out_of(vm, command)
            check(out.strip() == prefix + EPERM, f"{command} on nullfs: {out!r}", vm)
        # nullfs has no names: removing or renaming one finds nothing, as
        # on Linux; its root is a mount point; nothing links in from another
        # mount.
        other = {
            "rm /n/f": "rm: cannot remove '/n/f': No such file or directory (ENOENT)",
            "rmdir /n/x": "rmdir: failed to remove '/n/x': No such file or directory (ENOENT)",
            "mv /n/a /n/b": "mv: cannot move '/n/a': No such file or directory (ENOENT)",
            "rmdir /n": "rmdir: failed to remove '/n': Device or resource busy (EBUSY)",
            "mv /n /n2": "mv: cannot move '/n': Device or resource busy (EBUSY)",
            "ln /etc/hostname /n/h": "ln: failed to create link '/n/h': Invalid cross-device link (EXDEV)",
            "mv /etc/hostname /n/h": "mv: cannot move '/etc/hostname': Invalid cross-device link (EXDEV)",
            "truncate -s 0 /n": "truncate: cannot open '/n': Is a directory (EISDIR)",
        }
        for command, expected in other.items():
            out = out_of(vm, command)
            check(out.strip() == expected, f"{command} on nullfs: {out!r} (expected {expected!r})", vm)
        check(out_of(vm, "ls /n").split() == [".", ".."], "nullfs is not empty", vm)
        check("Access: (0755/drwxr-xr-x)  Uid: 0  Gid: 0" in out_of(vm, "stat /n"), "nullfs's root changed", vm)
        # Mount 1 itself: under the root tmpfs, which cannot go while in use.
        check(out_of(vm, "umount /").strip() == "umount: /: target is busy (EBUSY)", "umount / was not EBUSY", vm)
        check(mount_devices(vm)[0] == (1, root_dev, "/", "nullfs"), "mount 1 is no longer the nullfs", vm)
        out = out_of(vm, "rmmod nullfs")
        check("could not remove 'nullfs'" in out, f"rmmod nullfs while mounted was not refused: {out}", vm)


@case(arches=ALL_ARCHES)
def vfs_nullfs_is_one_instance():
    with boot("panic=-1 nullfs_rootfs") as vm:
        for command in ("mkdir /a /b", "mount -t nullfs none /a", "mount -t nullfs -o ro none /b",
                        "mount -t nullfs none /a"):
            out = out_of(vm, command)
            check(out.strip() == "", f"{command}: {out}", vm)
        nullfs = [(id_, dev, point) for id_, dev, point, fstype in mount_devices(vm) if fstype == "nullfs"]
        check(len(nullfs) == 4 and len({dev for _, dev, _ in nullfs}) == 1 and nullfs[0][0] == 1,
              f"the nullfs mounts do not share mount 1's device: {nullfs}", vm)
        check(re.search(r"^nullfs +1 superblock\(s\)$", out_of(vm, "filesystems"), re.M),
              "filesystems does not count one nullfs superblock", vm)
        check(re.search(r"^none /b nullfs ro 0 0$", out_of(vm, "mounts"), re.M), "/b is not read-only", vm)
        check(re.search(r"^none /a nullfs rw 0 0$", out_of(vm, "mounts"), re.M), "/a is not read-write", vm)
        out = out_of(vm, "mount -t nullfs -o size=1 none /a")
        check("nullfs: takes no mount options, got 'size=1'" in out and "(EINVAL)" in out,
              f"options on a further nullfs mount were not refused: {out}", vm)
        for command in ("umount /a", "umount /a", "umount /b"):
            out = out_of(vm, command)
            check(out.strip() == "", f"{command}: {out}", vm)
        check(re.search(r"^nullfs +1 superblock\(s\)$", out_of(vm, "filesystems"), re.M),
              "the root nullfs's superblock went with the other mounts", vm)
        check([m[3] for m in mount_devices(vm)] == ["nullfs", "tmpfs"], "mounts are left over", vm)


def archive_with_timestamp(timestamp, directory):
    """The default initramfs rebuilt with every entry's mtime set."""
    path = os.path.join(directory, "stamped.cpio")
    subprocess.run([os.path.join(BUILD, "scripts", "tools", "gen_init_cpio"), "-t", str(timestamp), "-o", path,
                    os.path.join(BUILD, "initramfs", "initramfs.spec")],
                   check=True, env=dict(os.environ, KEEL_INITRAMFS_DIR=os.path.join(ROOT, "initramfs")))
    return path


@case(arches=ALL_ARCHES)
def early_module_hard_link_gets_its_data():
    # gen_init_cpio writes `file NAME ... LINK` as NAME with no data and the
    # data with LINK; the kernel once read tmpfs.kmod as 0 bytes and booted
    # without a root filesystem.
    with open(os.path.join(BUILD, "initramfs", "initramfs.spec")) as source:
        lines = source.read().splitlines()
    for module in ("tmpfs", "nullfs"):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"file /lib/modules/{module}.kmod "))
        lines[index] += f" /lib/modules/{module}-link.kmod"
    with tempfile.TemporaryDirectory() as scratch:
        spec, image = os.path.join(scratch, "linked.spec"), os.path.join(scratch, "linked.cpio")
        with open(spec, "w") as out:
            out.write("\n".join(lines) + "\n")
        subprocess.run([os.path.join(BUILD, "scripts", "tools", "gen_init_cpio"), "-o", image, spec], check=True,
                       env=dict(os.environ, KEEL_INITRAMFS_DIR=os.path.join(ROOT, "initramfs")))
        entries = {name: fields for fields, name, payload in newc_entries(open(image, "rb").read())}
        check(entries[b"lib/modules/tmpfs.kmod"][6] == 0, "gen_init_cpio put the data in the first link")
        with boot("panic=-1 nullfs_rootfs", initrd=image) as vm:
            check("vfs: root is tmpfs over nullfs" in vm.output, "the early modules did not load from their links", vm)
            size = os.path.getsize(os.path.join(BUILD, "modules", "tmpfs.kmod"))
            out = out_of(vm, "stat /lib/modules/tmpfs.kmod")
            check(f"Size: {size}" in out and "Links: 2" in out, f"the unpacked link: {out}", vm)
            check("hostname" in out_of(vm, "ls /etc"), "the initramfs was not unpacked", vm)


@case(arches=ALL_ARCHES)
def vfs_unpacked_files_keep_the_archive_mtime():
    stamp = 1700000000
    with tempfile.TemporaryDirectory() as scratch:
        with boot("panic=-1", initrd=archive_with_timestamp(stamp, scratch)) as vm:
            # Directories with entries made in them after them, a file, a
            # symlink (stat does not follow it), a device, a fifo.
            for path in ("/etc", "/lib", "/lib/modules", "/etc/hostname", "/etc/name", "/dev/console", "/run/initctl"):
                out = out_of(vm, f"stat {path}")
                check(f"Modify: {stamp}000000000 ns" in out, f"{path} lost the archive's mtime: {out}", vm)
            check("symbolic link" in out_of(vm, "stat /etc/name"), "stat followed the symlink", vm)
            # Made after boot: the clock's time, not the archive's.
            out_of(vm, "touch /etc/hostname")
            check(f"Modify: {stamp}000000000 ns" not in out_of(vm, "stat /etc/hostname"), "touch did nothing", vm)


@case(arches=ALL_ARCHES)
def vfs_tmpfs_limits_and_memory_returned():
    with boot("panic=-1") as vm:
        out_of(vm, "mkdir /s /i")
        check(out_of(vm, "mount -t tmpfs -o size=16k small /s").strip() == "", "mount size=16k failed", vm)
        baseline = free_pages(vm)
        for number in range(4):
            out = out_of(vm, f"write /s/f{number} page {number}")
            check(out.strip() == "", f"write /s/f{number}: {out}", vm)
        out = out_of(vm, "write /s/f4 one too many")
        check("No space left on device (ENOSPC)" in out, f"the fifth page did not fail with ENOSPC: {out}", vm)
        used = free_pages(vm)
        check(baseline - used >= 4, f"four files did not take four pages ({baseline} -> {used})", vm)
        out_of(vm, "rm /s/f0 /s/f1 /s/f2 /s/f3 /s/f4")
        returned = free_pages(vm)
        check(returned >= baseline - 1, f"rm did not return the pages ({baseline} -> {used} -> {returned})", vm)
        out = out_of(vm, "mount -t tmpfs -o nr_inodes=3,mode=700,uid=5 inodes /i")
        check(out.strip() == "", f"mount nr_inodes=3: {out}", vm)
        out_of(vm, "mkdir /i/a /i/b")
        check("(ENOSPC)" in out_of(vm, "mkdir /i/c"), "nr_inodes=3 allowed a fourth inode", vm)
        check("Access: (0700/drwx------)  Uid: 5" in out_of(vm, "stat /i"), "mode=/uid= not applied", vm)
        out = out_of(vm, "mount -t tmpfs -o size=lots bad /i")
        check("bad value 'lots' for mount option 'size'" in out and "(EINVAL)" in out,
              f"a bad option was not reported with its value: {out}", vm)


@case(arches=ALL_ARCHES)
def vfs_busy_umount_and_lazy_umount():
    with boot("panic=-1") as vm:
        out_of(vm, "mkdir /mnt")
        out_of(vm, "mount -t tmpfs scratch /mnt")
        out_of(vm, "write /mnt/file still readable")
        out_of(vm, "cd /mnt")
        out = out_of(vm, "umount /mnt")
        check("target is busy (EBUSY)" in out, f"umount of the working directory's mount: {out}", vm)
        out = out_of(vm, "umount -l /mnt")
        check(out.strip() == "", f"umount -l failed: {out}", vm)
        check("still readable" in out_of(vm, "cat file"), "the detached tree is not usable from its cwd", vm)
        check("scratch" not in out_of(vm, "mounts"), "the detached mount is still listed", vm)
        out_of(vm, "cd /")
        check(out_of(vm, "ls /mnt").split() == [".", ".."], "/mnt is not the empty directory again", vm)


@case(arches=ALL_ARCHES)
def vfs_rmmod_tmpfs_refused_while_mounted():
    with boot("panic=-1") as vm:
        out = out_of(vm, "rmmod tmpfs")
        check("could not remove 'tmpfs'" in out and "EBUSY" in out, f"rmmod tmpfs was not refused: {out}", vm)
        check("tmpfs" in out_of(vm, "lsmod"), "tmpfs is gone", vm)
        check(out_of(vm, "filesystems").count("superblock") >= 1, "filesystems lists nothing", vm)


def newc_entries(data):
    """(header fields, name, payload) of every entry of a newc archive."""
    entries, offset = [], 0
    while offset + 110 <= len(data) and data[offset:offset + 6] in (b"070701", b"070702"):
        fields = [int(data[offset + 6 + 8 * i:offset + 14 + 8 * i], 16) for i in range(13)]
        name_size, file_size = fields[11], fields[6]
        name = data[offset + 110:offset + 110 + name_size - 1]
        data_start = (offset + 110 + name_size + 3) & ~3
        entries.append((fields, name, data[data_start:data_start + file_size]))
        offset = (data_start + file_size + 3) & ~3
        if name == b"TRAILER!!!":
            break
    return entries


def newc_archive(entries, magic=b"070702", corrupt_check=None, offsets=None):
    out = bytearray()
    for fields, name, payload in entries:
        if offsets is not None:
            offsets.append(len(out))
        fields = list(fields)
        fields[6], fields[11] = len(payload), len(name) + 1
        if magic == b"070702":
            fields[12] = sum(payload) & 0xFFFFFFFF if fields[1] & 0o170000 == 0o100000 else 0
            if name == corrupt_check:
                fields[12] ^= 1
        out += magic + b"".join(b"%08X" % value for value in fields) + name + b"\0"
        out += b"\0" * (-len(out) % 4)
        out += payload
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def boot_with_image(image):
    handle = tempfile.NamedTemporaryFile(suffix=".cpio", delete=False)
    handle.write(image)
    handle.close()
    try:
        return boot("panic=-1", initrd=handle.name), handle.name
    except Exception:
        os.unlink(handle.name)
        raise


@case(arches=ALL_ARCHES)
def vfs_malformed_initramfs_is_reported_and_boot_continues():
    with open(INITRAMFS, "rb") as source:
        original = source.read()
    entries = newc_entries(original)
    check(len(entries) > 5 and entries[-1][1] == b"TRAILER!!!", "cannot parse the default initramfs")
    check(entries[-2][1] == b"lib/modules/tmpfs.kmod", "tmpfs.kmod is not the default archive's last entry")
    middle = len(entries) // 2
    offsets = []
    bad_magic = bytearray(newc_archive(entries, magic=b"070701", offsets=offsets))
    bad_magic[offsets[middle]:offsets[middle] + 6] = b"07070X"
    # Damage after the early modules: one more file, its header broken.
    late_fields = list(entries[-2][0])
    late_entries = entries[:-1] + [(late_fields, b"etc/late", b"late\n"), entries[-1]]
    late_offsets = []
    late = bytearray(newc_archive(late_entries, magic=b"070701", offsets=late_offsets))
    late[late_offsets[-2]:late_offsets[-2] + 6] = b"07070X"
    target = next(name for fields, name, payload in entries if payload and fields[1] & 0o170000 == 0o100000)
    no_root = "ls: no root filesystem (see dmesg)"
    unpacked_root = [".", "..", "dev", "etc", "lib", "run", "tmp"]
    # (image, what the log says, what `ls /` prints): damage before
    # tmpfs.kmod leaves the boot without a root filesystem; damage after it
    # leaves everything before the damage unpacked.
    variants = {
        "bad magic": (bytes(bad_magic), rf"entry {middle + 1} at offset 0x{offsets[middle]:x}: bad magic \"07070X\"",
                      no_root),
        "truncated": (original[:len(original) // 3], r"entry \d+ .*(truncated|exceeds the archive)", no_root),
        "crc": (newc_archive(entries, corrupt_check=target), rf"entry \d+ \(\"{target.decode()}\"\).*checksum mismatch",
                no_root),
        "bad magic after the modules": (
            bytes(late), rf"initramfs: unpacking stopped: entry {len(entries)} at offset 0x{late_offsets[-2]:x}: "
            rf"bad magic \"07070X\".*; {len(entries) - 1} entries before it were unpacked", unpacked_root),
    }
    for what, (image, expected, listing) in variants.items():
        vm, path = boot_with_image(image)
        try:
            with vm:
                check(re.search(expected, vm.output), f"{what}: the boot log does not say '{expected}'", vm)
                if listing != no_root:
                    # Autoload's thread logs its index beside the console:
                    # let it, before reading the commands' output.
                    wait_log(vm, r"autoload: \d+ driver module\(s\) indexed")
                out = out_of(vm, "ls /")
                if listing == no_root:
                    check(re.search(r"lib/modules/tmpfs\.kmod: not found before the initramfs damage", vm.output),
                          f"{what}: the log does not say why tmpfs did not load", vm)
                    check(out.strip() == no_root, f"{what}: ls / printed {out!r}, not {no_root!r}", vm)
                else:
                    check(sorted(out.split()) == sorted(listing), f"{what}: ls / printed {out!r}", vm)
                    check(out_of(vm, "cat /etc/hostname").strip() == "keel", f"{what}: /etc/hostname is wrong", vm)
                    check("No such file or directory (ENOENT)" in out_of(vm, "cat /etc/late"),
                          f"{what}: the damaged entry was unpacked", vm)
        finally:
            os.unlink(path)


@case(arches=ALL_ARCHES)
def initramfs_memory_is_freed_after_unpacking():
    def reserved_pages(vm):
        match = re.search(r"reserved (\d+)", vm.command_output("mem"))
        check(match, "mem printed no reserved count", vm)
        return int(match.group(1))

    with boot(initrd=None) as vm:
        without = reserved_pages(vm)
    with boot() as vm:
        log = vm.command_output("dmesg")
        check(re.search(r"Freeing initrd memory: \d+K", log), "the initramfs memory was not freed", vm)
        # Once unpacked, the archive holds no pages: as many are reserved as
        # when there was no archive at all.
        check(reserved_pages(vm) == without, "pages of the initramfs are still reserved", vm)
        check("hello, world" in vm.command_output("insmod hello"), "insmod through the VFS failed", vm)


@case(arches=ALL_ARCHES)
def vfs_rust_filesystem_registers_mounts_and_unregisters():
    # tests/modules/rustfs.rs: a filesystem type written against keel::fs
    # only (no keel::sys, no unsafe).
    with boot("panic=-1", initrd=TEST_INITRAMFS) as vm:
        check(out_of(vm, "mkdir /rust").strip() == "", "mkdir /rust failed", vm)
        before = free_pages(vm)
        out = out_of(vm, "insmod /lib/test/rustfs.kmod")
        check("filesystem type rustfs registered by rustfs" in out and "rustfs: ready" in out,
              f"insmod rustfs: {out}", vm)
        check(re.search(r"^rustfs +0 superblock\(s\)$", out_of(vm, "filesystems"), re.M),
              "filesystems does not list rustfs", vm)
        out = out_of(vm, "mount -t rustfs -o size=1 none /rust")
        check("rustfs: takes no mount options, got 'size=1'" in out and "EINVAL" in out,
              f"a bad mount option was not refused with EINVAL: {out}", vm)
        out = out_of(vm, "mount -t rustfs none /rust")
        check(out.strip() == "", f"mount -t rustfs: {out}", vm)
        listing = out_of(vm, "ls -l /rust")
        check(re.search(r"^dr-xr-xr-x +2 +0 +0 +0 \.$", listing, re.M)
              and re.search(r"^-r--r--r-- +1 +0 +0 +29 greeting$", listing, re.M)
              and re.search(r"^lrwxrwxrwx +1 +0 +0 +8 link -> greeting$", listing, re.M),
              f"ls -l /rust (readdir, getattr, readlink): {listing}", vm)
        for path in ("/rust/greeting", "/rust/link"):
            out = out_of(vm, "cat " + path)
            check("hello from a Rust filesystem" in out, f"cat {path}: {out}", vm)
        out = out_of(vm, "cat /rust/missing")
        check("No such file or directory (ENOENT)" in out, f"cat /rust/missing: {out}", vm)
        # Mutations are not wrapped by keel::fs: the core refuses them.
        out = out_of(vm, "write /rust/new text")
        check(out.strip() == "write: cannot open '/rust/new': " + EPERM, f"rustfs accepted a new file: {out}", vm)
        out = out_of(vm, "rmmod rustfs")
        check("in use by 1 mount(s) or open socket(s)" in out and "EBUSY" in out,
              f"rmmod rustfs while mounted: {out}", vm)
        check(out_of(vm, "umount /rust").strip() == "", "umount /rust failed", vm)
        out = out_of(vm, "rmmod rustfs")
        check("rustfs: unregistering" in out and "rustfs: unloaded" in out, f"rmmod rustfs: {out}", vm)
        check("rustfs" not in out_of(vm, "filesystems"), "rustfs is still registered after rmmod", vm)
        check(free_pages(vm) == before, f"rustfs left pages behind ({before} -> {free_pages(vm)})", vm)
