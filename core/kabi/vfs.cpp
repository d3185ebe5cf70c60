// KABI_VFS_1.0: filesystem types registered by modules.
//
// A superblock of a module's type pins the module (module_try_pin: rmmod says
// "in use by N mount(s)"). The registration records which module owns the
// table, found by the table's address (module_containing).
#include "vfs/vfs.h"
#include "kabi/errno.h"
#include "kabi/owner.h"
#include "kabi_impl.h"
#include "loader/loader.h"
#include "log/log.h"

namespace keel {

// The owner token is the Module itself (null for the core's own types).
// Pins are atomic so that they need no lock: the VFS pins with its own
// lock held, and must not wait for the module mutex there.
bool kabi_vfs_pin_owner(void* owner) { return module_try_pin(static_cast<Module*>(owner)); }

void kabi_vfs_unpin_owner(void* owner) { module_unpin(static_cast<Module*>(owner)); }

} // namespace keel

extern "C" int32_t keel_register_filesystem(const keel_fs_type_ops* ops)
{
    using namespace keel;
    // The table lives in the registering module's image (the return
    // address would not do: `return keel_register_filesystem(&ops);` is a
    // tail call from the loader's point of view).
    auto owned
        = module_owning_table(ops, KABI_TABLE_FUNCTION(ops, mount), __builtin_return_address(0), "filesystem type");
    if (owned.is_error())
        return kabi_error(owned.error());
    Module* owner = owned.value();
    keel::Diagnostic problem;
    auto result = vfs_register_filesystem(ops, owner, &problem);
    if (result.is_error()) {
        const char* who = owner ? owner->name : "the core";
        if (result.error() == Error::EINVAL)
            log_err("vfs: %s: filesystem type refused: %s", who, problem.message);
        else if (result.error() == Error::EEXIST)
            log_err("vfs: %s: filesystem type \"%s\" is already registered", who, ops->name);
        return kabi_error(result.error());
    }
    log_info("vfs: filesystem type %s registered%s%s", ops->name, owner ? " by " : "", owner ? owner->name : "");
    return 0;
}

extern "C" int32_t keel_unregister_filesystem(const keel_fs_type_ops* ops)
{
    using namespace keel;
    auto result = vfs_unregister_filesystem(ops);
    if (result.is_error())
        return kabi_error(result.error());
    return 0;
}
