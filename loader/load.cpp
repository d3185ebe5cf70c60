// load_module: the pipeline, as a sequence of steps that each either
// succeed or leave the module exactly as the previous step did; the
// rollback guard undoes whatever had been done when a step fails.
#include "arch/cpu.h"
#include "arch/paging.h"
#include "debug/stress.h"
#include "debug/taint.h"
#include "device/device.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/elf/relocate.h"
#include "lib/kabi/module_check.h"
#include "loader/internal.h"
#include "loader/signature.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/vmalloc.h"
#include "net/netdev.h"
#include "net/socket.h"
#include "sched/thread.h"
#include "time/clock.h"
#include "vfs/vfs.h"

namespace keel {

namespace {

constexpr size_t kMaxDependencyDepth = 8;
constexpr uint64_t kPageSize = 4096;

// The chain of modules being loaded, to detect dependency cycles.
struct LoadChain {
    const char* names[kMaxDependencyDepth];
    size_t depth = 0;
};

Result<void> unload_locked(Module* module, Diagnostic& error) REQUIRES(g_module_registry_lock);

void report_left_registered(const char* type_name, bool mounted, void* arg)
{
    auto* module = static_cast<Module*>(arg);
    if (mounted)
        log_err("%s: filesystem type %s is still mounted as the module goes", module->name, type_name);
    else
        log_warn("%s: removing filesystem type %s it left registered", module->name, type_name);
}

// What a module's init or exit left behind, once its own code has had its
// say and before its destructors (DT_FINI_ARRAY) run: the sweep may call
// into it (a driver left registered is unbound, its remove runs), and that
// code may use the module's static objects.
void forget_registrations(Module* module) REQUIRES(g_module_registry_lock)
{
    vfs_forget_owner(module, report_left_registered, module);
    net::socket_families_forget_owner(module, module->name);
    if (module->base) {
        auto start = reinterpret_cast<uintptr_t>(module->base);
        net::netdev_forget_code(start, start + module->span, module->name);
    }
    // Drivers it left registered are unbound before its code goes, and
    // holds that raced with the unload are cut loose (their records stay
    // with their holders, unlinked).
    driver_forget_owner(module);
    module_drop_holders(*module);
    // Last: tables kept by other modules (inet's IP protocols), which may
    // have been reached through what went above.
    module_watches_notify(*module);
}

// Takes a module that goes off the list and, in the same hold of the lock,
// gives back the references it holds: a put the loader cannot attribute,
// made in between, would count them as no module's and take one. A thread
// it started and did not join may still run its code (the ABI says a
// module joins its threads before it goes): while one does, the module is
// kept_by_thread, and what its code may use stays with it (free_module);
// threads that finished are freed. Only a module that was linked in has
// run code, so only one that goes through here can have started any.
void unlink_module(Module* module) REQUIRES(g_module_registry_lock)
{
    if (module->base) {
        auto start = reinterpret_cast<uintptr_t>(module->base);
        char thread[Thread::kNameLength];
        if (size_t running = thread_reap_started_in(start, start + module->span, thread, sizeof(thread))) {
            log_err("%s: thread %s%s still runs its code: its %zu KiB stay mapped, never freed, and its "
                    "dependencies and references held",
                module->name, thread, running > 1 ? " (and others)" : "", module->span / 1024);
            module->kept_by_thread = true;
        }
    }
    SpinlockGuard guard(g_module_refs_lock);
    module_list().remove(*module);
    if (!module->kept_by_thread)
        release_held_references(*module);
}

// Under the lock keel_symbol_get reads it with: a get that sees the module
// Live also sees everything its init wrote.
void set_live(Module* module)
{
    SpinlockGuard guard(g_module_refs_lock);
    module->state = ModuleState::Live;
}

// Frees a module that is off the list (its references went with
// unlink_module). One a thread still runs in keeps its memory mapped,
// never freed, and its dependencies keep a user each.
void free_module(Module* module)
{
    if (!module->kept_by_thread) {
        for (size_t i = 0; i < module->dependency_count; i++)
            module->dependencies[i]->users--;
        if (module->base)
            vfree(module->base);
    }
    kfree(module->file);
    destroy(module);
}

// The dependencies `module` loaded itself, in load order.
size_t autoloaded_dependencies(const Module& module, Module* (&out)[Module::kMaxDependencies])
{
    size_t count = 0;
    for (size_t i = 0; i < module.dependency_count; i++) {
        if (module.autoloaded_mask & (1u << i))
            out[count++] = module.dependencies[i];
    }
    return count;
}

// Unloads, last loaded first, those of `modules` nothing uses any more,
// and with each the dependencies it loaded itself, at every depth (a
// module that needs consumer, which needs provider, takes both with it).
// The recursion is as deep as a dependency chain may be (8).
void unload_unused(Module* const* modules, size_t count) REQUIRES(g_module_registry_lock)
{
    for (size_t i = count; i-- > 0;) {
        Module* module = modules[i];
        if (module->users != 0 || module->symbol_refs != 0 || module->pins.pins() != 0)
            continue;
        Module* autoloaded[Module::kMaxDependencies];
        size_t autoloaded_count = autoloaded_dependencies(*module, autoloaded);
        Diagnostic ignored;
        if (unload_locked(module, ignored).is_ok())
            unload_unused(autoloaded, autoloaded_count);
    }
}

// A failed load also unloads the dependencies it loaded itself (and that
// nothing else started using meanwhile): a failure leaves nothing behind.
void abandon_module(Module* module) REQUIRES(g_module_registry_lock)
{
    Module* autoloaded[Module::kMaxDependencies];
    size_t count = autoloaded_dependencies(*module, autoloaded);
    free_module(module);
    unload_unused(autoloaded, count);
}

class ModuleRollback {
public:
    explicit ModuleRollback(Module* module)
        : m_module(module)
    {
    }
    // Only made inside load_locked, which holds the registry lock.
    ~ModuleRollback() NO_THREAD_SAFETY_ANALYSIS
    {
        if (m_module)
            abandon_module(m_module);
    }
    void commit() { m_module = nullptr; }

private:
    Module* m_module;
};

unsigned page_flags(uint32_t segment_flags)
{
    unsigned flags = arch::kPageRead;
    if (segment_flags & elf::PF_W)
        flags |= arch::kPageWrite;
    if (segment_flags & elf::PF_X)
        flags |= arch::kPageExecute;
    return flags;
}

// Each page's final permissions: its segment's, read-only inside RELRO
// (whole pages only; the linker aligns its end). Pages are set in runs of
// the same permissions, and those that stay as vmalloc mapped them
// (writable, not executable) are not touched: every change costs a TLB
// invalidation.
Result<void> protect_segments(Module& module, Diagnostic& error)
{
    const ModuleImage& image = module.image;
    ModuleImage::Range relro = image.relro();
    uint64_t relro_start = relro.empty() ? 0 : align_up(relro.start, kPageSize);
    uint64_t relro_end = relro.empty() ? 0 : align_down(relro.end, kPageSize);
    for (size_t i = 0; i < image.load_segment_count(); i++) {
        ModuleImage::LoadSegment segment = image.load_segment(i);
        uint64_t start = align_down(segment.vaddr, kPageSize);
        uint64_t end = align_up(segment.vaddr + segment.memsz, kPageSize);
        for (uint64_t run = start; run < end;) {
            bool in_relro = run >= relro_start && run < relro_end;
            uint64_t run_end = in_relro ? min(end, relro_end) : (run < relro_start ? min(end, relro_start) : end);
            unsigned flags = in_relro ? unsigned(arch::kPageRead) : page_flags(segment.flags);
            if (flags != arch::kPageWrite) {
                auto result = vprotect(module.base + run, run_end - run, flags);
                if (result.is_error()) {
                    diagnose(&error, "%s: cannot set permissions of segment %zu: %s", module.name, i,
                        error_name(result.error()));
                    return result;
                }
            }
            run = run_end;
        }
        // The code was written through the data side (copied, relocated):
        // its own bytes, not the rest of its pages, which hold no code.
        if (segment.flags & elf::PF_X)
            arch::sync_instruction_cache(module.base + segment.vaddr, segment.memsz);
    }
    return {};
}

// While a module's init, exit or DT_INIT_ARRAY/DT_FINI_ARRAY functions
// run, the loader knows whose code runs: keel_symbol_get/put called from
// them are the module's even when the call is a tail call, whose return
// address is the loader's.
class EntryPointScope {
public:
    explicit EntryPointScope(Module* module) REQUIRES(g_module_registry_lock) { set_module_in_entry_point(module); }
    ~EntryPointScope() NO_THREAD_SAFETY_ANALYSIS { set_module_in_entry_point(nullptr); }
    EntryPointScope(const EntryPointScope&) = delete;
    EntryPointScope& operator=(const EntryPointScope&) = delete;
};

using ArrayFunction = void (*)();

void run_function_array(Module& module, ModuleImage::PointerArray array, bool reverse)
{
    auto* functions = reinterpret_cast<ArrayFunction*>(module.base + array.vaddr);
    size_t count = array.count;
    for (size_t k = 0; k < count; k++) {
        ArrayFunction function = functions[reverse ? count - 1 - k : k];
        // 0 and -1 are placeholders some toolchains leave in the arrays.
        if (function && reinterpret_cast<intptr_t>(function) != -1)
            function();
    }
}

Result<Module*> load_locked(const char* name_or_path, const LoadOptions& options, Diagnostic& error, LoadChain& chain)
    REQUIRES(g_module_registry_lock);

// After relocation every DT_INIT_ARRAY/DT_FINI_ARRAY entry must point into
// the module's own code: calling anything else would be calling data.
Result<void> check_function_array(Module& module, ModuleImage::PointerArray array, const char* what, Diagnostic& error)
{
    auto* functions = reinterpret_cast<const uint64_t*>(module.base + array.vaddr);
    uint64_t base = reinterpret_cast<uint64_t>(module.base);
    for (size_t i = 0; i < array.count; i++) {
        uint64_t entry = functions[i];
        if (entry == 0 || entry == ~0ull)
            continue;
        if (entry < base || !module.image.is_executable(entry - base)) {
            return error.fail(Error::ENOEXEC, "%s: %s[%zu] = 0x%llx is not inside the module's code", module.name, what,
                i, (unsigned long long)entry);
        }
    }
    return {};
}

Result<void> load_dependencies(Module& module, const LoadOptions& options, Diagnostic& error, LoadChain& chain)
    REQUIRES(g_module_registry_lock)
{
    const char* needed_names[Module::kMaxDependencies + 1];
    size_t needed_count = 0;
    bool too_many = false;
    module.image.for_each_needed([&](const char* needed) {
        if (strcmp(needed, "libkeel.so") == 0)
            return; // the core itself
        if (needed_count == Module::kMaxDependencies)
            too_many = true;
        else
            needed_names[needed_count++] = needed;
    });
    if (too_many) {
        return error.fail(Error::E2BIG, "%s: more than %zu dependencies", module.name, Module::kMaxDependencies);
    }
    for (size_t i = 0; i < needed_count; i++) {
        const char* needed = needed_names[i];
        // A module's soname is NAME.kmod. The suffix comes off before the
        // length is bounded: cutting first made a name of 51 to 55
        // characters NAME.kmo, looked for as NAME.kmo.kmod.
        char name[Module::kNameLength];
        size_t length = strlen(needed); // the parse bounded it (is_dependency_name)
        if (length > 5 && strcmp(needed + length - 5, ".kmod") == 0)
            length -= 5;
        if (length >= sizeof(name))
            return error.fail(Error::ENAMETOOLONG, "%s: dependency %s: the name is too long", module.name, needed);
        memcpy(name, needed, length);
        name[length] = '\0';
        for (size_t k = 0; k < chain.depth; k++) {
            if (strcmp(chain.names[k], name) == 0) {
                return error.fail(Error::ELOOP, "%s: dependency cycle: %s needs %s, which is already being loaded",
                    module.name, module.name, name);
            }
        }
        Module* dependency = find_module(name);
        if (!dependency) {
            LoadOptions dependency_options;
            dependency_options.force = options.force;
            auto loaded = load_locked(name, dependency_options, error, chain);
            if (loaded.is_error()) {
                // Say which module needed it: the dependency's own message
                // names only the dependency.
                error.prefix("%s: needs %s (DT_NEEDED %s): ", module.name, name, needed);
                return Err(loaded.error());
            }
            dependency = loaded.value();
            module.autoloaded_mask |= 1u << module.dependency_count;
        } else if (dependency->state != ModuleState::Live) {
            return error.fail(
                Error::EBUSY, "%s: dependency %s is %s", module.name, name, module_state_name(dependency->state));
        }
        dependency->users++;
        module.dependencies[module.dependency_count++] = dependency;
    }
    return {};
}

Result<Module*> load_locked(const char* name_or_path, const LoadOptions& options, Diagnostic& error, LoadChain& chain)
    REQUIRES(g_module_registry_lock)
{
    if (chain.depth == kMaxDependencyDepth) {
        return error.fail(Error::ELOOP, "%s: dependencies nest deeper than %zu", name_or_path, kMaxDependencyDepth);
    }
    uint64_t start = time::cycles();
    char path[256];

    // The rollback owns the module until the load commits.
    Module* module = TRY(make<Module>()).leak();
    ModuleRollback rollback(module);

    // Read.
    uint64_t step = time::cycles();
    ModuleFile file = TRY(read_module(name_or_path, path, sizeof(path), error));
    module->file = file.data;
    module->file_size = file.size;
    module->timings.read_us = elapsed_us(step);
    // From load_module's "loaded already?" (LoadOptions::unless_loaded) to
    // the commit, the registry lock is held: a second loader of this
    // module waits, then finds it. `modtest race` preempts the load here.
    debug::stress_point();

    // Verify the signature before looking at any ELF structure.
    step = time::cycles();
    if (auto verified = verify_module(*module, path, options, error); verified.is_error()) {
        if (options.refused)
            *options.refused = true;
        return Err(verified.error());
    }
    module->timings.verify_us = elapsed_us(step);

    // Parse and validate every ELF structure.
    step = time::cycles();
    Diagnostic diagnostic;
    auto image = ModuleImage::parse(module->file, module->image_size, diagnostic, arch::kElfMachine);
    if (image.is_error()) {
        diagnose(&error, "%s: invalid module: %s", path, diagnostic.message);
        return Err(image.error());
    }
    module->image = image.release_value();
    // parse() insists on one name= of [a-z0-9_] that fits, and a license=.
    static_assert(ModuleImage::kMaxNameLength < Module::kNameLength);
    format(module->name, sizeof(module->name), "%s", module->image.name());
    if (find_module(module->name)) {
        return error.fail(Error::EEXIST, "%s: a module of that name is already loaded", module->name);
    }
    // Shared with kmodinfo --check-against (lib/kabi/module_check.h).
    TRY(check_entry_points(module->image, { error.message, sizeof(error.message) }));
    module->timings.parse_us = elapsed_us(step);

    // Dependencies (their own timings are their own).
    chain.names[chain.depth++] = module->name;
    auto dependencies = load_dependencies(*module, options, error, chain);
    chain.depth--;
    TRY(dependencies);

    // Map: one writable area for the whole span, segments copied in.
    step = time::cycles();
    module->span = module->image.load_span();
    auto mapping = vmalloc_uninitialized(module->span, arch::kPageWrite);
    if (mapping.is_error()) {
        diagnose(&error, "%s: cannot map %zu bytes: %s", module->name, module->span, error_name(mapping.error()));
        return Err(mapping.error());
    }
    module->base = static_cast<uint8_t*>(mapping.value());
    copy_segments(module->image, module->file, module->base);
    module->timings.map_us = elapsed_us(step);

    // Relocate, resolving imports by name and version node.
    step = time::cycles();
    ResolveContext resolve { module, &error, options.force, false };
    SymbolResolver resolver { resolve_import, &resolve };
    auto relocated = apply_relocations(
        module->image, module->base, reinterpret_cast<uint64_t>(module->base), resolver, diagnostic);
    if (relocated.is_error()) {
        if (!error.message[0])
            diagnose(&error, "%s: %s", module->name, diagnostic.message);
        return Err(relocated.error());
    }
    if (resolve.forced_something) {
        module->taint_letters |= 1u << unsigned(Taint::ForcedModule);
        add_taint(Taint::ForcedModule);
    }
    TRY(apply_module_parameters(*module, options.parameters, error));
    TRY(check_function_array(*module, module->image.init_array(), "DT_INIT_ARRAY", error));
    TRY(check_function_array(*module, module->image.fini_array(), "DT_FINI_ARRAY", error));
    TRY(protect_segments(*module, error));
    module->timings.relocate_us = elapsed_us(step);

    // Entry points.
    auto init = module->image.find_defined_symbol("keel_module_init");
    auto exit = module->image.find_defined_symbol("keel_module_exit");
    module->init
        = init.is_ok() ? reinterpret_cast<int (*)()>(module->base + module->image.symbol_value(init.value())) : nullptr;
    module->exit = exit.is_ok() ? reinterpret_cast<void (*)()>(module->base + module->image.symbol_value(exit.value()))
                                : nullptr;

    // Registered (as Loading) before init runs, so that a fault inside init
    // is symbolized and the module's exports can't be used yet.
    module->state = ModuleState::Loading;
    {
        SpinlockGuard guard(g_module_refs_lock);
        module_list().push_back(*module);
    }
    keel_gdb_modules_changed();

    step = time::cycles();
    int status;
    {
        EntryPointScope running(module);
        run_function_array(*module, module->image.init_array(), false);
        status = module->init ? module->init() : 0;
    }
    module->timings.init_us = elapsed_us(step);
    if (status != 0) {
        Error code = status < 0 && status > -4096 ? Error(-status) : Error::EINVAL;
        // Closed to pins before anything is undone. One taken while init
        // ran (another thread mounting the filesystem type it registered)
        // keeps it: it stays loaded, for that user to let go of first.
        if (!module->pins.try_close()) {
            set_live(module);
            rollback.commit();
            diagnose(&error,
                "%s: keel_module_init failed with %d, but it stays loaded: in use by mount(s) or open "
                "socket(s) already",
                module->name, status);
            log_err("%s", error.message);
            return Err(code);
        }
        EntryPointScope running(module);
        forget_registrations(module);
        run_function_array(*module, module->image.fini_array(), true);
        module_watches_forget(*module);
        unlink_module(module);
        keel_gdb_modules_changed();
        diagnose(&error, "%s: keel_module_init failed with %d", module->name, status);
        return Err(code);
    }

    if (!module->image.in_tree()) {
        module->taint_letters |= 1u << unsigned(Taint::OutOfTree);
        add_taint(Taint::OutOfTree);
    }
    set_live(module);
    module->timings.total_us = elapsed_us(start);
    rollback.commit();
    log_info("%s: loaded at %p (%zu KiB) in %llu us", module->name, module->base, module->span / 1024,
        (unsigned long long)module->timings.total_us);
    return module;
}

} // namespace

Result<Module*> load_module(const char* name_or_path, const LoadOptions& options, Diagnostic& error)
{
    error.message[0] = '\0';
    MutexGuard guard(g_module_registry_lock);
    if (options.unless_loaded && find_module(options.module_name ? options.module_name : name_or_path))
        return nullptr;
    LoadChain chain;
    return load_locked(name_or_path, options, error, chain);
}

Result<void> unload_module(const char* name, Diagnostic& error)
{
    error.message[0] = '\0';
    MutexGuard guard(g_module_registry_lock);
    Module* module = find_module(name);
    if (!module) {
        return error.fail(Error::ENOENT, "%s: not loaded", name);
    }
    return unload_locked(module, error);
}

namespace {

Result<void> unload_locked(Module* module, Diagnostic& error) REQUIRES(g_module_registry_lock)
{
    const char* name = module->name;
    if (module->state != ModuleState::Live) {
        return error.fail(Error::EBUSY, "%s: is %s", name, module_state_name(module->state));
    }
    if (module->users > 0) {
        char users[160] = "";
        size_t length = 0;
        for (Module& other : module_list()) {
            for (size_t i = 0; i < other.dependency_count; i++) {
                if (other.dependencies[i] == module && length < sizeof(users))
                    length += format(users + length, sizeof(users) - length, "%s%s", length ? ", " : "", other.name);
            }
        }
        return error.fail(Error::EBUSY, "%s: in use by %s", name, users);
    }
    if (module->symbol_refs > 0) {
        return error.fail(Error::EBUSY, "%s: %u symbol reference(s) held (keel_symbol_get)", name, module->symbol_refs);
    }
    // From here a mount or a socket can no longer pin it (their pins are
    // tried, and fail while the gate is closed); one that pinned first
    // keeps the gate open. Pins seen before closing refuse without
    // closing, so a pin racing a refused rmmod is not refused with it.
    if (uint32_t pins = module->pins.pins(); pins > 0)
        return error.fail(Error::EBUSY, "%s: in use by %u mount(s) or open socket(s)", name, pins);
    if (!module->pins.try_close())
        return error.fail(Error::EBUSY, "%s: in use by a mount or an open socket", name);
    char holders[200];
    if (module_describe_holders(*module, holders, sizeof(holders)) > 0) {
        module->pins.reopen();
        return error.fail(Error::EBUSY, "%s: in use by %s", name, holders);
    }
    // No reference taken since the check above: a keel_symbol_get from
    // here on no longer sees the module Live.
    {
        SpinlockGuard guard(g_module_refs_lock);
        if (module->symbol_refs == 0)
            module->state = ModuleState::Unloading;
    }
    if (module->state != ModuleState::Unloading) {
        module->pins.reopen();
        return error.fail(Error::EBUSY, "%s: %u symbol reference(s) held (keel_symbol_get)", name, module->symbol_refs);
    }
    {
        EntryPointScope running(module);
        if (module->exit)
            module->exit();
        forget_registrations(module);
        run_function_array(*module, module->image.fini_array(), true);
        module_watches_forget(*module);
    }
    unlink_module(module);
    keel_gdb_modules_changed();
    log_info("%s: unloaded", name);
    free_module(module);
    return {};
}

} // namespace

} // namespace keel
