/* nullfs: the module around nullfs_fs.c; registers the filesystem type. */
#include <keel/module.h>

#include "nullfs_fs.h"

KEEL_MODULE_NAME("nullfs");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("The immutable, permanently empty root filesystem");
KEEL_MODULE_VERSION("1.0");

static int nullfs_init(void) { return keel_register_filesystem(&nullfs_type_ops); }

static void nullfs_exit(void) { keel_unregister_filesystem(&nullfs_type_ops); }

KEEL_MODULE_INIT(nullfs_init);
KEEL_MODULE_EXIT(nullfs_exit);
