// The real root from a disk (root=, rootfstype=, rootflags=, ro/rw,
// rootwait), and RAM disks made from initramfs files before it
// (ramdisk=NAME:PATH). docs/kernel-parameters.md, docs/ext2.md.
#pragma once

namespace keel {

// What an init does: RAM disks first, then, with root=, the disk mounted
// on /root, made the root with pivot_root(".", ".") and the old root
// unmounted lazily (with nullfs_rootfs), or entered with chroot (without
// it, the root tmpfs cannot be pivoted away). Failures are logged; the
// initramfs stays the root.
void mount_real_root();

} // namespace keel
