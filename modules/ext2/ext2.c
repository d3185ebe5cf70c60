/* ext2: the module around the filesystem; registers the type. */
#include <keel/module.h>

#include "ext2_fs.h"

KEEL_MODULE_NAME("ext2");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("The second extended filesystem, read-write, on a block device through the block cache");
KEEL_MODULE_VERSION("1.0");

static int ext2_init(void) { return keel_register_filesystem(&ext2_type_ops); }

static void ext2_exit(void)
{
    /* The loader unloads only when nothing is mounted, so this succeeds. */
    keel_unregister_filesystem(&ext2_type_ops);
}

KEEL_MODULE_INIT(ext2_init);
KEEL_MODULE_EXIT(ext2_exit);
