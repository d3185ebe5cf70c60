// Filesystem types: registration from modules through a versioned ops
// table. The table begins with its size and version; a table from an older
// module is shorter, and what it lacks counts as absent (zero). Every
// field is checked before the type is accepted, since the table comes from
// a module.
#include "lib/base/format.h"
#include "lib/base/name.h"
#include "vfs/internal.h"

namespace keel::vfs {

namespace {

IntrusiveList<FsType, &FsType::node> g_types GUARDED_BY(g_vfs_lock);

// The operations a filesystem cannot do without; the table must be at
// least large enough to hold them.
constexpr size_t kMinimumOpsSize = offsetof(keel_fs_type_ops, getattr) + sizeof(keel_fs_getattr_fn);

bool valid_type_name(const char* name, size_t length) { return is_name(name, length, KEEL_FS_TYPE_NAME_MAX); }

} // namespace

FsType* find_fs_type(const char* name)
{
    if (!name)
        return nullptr;
    for (FsType& type : g_types) {
        if (strcmp(type.name, name) == 0)
            return &type;
    }
    return nullptr;
}

Result<void> validate_fs_type_ops(const keel_fs_type_ops* ops, Diagnostic& diagnostic)
{
    if (!ops) {
        return diagnostic.fail(Error::EINVAL, "ops is NULL");
    }
    if (ops->version == 0 || ops->version > KEEL_FS_TYPE_OPS_VERSION) {
        return diagnostic.fail(
            Error::EINVAL, "version %u is not supported (1..%u)", ops->version, KEEL_FS_TYPE_OPS_VERSION);
    }
    if (ops->size < kMinimumOpsSize || ops->size % sizeof(void*) != 0) {
        return diagnostic.fail(Error::EINVAL, "size %u is too small or misaligned (at least %zu, a multiple of %zu)",
            ops->size, kMinimumOpsSize, sizeof(void*));
    }
    if (!ops->name) {
        return diagnostic.fail(Error::EINVAL, "name is NULL");
    }
    size_t length = strnlen(ops->name, KEEL_FS_TYPE_NAME_MAX + 1);
    if (!valid_type_name(ops->name, length)) {
        return diagnostic.fail(Error::EINVAL, "name \"%.*s\" is not 1 to %zu of [a-z0-9_]", int(length), ops->name,
            size_t(KEEL_FS_TYPE_NAME_MAX));
    }
    if (ops->flags != 0) {
        return diagnostic.fail(Error::EINVAL, "flags 0x%llx: no flags are defined", (unsigned long long)ops->flags);
    }
    const char* missing = !ops->mount ? "mount"
        : !ops->kill_super            ? "kill_super"
        : !ops->lookup                ? "lookup"
        : !ops->put_node              ? "put_node"
        : !ops->getattr               ? "getattr"
                                      : nullptr;
    if (missing) {
        return diagnostic.fail(Error::EINVAL, "required operation %s is NULL", missing);
    }
    return {};
}

} // namespace keel::vfs

namespace keel {

using namespace vfs;

Result<void> vfs_register_filesystem(const keel_fs_type_ops* ops, void* owner, Diagnostic* diagnostic)
{
    Diagnostic scratch;
    Diagnostic& problem = diagnostic ? *diagnostic : scratch;
    problem.clear();
    TRY(validate_fs_type_ops(ops, problem));
    LockGuard guard;
    if (find_fs_type(ops->name))
        return Err(Error::EEXIST);
    auto* type = create<FsType>();
    if (!type)
        return Err(Error::ENOMEM);
    memset(&type->ops, 0, sizeof(type->ops));
    memcpy(&type->ops, ops, min<size_t>(ops->size, sizeof(type->ops)));
    type->registered = ops;
    size_t length = strnlen(ops->name, KEEL_FS_TYPE_NAME_MAX);
    memcpy(type->name, ops->name, length);
    type->name[length] = '\0';
    type->owner = owner;
    type->superblocks = 0;
    g_types.push_back(*type);
    return {};
}

Result<void> vfs_unregister_filesystem(const keel_fs_type_ops* ops)
{
    LockGuard guard;
    for (FsType& type : g_types) {
        if (type.registered != ops)
            continue;
        if (type.superblocks > 0)
            return Err(Error::EBUSY);
        g_types.remove(type);
        destroy(&type);
        return {};
    }
    return Err(Error::ENOENT);
}

size_t vfs_forget_owner(void* owner, void (*report)(const char* type_name, bool mounted, void* arg), void* arg)
{
    if (!owner)
        return 0;
    LockGuard guard;
    size_t forgotten = 0;
    for (FsType* type = g_types.first(); type;) {
        FsType* next = g_types.next(*type);
        if (type->owner == owner) {
            bool mounted = type->superblocks > 0;
            report(type->name, mounted, arg);
            // A mounted type pins its module, so a module cannot go while
            // one is mounted; only a type left behind by a failed init or a
            // careless exit gets here, and it is dropped before its table's
            // memory goes away.
            if (!mounted) {
                g_types.remove(*type);
                destroy(type);
                forgotten++;
            }
        }
        type = next;
    }
    return forgotten;
}

bool vfs_filesystem_registered(const char* name)
{
    LockGuard guard;
    return find_fs_type(name) != nullptr;
}

void vfs_for_each_filesystem(void (*visit)(const char* name, uint32_t superblocks, void* arg), void* arg)
{
    LockGuard guard;
    for (FsType& type : g_types)
        visit(type.name, type.superblocks, arg);
}

} // namespace keel
