// Finding the disk root= names: /dev/NAME or NAME, LABEL=, UUID= (read
// from ext2's superblock, as blkid does).
#pragma once

#include <stddef.h>

namespace keel {

// The registered device `spec` names, written into `name`; false when none
// does (yet).
bool find_root_device(const char* spec, char* name, size_t size);

} // namespace keel
