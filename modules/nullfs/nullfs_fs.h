/* nullfs: the filesystem (nullfs_fs.c), apart from the module glue (nullfs.c). */
#ifndef KEEL_NULLFS_FS_H
#define KEEL_NULLFS_FS_H

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const keel_fs_type_ops nullfs_type_ops;

#ifdef __cplusplus
}
#endif

#endif
