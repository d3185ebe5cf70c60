// The initramfs the boot loader handed over, in memory (cpio newc). Early
// modules are read straight out of it before any filesystem exists.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

struct InitramfsImage {
    const uint8_t* data; // nullptr when there is none
    size_t size;
};

void set_initramfs_image(InitramfsImage image);
InitramfsImage initramfs_image();

} // namespace keel
