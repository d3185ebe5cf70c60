// The boot flow of the root filesystem (docs/vfs.md):
//
//   load the early filesystem modules from the initramfs (nullfs, tmpfs)
//   -> nullfs_rootfs (or the nullfs_root_always build option): nullfs is
//      mount 1 at "/", a tmpfs mount 2 on top of it; otherwise the tmpfs
//      is the root mount
//   -> unpack the initramfs into "/" -> free the initramfs memory
//
// Problems (a module that does not load, a malformed archive) are logged
// and the boot goes on to the console.
#pragma once

#include "boot/boot_info.h"

namespace keel {

void mount_root_filesystem(const BootInfo& boot);

} // namespace keel
