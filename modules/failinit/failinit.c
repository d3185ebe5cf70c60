/* failinit: keel_module_init fails after the module has done work the
 * loader must undo: C static data initialised, a symbol reference taken
 * on another module (keel_symbol_get), optionally a filesystem type
 * registered. The load must leave nothing behind: no registry entry, no
 * mapping, no pages, no reference, no filesystem type. */
#include <keel/module.h>

KEEL_MODULE_NAME("failinit");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Fails its init on purpose");
KEEL_MODULE_PARAM(int, error, -KEEL_ENODEV, "the negative errno init returns (default -ENODEV)");
KEEL_MODULE_PARAM(bool, register_fs, 0, "register a filesystem type first and leave it registered");

/* A filesystem type whose table lives in this module: left registered by
 * the failing init, the loader must drop it before the module's memory is
 * freed. It is never mounted; the operations only refuse. */
static int32_t failfs_mount(const char* source, uint32_t flags, const char* data, void** super_out, void** root_out)
{
    (void)source, (void)flags, (void)data, (void)super_out, (void)root_out;
    return -KEEL_ENODEV;
}
static void failfs_kill_super(void* super) { (void)super; }
static int32_t failfs_lookup(void* super, void* dir, const char* name, size_t name_length, void** node_out)
{
    (void)super, (void)dir, (void)name, (void)name_length, (void)node_out;
    return -KEEL_ENOENT;
}
static void failfs_put_node(void* super, void* node) { (void)super, (void)node; }
static int32_t failfs_getattr(void* super, void* node, keel_vfs_attr* out)
{
    (void)super, (void)node, (void)out;
    return -KEEL_EIO;
}

static const keel_fs_type_ops failfs_ops = {
    .size = sizeof(keel_fs_type_ops),
    .version = KEEL_FS_TYPE_OPS_VERSION,
    .name = "failfs",
    .mount = failfs_mount,
    .kill_super = failfs_kill_super,
    .lookup = failfs_lookup,
    .put_node = failfs_put_node,
    .getattr = failfs_getattr,
};

static int failinit_init(void)
{
    /* A reference on provider (if loaded): the loader drops it when the
     * load fails, as it would at rmmod. */
    void* add = keel_symbol_get("provider_add", "KABI_PROVIDER_1.0");
    if (keel_param_register_fs && keel_register_filesystem(&failfs_ops) != 0)
        return -KEEL_EINVAL;
    keel_logf(KEEL_LOG_INFO, "failinit: provider_add %s; failing with %lld", add ? "referenced" : "not loaded",
        (long long)keel_param_error);
    return (int)keel_param_error;
}

KEEL_MODULE_INIT(failinit_init);
