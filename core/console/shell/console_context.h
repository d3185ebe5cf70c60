// The console's own process context: its working directory, root and
// mount namespace, which the file and mount commands use (cd in one
// command is seen by the next, unshare -m gives the console a private
// mount tree).
#pragma once

#include "lib/base/errno.h"
#include "vfs/vfs.h"

namespace keel {

// nullptr when there is no root filesystem.
VfsContext* console_vfs_context();
// Drops the console's context: the next command clones the kernel's
// afresh. For tests that take the VFS down and build it again.
void console_vfs_context_reset();

// strerror(): "No such file or directory" for ENOENT.
const char* vfs_error_text(Error error);
// Prints "COMMAND: WHAT 'PATH': TEXT (ENAME)" and returns 1.
int console_vfs_failure(const char* command, const char* what, const char* path, Error error);
// The console context, or a message and nullptr.
VfsContext* console_vfs_context_or_complain(const char* command);

// SIZE as coreutils reads it: a number with an optional K, M, G, T
// (powers of 1024, also KiB...) or KB, MB, GB, TB (powers of 1000).
bool parse_console_size(const char* text, uint64_t& size);

} // namespace keel
