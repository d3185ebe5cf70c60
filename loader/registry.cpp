// The list of loaded modules, and the symbolizer that names module
// addresses in backtraces.
#include "debug/backtrace.h"
#include "debug/taint.h"
#include "lib/base/string.h"
#include "loader/core_exports.h"
#include "loader/internal.h"
#include "log/log.h"
#include "sched/thread.h"
#include "sync/spinlock.h"
#include "time/clock.h"

namespace keel {

namespace {

constexpr LockClass kModuleRegistryClass { "module registry", LockRank::ModuleRegistry, true };
constexpr LockClass kModuleHoldersClass { "module holders", LockRank::ModuleHolders, false };
constexpr LockClass kModuleRefsClass { "module refs", LockRank::ModuleRefs, false };
Spinlock g_holders_lock { kModuleHoldersClass };
IntrusiveList<Module, &Module::node> g_modules GUARDED_BY(g_module_registry_lock);
Module* g_in_entry_point GUARDED_BY(g_module_registry_lock) = nullptr;

// Runs in panic context: no locks (the list may be mid-update; a module
// being linked in or out is skipped by its state).
bool symbolize_module_address(uint64_t address, char* buffer, size_t size) NO_THREAD_SAFETY_ANALYSIS
{
    for (Module& module : g_modules) {
        uint64_t base = reinterpret_cast<uint64_t>(module.base);
        if (!module.base || address < base || address >= base + module.span)
            continue;
        uint64_t offset = address - base;
        const char* best = nullptr;
        uint64_t best_value = 0, best_size = 0;
        for (uint32_t i = 1; i < module.image.symbol_count(); i++) {
            ModuleImage::Symbol symbol = module.image.symbol(i);
            if (!symbol.defined || symbol.value > offset || symbol.type != elf::STT_FUNC)
                continue;
            if (!best || symbol.value > best_value) {
                best = symbol.name;
                best_value = symbol.value;
                best_size = symbol.size;
            }
        }
        if (best && (best_size == 0 || offset < best_value + best_size))
            format(buffer, size, "%s+0x%llx/0x%llx [%s]", best, (unsigned long long)(offset - best_value),
                (unsigned long long)best_size, module.name);
        else
            format(buffer, size, "%s+0x%llx", module.name, (unsigned long long)offset);
        return true;
    }
    return false;
}

// "Modules linked in: hello(E) hello_cpp", as Linux's oopses say. Panic
// context again: no locks.
void print_modules_for_oops() NO_THREAD_SAFETY_ANALYSIS
{
    console_print("Modules linked in:");
    for (Module& module : g_modules) {
        char letters[4];
        size_t n = 0;
        if (module.taint_letters & (1u << unsigned(Taint::ForcedModule)))
            letters[n++] = 'F';
        if (module.taint_letters & (1u << unsigned(Taint::OutOfTree)))
            letters[n++] = 'O';
        if (module.taint_letters & (1u << unsigned(Taint::UnsignedModule)))
            letters[n++] = 'E';
        letters[n] = '\0';
        console_print(" %s%s%s%s", module.name, n ? "(" : "", letters, n ? ")" : "");
    }
    console_print("\n");
}

} // namespace

Mutex g_module_registry_lock { kModuleRegistryClass };
Spinlock g_module_refs_lock { kModuleRefsClass };

// The debugger interface (scripts/keel/gdb_modules.py, docs/debugging.md).
// GDB keeps a breakpoint on keel_gdb_modules_changed and, each time it is
// reached, walks keel_gdb_modules to add the symbols of the modules that
// appeared and drop those of the modules that went. Both are extern "C" so
// that the debugger finds them under names that neither C++ mangling nor
// the anonymous namespace change. Nothing in the kernel reads the pointer:
// `retain` keeps --gc-sections from dropping it.
extern "C" [[gnu::used, gnu::retain]] IntrusiveList<Module, &Module::node>* const keel_gdb_modules = &g_modules;

// Called with the module mutex held, after a module was linked into the
// list (before its init runs, so that breakpoints in init work) and after
// one was unlinked (before its memory is freed). noinline and the asm keep
// it a real call at a stable address for the breakpoint.
extern "C" [[gnu::noinline]] void keel_gdb_modules_changed() { asm volatile("" ::: "memory"); }

IntrusiveList<Module, &Module::node>& module_list() { return g_modules; }

// Links change with both locks held, so either one keeps the list still.
IntrusiveList<Module, &Module::node>& module_list_for_refs() NO_THREAD_SAFETY_ANALYSIS { return g_modules; }

void set_module_in_entry_point(Module* module) { g_in_entry_point = module; }

// Read only by the thread that holds the lock (and so wrote it).
Module* module_in_entry_point() NO_THREAD_SAFETY_ANALYSIS
{
    return g_module_registry_lock.owner() == current_thread() ? g_in_entry_point : nullptr;
}

const char* module_state_name(ModuleState state)
{
    switch (state) {
    case ModuleState::Loading: return "Loading";
    case ModuleState::Live: return "Live";
    case ModuleState::Unloading: return "Unloading";
    }
    return "?";
}

namespace {

Module* find_containing(const void* address) NO_THREAD_SAFETY_ANALYSIS
{
    auto value = reinterpret_cast<uintptr_t>(address);
    for (Module& module : g_modules) {
        auto base = reinterpret_cast<uintptr_t>(module.base);
        if (module.base && value >= base && value < base + module.span)
            return &module;
    }
    return nullptr;
}

} // namespace

// The list's links change only with g_module_refs_lock held, so a walk
// under it never meets another module being unlinked and freed (a thread
// preempted mid-walk used to be able to).
Module* module_containing(const void* address)
{
    SpinlockGuard guard(g_module_refs_lock);
    return find_containing(address);
}

Module* module_containing_locked(const void* address) { return find_containing(address); }

Result<Module*> module_owning_table(const void* table, const void* function, const void* caller, const char* what)
{
    if (!table)
        return nullptr;
    if (Module* owner = module_containing(table))
        return owner;
    // A registration made last in a callback of the core's is a tail call:
    // its return address is the core's; the table's code still names it.
    Module* registrant = module_containing(caller);
    if (!registrant)
        registrant = module_in_entry_point();
    if (!registrant && function)
        registrant = module_containing(function);
    if (!registrant)
        return nullptr;
    log_err("%s: %s refused: its table (%p) lies outside the module's image: it must be static, not on the heap or "
            "the stack",
        registrant->name, what, table);
    return Err(Error::EINVAL);
}

// Unlinking keeps interrupts off (the spinlock), so on one CPU a walk from
// an interrupt handler never meets one half done.
Module* module_containing_for_log(const void* address) { return find_containing(address); }

bool module_try_pin(Module* module) { return !module || module->pins.try_pin(); }

void module_pin_again(Module* module)
{
    if (module)
        module->pins.pin_again();
}

void module_unpin(Module* module)
{
    if (module)
        module->pins.unpin();
}

void module_hold(Module* module, OwnerHold& hold)
{
    if (!module)
        return;
    SpinlockGuard guard(g_holders_lock);
    hold.owner = module;
    module->holders.push_back(hold);
}

void module_release(OwnerHold& hold)
{
    SpinlockGuard guard(g_holders_lock);
    hold.node.unlink();
    hold.owner = nullptr;
}

size_t module_describe_holders(Module& module, char* out, size_t size)
{
    SpinlockGuard guard(g_holders_lock);
    size_t count = 0, length = 0;
    out[0] = '\0';
    for (OwnerHold& hold : module.holders) {
        if (length < size)
            length += format(out + length, size - length, "%s%s (device %s)", count ? ", " : "", hold.holder,
                hold.device ? hold.device : "?");
        count++;
    }
    return count;
}

void module_drop_holders(Module& module)
{
    SpinlockGuard guard(g_holders_lock);
    while (OwnerHold* hold = module.holders.pop_front()) {
        log_warn("%s: goes while %s still holds it", module.name, hold->holder);
        hold->owner = nullptr;
    }
}

namespace {

// Module names are [a-z0-9_]; a '-' asked for is a '_', as Linux's
// modprobe and rmmod take them (`rmmod lifecycle-test`).
bool same_module_name(const char* module_name, const char* asked)
{
    for (;; module_name++, asked++) {
        char wanted = *asked == '-' ? '_' : *asked;
        if (*module_name != wanted)
            return false;
        if (!wanted)
            return true;
    }
}

} // namespace

Module* find_module(const char* name)
{
    for (Module& module : g_modules) {
        if (same_module_name(module.name, name))
            return &module;
    }
    return nullptr;
}

void for_each_module(void (*visit)(const Module& module, void* context), void* context)
{
    MutexGuard guard(g_module_registry_lock);
    for (Module& module : g_modules)
        visit(module, context);
}

void loader_init()
{
    set_module_symbolizer(symbolize_module_address);
    set_module_lister(print_modules_for_oops);
    // The generated export table is not checked here: a broken one is a
    // build bug, and unit-kabi-table checks the table the generator made
    // for the host, with the same names, nodes and slots (checking it at
    // every boot was 214,000 guest instructions).
}

void load_boot_modules(const char* list)
{
    // "a,b,c": each loaded in order (with its dependencies); a failure is
    // logged and the next one is tried.
    char name[Module::kNameLength];
    while (list && *list) {
        size_t length = 0;
        while (list[length] && list[length] != ',')
            length++;
        if (length > 0 && length < sizeof(name)) {
            memcpy(name, list, length);
            name[length] = '\0';
            Diagnostic error;
            LoadOptions options;
            if (load_module(name, options, error).is_error())
                log_err("modules_load: %s", error.message);
        } else if (length > 0) {
            log_err("modules_load: module name too long");
        }
        list += length;
        if (*list == ',')
            list++;
    }
}

uint64_t elapsed_us(uint64_t start_cycles)
{
    uint64_t rate = time::cycles_per_second();
    if (rate < 1000000)
        return 0;
    return (time::cycles() - start_cycles) / (rate / 1000000);
}

} // namespace keel
