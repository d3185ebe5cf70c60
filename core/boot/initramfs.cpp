#include "boot/initramfs.h"

namespace keel {

namespace {

InitramfsImage g_image { nullptr, 0 };

} // namespace

void set_initramfs_image(InitramfsImage image) { g_image = image; }

InitramfsImage initramfs_image() { return g_image; }

} // namespace keel
