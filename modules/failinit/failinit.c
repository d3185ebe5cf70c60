/* failinit: keel_module_init fails after the module has done work the
 * loader must undo: C static data initialised, a symbol reference taken
 * on another module (keel_symbol_get), optionally a filesystem type or a
 * socket family registered. The load must leave nothing behind: no
 * registry entry, no mapping, no pages, no reference, no filesystem type,
 * no socket family. With heap_tables=1 it first tries to register both
 * from copies on its heap, which the core refuses. */
#include <keel/module.h>

KEEL_MODULE_NAME("failinit");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Fails its init on purpose");
KEEL_MODULE_PARAM(int, error, -KEEL_ENODEV, "the negative errno init returns (default -ENODEV)");
KEEL_MODULE_PARAM(bool, register_fs, 0, "register a filesystem type first and leave it registered");
KEEL_MODULE_PARAM(bool, register_family, 0, "register a socket family (AF_INET datagrams) and leave it registered");
KEEL_MODULE_PARAM(bool, heap_tables, 0, "try to register both from copies on the heap (refused)");

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

/* A socket family whose table lives in this module, for AF_INET datagrams
 * (udp's pair: with it left registered, udp could not load). Every
 * operation refuses. */
static int32_t failnet_create(keel_socket* socket, void** state)
{
    (void)socket, (void)state;
    return -KEEL_ENOTSUP;
}
static void failnet_release(void* state) { (void)state; }
static int32_t failnet_address(void* state, const keel_sockaddr* address)
{
    (void)state, (void)address;
    return -KEEL_ENOTSUP;
}
static int32_t failnet_listen(void* state, uint32_t backlog)
{
    (void)state, (void)backlog;
    return -KEEL_ENOTSUP;
}
static int32_t failnet_accept(void* state, keel_socket* child, void** child_state)
{
    (void)state, (void)child, (void)child_state;
    return -KEEL_ENOTSUP;
}
static int64_t failnet_send(void* state, const void* bytes, size_t length, const keel_sockaddr* to)
{
    (void)state, (void)bytes, (void)length, (void)to;
    return -KEEL_ENOTSUP;
}
static int64_t failnet_receive(void* state, void* buffer, size_t capacity, keel_sockaddr* from)
{
    (void)state, (void)buffer, (void)capacity, (void)from;
    return -KEEL_ENOTSUP;
}
static uint32_t failnet_poll(void* state)
{
    (void)state;
    return 0;
}
static int32_t failnet_error(void* state)
{
    (void)state;
    return 0;
}
static int32_t failnet_shutdown(void* state, uint32_t how)
{
    (void)state, (void)how;
    return -KEEL_ENOTSUP;
}
static int32_t failnet_info(void* state, keel_socket_info* info)
{
    (void)state, (void)info;
    return -KEEL_ENOTSUP;
}
static void failnet_connections(keel_socket_info_visit_fn visit, void* context) { (void)visit, (void)context; }

static const keel_socket_family_ops failnet_ops = {
    .size = sizeof(keel_socket_family_ops),
    .version = KEEL_SOCKET_FAMILY_OPS_VERSION,
    .family = KEEL_AF_INET,
    .type = KEEL_SOCK_DGRAM,
    .name = "failnet",
    .create = failnet_create,
    .release = failnet_release,
    .bind = failnet_address,
    .connect = failnet_address,
    .listen = failnet_listen,
    .accept = failnet_accept,
    .send = failnet_send,
    .receive = failnet_receive,
    .poll = failnet_poll,
    .error = failnet_error,
    .shutdown = failnet_shutdown,
    .info = failnet_info,
    .connections = failnet_connections,
};

/* A copy of `size` bytes of `table` on the heap. */
static void* heap_copy(const void* table, size_t size)
{
    unsigned char* copy = keel_alloc(size);
    for (size_t i = 0; copy && i < size; i++)
        copy[i] = ((const unsigned char*)table)[i];
    return copy;
}

/* Tables outside the module's image would be no module's: the core
 * refuses them (EINVAL) rather than call into them after the module went. */
static void register_from_heap(void)
{
    keel_fs_type_ops* fs = heap_copy(&failfs_ops, sizeof(failfs_ops));
    keel_socket_family_ops* family = heap_copy(&failnet_ops, sizeof(failnet_ops));
    int32_t fs_status = fs ? keel_register_filesystem(fs) : -KEEL_ENOMEM;
    int32_t family_status = family ? keel_socket_family_register(family) : -KEEL_ENOMEM;
    keel_logf(
        KEEL_LOG_INFO, "failinit: tables on the heap: filesystem type %d, socket family %d", fs_status, family_status);
    if (fs_status == 0)
        keel_unregister_filesystem(fs);
    if (family_status == 0)
        keel_socket_family_unregister(family);
    keel_free(fs);
    keel_free(family);
}

static int failinit_init(void)
{
    /* A reference on provider (if loaded): the loader drops it when the
     * load fails, as it would at rmmod. */
    void* add = keel_symbol_get("provider_add", "KABI_PROVIDER_1.0");
    if (keel_param_register_fs && keel_register_filesystem(&failfs_ops) != 0)
        return -KEEL_EINVAL;
    if (keel_param_register_family && keel_socket_family_register(&failnet_ops) != 0)
        return -KEEL_EINVAL;
    if (keel_param_heap_tables)
        register_from_heap();
    keel_logf(KEEL_LOG_INFO, "failinit: provider_add %s; failing with %lld", add ? "referenced" : "not loaded",
        (long long)keel_param_error);
    return (int)keel_param_error;
}

KEEL_MODULE_INIT(failinit_init);
