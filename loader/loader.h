// The module loader: a small dynamic linker for signed ELF modules.
//
//   read (initramfs / path) -> verify signature -> parse + validate ELF ->
//   load DT_NEEDED dependencies -> map -> relocate (imports resolved by name
//   and version node, hashes compared) -> protect (W^X, RELRO) ->
//   parameters -> DT_INIT_ARRAY -> keel_module_init -> registry
//
// A failure at any step undoes every earlier one (see load.cpp).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "loader/module.h"
#include "sync/mutex.h"
#include "sync/spinlock.h"

namespace keel {

// Serialises loading, unloading and every walk of the module list.
extern Mutex g_module_registry_lock;
// Also held to link a module into the list or out of it, and over every
// change of a module's symbol references: keel_symbol_get/put walk the
// list under it alone (a driver calls them from probe or remove, with the
// device model's lock held, which ranks after the registry's).
extern Spinlock g_module_refs_lock;

struct LoadOptions {
    const char* parameters = nullptr; // "key=value key2=value2", Linux syntax
    bool force = false;               // load despite version/hash mismatch: taints 'F'
    bool* refused = nullptr;          // set when the signature policy refuses the module
    // A module named `name_or_path` already loaded is no error: nullptr
    // comes back. Checked under the registry lock with the load, so that
    // modprobe and the autoload thread asking for one module at once load
    // it once, and neither fails.
    bool unless_loaded = false;
    // The module name unless_loaded looks for, when `name_or_path` is a
    // path (the autoload index loads the file it read, whatever its name).
    const char* module_name = nullptr;
};

// `name_or_path`: a bare NAME is looked up as /lib/modules/NAME.kmod; a
// path is used as given. Dependencies are loaded on the way.
// A failure says why in `error`: one line naming the module, the step and
// the reason.
Result<Module*> load_module(const char* name_or_path, const LoadOptions& options, Diagnostic& error);
Result<void> unload_module(const char* name, Diagnostic& error);

// Called by the module list readers (lsmod) with the registry locked.
void for_each_module(void (*visit)(const Module& module, void* context), void* context);
Module* find_module(const char* name) REQUIRES(g_module_registry_lock);

// The module whose image contains `address` (a table a module hands the
// core, say), or nullptr for the core's own. Callers hold a reference that
// keeps the module loaded (they are running its code, or it is pinned).
Module* module_containing(const void* address);
Module* module_containing_locked(const void* address) REQUIRES(g_module_refs_lock);
// The owner of a table a module registers (a driver's, a filesystem
// type's...): the module whose image holds it, which the core then pins
// while it calls into the table and sweeps when the module goes. A table
// a module registers from outside every image (its heap or its stack: the
// registrant found by `caller`, the registration's return address, by the
// entry point running, or by `function`, one of the table's functions)
// would be pinned and swept as no one's, and called after the module's
// code is gone: refused, logged naming `what`, with EINVAL. nullptr for
// the core's own (and for a null table, which the registration refuses
// itself).
Result<Module*> module_owning_table(const void* table, const void* function, const void* caller, const char* what);
// Without the lock, for a log line from any context, an interrupt handler
// included (it holds locks that rank after the list's).
Module* module_containing_for_log(const void* address);
// Pins keep a module loaded (rmmod says "in use by N mount(s)"); atomic,
// so a subsystem may pin under its own lock without the module mutex. A
// pin fails (false) once rmmod is past the point of no return: the caller
// then refuses what it was about to do with the module's code (nullptr,
// the core's own, always pins).
[[nodiscard]] bool module_try_pin(Module* module);
// Another pin by a caller that holds one (which keeps the module loaded).
void module_pin_again(Module* module);
void module_unpin(Module* module);
// Named holds (a pinned device holds the modules of its drivers): the
// caller's record, linked under a spinlock, so holding cannot fail and may
// happen with the device state lock held. rmmod prints each holder.
void module_hold(Module* module, OwnerHold& hold);
void module_release(OwnerHold& hold);
// "HOLDER (device D), ..." for rmmod's message; the count of holds.
size_t module_describe_holders(Module& module, char* out, size_t size);
void module_drop_holders(Module& module);

// keel_symbol_get/keel_symbol_put: the address of `name` (at `node`, or
// the newest) among the core's exports and the live modules'; a module's
// symbol pins it until put back. `caller_address` names the module asking.
void* symbol_get(const char* name, const char* node, const void* caller_address);
void symbol_put(const char* name, const void* caller_address);

// keel_module_watch_add/remove (loader/module_watch.cpp): callbacks told of
// each module that goes, after its exit, with the registry held.
Result<keel_module_watch*> module_watch_add(keel_module_going going, void* arg);
void module_watch_remove(keel_module_watch* watch);

// Where a bare module NAME is looked for, in order: the core's and in-tree
// modules, then vendors' (docs/sdk.md). Dependencies are found the same way.
inline constexpr const char* kModuleDirectory = "/lib/modules";
inline constexpr const char* kVendorModuleDirectory = "/lib/vendor";
inline constexpr const char* kModuleSearchPath[] = { kModuleDirectory, kVendorModuleDirectory };

void loader_init();
// module.sig_enforce=1 from the command line: refuse unsigned modules. The
// build option (sig_enforce) enforces whatever this says.
void set_signature_enforcement(bool enforce);
// modules_load=a,b: load each at boot, logging failures.
void load_boot_modules(const char* list);

} // namespace keel
