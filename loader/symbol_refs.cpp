// Symbol lookup for modules (keel_symbol_get / keel_symbol_put, as Linux's
// symbol_get/symbol_put). A symbol from a module pins that module (it
// cannot unload) until the reference is put back.
//
// Both run under g_module_refs_lock alone, never the registry's mutex: a
// driver calls them from probe and remove, with the device model's lock
// held, and rmmod holds the registry while it takes the device model's to
// unbind (the mutex would deadlock the two, and ranks before it). The list
// is linked and unlinked under the spinlock too, and rmmod decides under
// it that a module has no references left and is Unloading, so a get sees
// a module Live and counts its reference, or does not see it.
#include "lib/base/string.h"
#include "loader/core_exports.h"
#include "loader/internal.h"
#include "log/log.h"
#include "sched/thread.h"

namespace keel {

namespace {

// The newest version the core exports of `name` (its exports are listed
// oldest first), or nullptr. The core's symbols count no references: it
// never unloads.
const KabiExport* newest_core_export(const char* name)
{
    const KabiExport* newest = nullptr;
    for (size_t i = 0; i < kabi_export_count(); i++) {
        if (strcmp(kabi_export_at(i).name, name) == 0)
            newest = &kabi_export_at(i);
    }
    return newest;
}

// The module whose code called: by the return address, or, for a tail
// call from an init or exit (whose return address is the loader's), by
// what the loader is running.
Module* calling_module(const void* caller_address) REQUIRES(g_module_refs_lock)
{
    Module* module = module_containing_locked(caller_address);
    return module ? module : module_in_entry_point();
}

} // namespace

// The references a module took are its to give back; whatever it still
// holds when it goes (a failed init, a careless exit) the loader releases.
// Returns false when a new provider does not fit in the holder's table
// (the reference is then not taken).
bool note_symbol_reference(Module* holder, Module* provider) REQUIRES(g_module_refs_lock)
{
    if (!holder)
        return true; // the core itself, or a call the loader cannot attribute
    Module::HeldRef* unused = nullptr;
    for (size_t i = 0; i < holder->held_ref_count; i++) {
        Module::HeldRef& held = holder->held_refs[i];
        if (held.provider == provider && held.count > 0) {
            held.count++;
            return true;
        }
        // An entry given back whole is free again (its provider may be
        // gone: nothing reads it while its count is 0).
        if (held.count == 0 && !unused)
            unused = &held;
    }
    if (!unused && holder->held_ref_count == Module::kMaxHeldRefs)
        return false;
    if (!unused)
        unused = &holder->held_refs[holder->held_ref_count++];
    *unused = { provider, 1 };
    return true;
}

void release_held_references(Module& holder)
{
    for (size_t i = 0; i < holder.held_ref_count; i++) {
        Module::HeldRef& held = holder.held_refs[i];
        if (held.count == 0)
            continue;
        log_warn("%s: releasing %u reference(s) it still held on %s", holder.name, held.count, held.provider->name);
        held.provider->symbol_refs -= held.count;
        held.count = 0;
    }
    holder.held_ref_count = 0;
}

void* symbol_get(const char* name, const char* node, const void* caller_address)
{
    if (!name)
        return nullptr;
    if (node) {
        if (const KabiExport* entry = kabi_find(name, node))
            return const_cast<void*>(entry->address);
    } else if (const KabiExport* newest = newest_core_export(name)) {
        return const_cast<void*>(newest->address);
    }
    SpinlockGuard guard(g_module_refs_lock);
    Module* caller = calling_module(caller_address);
    for (Module& module : module_list_for_refs()) {
        if (module.state != ModuleState::Live)
            continue;
        auto address = module_export_address(module, name, node);
        if (address.is_ok()) {
            if (!note_symbol_reference(caller, &module)) {
                log_warn("%s: keel_symbol_get(%s): references held on more than %zu modules", caller->name, name,
                    Module::kMaxHeldRefs);
                return nullptr;
            }
            module.symbol_refs++;
            return reinterpret_cast<void*>(address.value());
        }
    }
    return nullptr;
}

namespace {

// The references on `provider` that no module's table accounts for: those
// the core (or code the loader cannot attribute) took.
uint32_t unattributed_refs(Module& provider) REQUIRES(g_module_refs_lock)
{
    uint32_t attributed = 0;
    for (Module& holder : module_list_for_refs()) {
        for (size_t i = 0; i < holder.held_ref_count; i++) {
            if (holder.held_refs[i].provider == &provider)
                attributed += holder.held_refs[i].count;
        }
    }
    return provider.symbol_refs > attributed ? provider.symbol_refs - attributed : 0;
}

// `holder`'s entry for a reference on a provider of `name`, if it holds one.
Module::HeldRef* held_reference(Module& holder, const char* name) REQUIRES(g_module_refs_lock)
{
    for (size_t i = 0; i < holder.held_ref_count; i++) {
        Module::HeldRef& held = holder.held_refs[i];
        if (held.count > 0 && module_export_address(*held.provider, name, nullptr).is_ok())
            return &held;
    }
    return nullptr;
}

} // namespace

// The reference goes back to a provider of `name` the caller holds one on:
// with two modules exporting the name, or a put with no get before it,
// the first provider that has any references is not necessarily the
// caller's, and taking one from another holder would let that module
// unload under it. A caller is known by its return address, which a tail
// call hides (outside an init or exit, calling_module's fallback): a
// caller the loader cannot name gives back a reference nobody is known to
// hold (the core's tools take theirs so), or else that of the only module
// that holds any. A module's put never takes one that is not its own. A
// put of a name only the core exports gives back nothing, quietly.
void symbol_put(const char* name, const void* caller_address)
{
    if (!name)
        return;
    SpinlockGuard guard(g_module_refs_lock);
    Module* caller = calling_module(caller_address);
    if (caller) {
        if (Module::HeldRef* held = held_reference(*caller, name)) {
            held->count--;
            held->provider->symbol_refs--;
            return;
        }
        if (!newest_core_export(name))
            log_warn("%s: keel_symbol_put(%s) with no reference held on it", caller->name, name);
        return;
    }
    for (Module& module : module_list_for_refs()) {
        if (module.symbol_refs > 0 && module_export_address(module, name, nullptr).is_ok()
            && unattributed_refs(module) > 0) {
            module.symbol_refs--;
            return;
        }
    }
    Module::HeldRef* only = nullptr;
    size_t holders = 0;
    for (Module& holder : module_list_for_refs()) {
        if (Module::HeldRef* held = held_reference(holder, name)) {
            only = held;
            holders++;
        }
    }
    if (holders == 1) {
        only->count--;
        only->provider->symbol_refs--;
        return;
    }
    if (!newest_core_export(name))
        log_warn("keel_symbol_put(%s) with no reference held on it", name);
}

} // namespace keel
