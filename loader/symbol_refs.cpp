// Symbol lookup for modules (keel_symbol_get / keel_symbol_put, as Linux's
// symbol_get/symbol_put). A symbol from a module pins that module (it
// cannot unload) until the reference is put back.
#include "lib/base/string.h"
#include "loader/core_exports.h"
#include "loader/internal.h"
#include "log/log.h"
#include "sched/thread.h"

namespace keel {

namespace {

// A module's init may call these while its own load holds the registry
// lock: take it only when this thread does not already hold it. Either way
// the lock is held for the scope, which is what the analysis is told.
class SCOPED_CAPABILITY ModuleListAccess {
public:
    ModuleListAccess() ACQUIRE(g_module_registry_lock) NO_THREAD_SAFETY_ANALYSIS
        : m_take(g_module_registry_lock.owner() != current_thread())
    {
        if (m_take)
            g_module_registry_lock.lock();
    }
    ~ModuleListAccess() RELEASE() NO_THREAD_SAFETY_ANALYSIS
    {
        if (m_take)
            g_module_registry_lock.unlock();
    }

private:
    bool m_take;
};

} // namespace

// The references a module took are its to give back; whatever it still
// holds when it goes (a failed init, a careless exit) the loader releases.
void note_symbol_reference(Module* holder, Module* provider, int delta)
{
    if (!holder)
        return; // the core itself, or a call the loader cannot attribute
    for (size_t i = 0; i < holder->held_ref_count; i++) {
        if (holder->held_refs[i].provider == provider) {
            holder->held_refs[i].count += delta;
            return;
        }
    }
    if (delta > 0 && holder->held_ref_count < Module::kMaxHeldRefs)
        holder->held_refs[holder->held_ref_count++] = { provider, uint32_t(delta) };
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
    } else {
        // No node: the newest the core has (exports are listed oldest first).
        const KabiExport* newest = nullptr;
        for (size_t i = 0; i < kabi_export_count(); i++) {
            if (strcmp(kabi_export_at(i).name, name) == 0)
                newest = &kabi_export_at(i);
        }
        if (newest)
            return const_cast<void*>(newest->address);
    }
    ModuleListAccess access;
    Module* caller = module_containing(caller_address);
    for (Module& module : module_list()) {
        if (module.state != ModuleState::Live)
            continue;
        auto address = module_export_address(module, name, node);
        if (address.is_ok()) {
            module.symbol_refs++;
            note_symbol_reference(caller, &module, +1);
            return reinterpret_cast<void*>(address.value());
        }
    }
    return nullptr;
}

void symbol_put(const char* name, const void* caller_address)
{
    if (!name)
        return;
    ModuleListAccess access;
    Module* caller = module_containing(caller_address);
    for (Module& module : module_list()) {
        if (module.symbol_refs > 0 && module_export_address(module, name, nullptr).is_ok()) {
            module.symbol_refs--;
            note_symbol_reference(caller, &module, -1);
            return;
        }
    }
}

} // namespace keel
