/* tmpfs: the module around tmpfs_fs.c; registers the filesystem type. */
#include <keel/module.h>

#include "tmpfs_fs.h"

KEEL_MODULE_NAME("tmpfs");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("Memory filesystem: sparse files, directories, symlinks, hard links, size and inode limits");
KEEL_MODULE_VERSION("1.0");

static int tmpfs_init(void) { return keel_register_filesystem(&tmpfs_type_ops); }

static void tmpfs_exit(void)
{
    /* The loader unloads only when nothing is mounted, so this succeeds. */
    keel_unregister_filesystem(&tmpfs_type_ops);
}

KEEL_MODULE_INIT(tmpfs_init);
KEEL_MODULE_EXIT(tmpfs_exit);
