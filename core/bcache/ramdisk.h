// RAM disks: block devices in memory ("ram0"), for boot tests and tools
// before there are real disks, and for host tests of the cache and of
// filesystems. Requests complete inside submit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bcache/block_device.h"

namespace keel {

inline constexpr uint32_t kRamdiskSectorSize = 512;

// A zeroed disk of `bytes` (rounded up to whole sectors). EINVAL (name,
// size 0), EEXIST, ENOMEM.
Result<BlockDevice*> ramdisk_create(const char* name, uint64_t bytes, bool read_only, Diagnostic* diagnostic = nullptr);
// Its sectors, to fill it before anyone opens it or to inspect it.
uint8_t* ramdisk_data(BlockDevice& device);
// The RAM disk called `name`, or null.
BlockDevice* ramdisk_find(const char* name);
// ENOENT (not a RAM disk), EBUSY (open).
Result<void> ramdisk_destroy(const char* name);

} // namespace keel
