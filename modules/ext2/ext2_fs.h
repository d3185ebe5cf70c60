/*
 * ext2: the filesystem (super.c, alloc.c, inode.c, dir.c, file.c, ops.c),
 * separate from the module glue (ext2.c) so that host tests build it
 * against the VFS core and the block cache unchanged.
 */
#ifndef KEEL_EXT2_FS_H
#define KEEL_EXT2_FS_H

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The table keel_register_filesystem gets. */
extern const keel_fs_type_ops ext2_type_ops;

/* In-memory inodes alive in every ext2 superblock (tests). */
uint64_t ext2_nodes_in_use(void);

#ifdef __cplusplus
}
#endif

#endif
