// The initramfs unpacker: a cpio newc / newc-with-CRC archive (several
// concatenated, hard links included) extracted into a directory through
// the VFS, as Linux's init/initramfs.c does. The archive is read with the
// validating CpioReader: a malformed archive stops the unpacking with a
// message naming the entry, its offset, the field and the value; what was
// unpacked before stays. An entry the VFS refuses (say, a file in a
// directory the archive never created) is reported and skipped, as Linux
// skips it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "vfs/vfs.h"

namespace keel {

struct UnpackReport {
    size_t entries; // archive entries seen, trailers excluded
    size_t directories;
    size_t files;
    size_t symlinks;
    size_t hard_links;
    size_t special; // devices, fifos, sockets
    size_t skipped; // refused by the VFS (reported through `skip`)
    uint64_t bytes; // file data written
    size_t archives;
};

struct UnpackOptions {
    // Told about every skipped entry, e.g. `entry 4 ("a/b"): cannot create: ENOENT`.
    void (*skip)(void* context, const char* message) = nullptr;
    void* skip_context = nullptr;
    // Distinct hard-linked inodes per archive the link table holds.
    size_t link_table_slots = 1024;
};

// Fails with the reader's error (EINVAL, EBADMSG, ENOTSUP, ENOSPC) and
// `diagnostic` describing it; `report` counts what was done either way.
Result<void> unpack_cpio(VfsContext& context, const char* destination, const void* data, size_t size,
    const UnpackOptions& options, UnpackReport& report, Diagnostic& diagnostic);

} // namespace keel
