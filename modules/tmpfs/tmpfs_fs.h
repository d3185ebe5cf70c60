/*
 * tmpfs: the filesystem itself (tmpfs_fs.c), separate from the module glue
 * (tmpfs.c) so that host tests build it against the VFS core unchanged.
 */
#ifndef KEEL_TMPFS_FS_H
#define KEEL_TMPFS_FS_H

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The table keel_register_filesystem gets. */
extern const keel_fs_type_ops tmpfs_type_ops;

/* Bytes of file data and inodes in use by all tmpfs superblocks (tests). */
uint64_t tmpfs_pages_in_use(void);
uint64_t tmpfs_nodes_in_use(void);

#ifdef __cplusplus
}
#endif

#endif
