// Shared by the loader's files; not for the rest of the kernel.
#pragma once

#include "lib/base/format.h"
#include "loader/loader.h"
#include "sync/mutex.h"

namespace keel {

IntrusiveList<Module, &Module::node>& module_list() REQUIRES(g_module_registry_lock);
// The same list, walked under g_module_refs_lock alone (symbol_refs.cpp).
IntrusiveList<Module, &Module::node>& module_list_for_refs() REQUIRES(g_module_refs_lock);

// "NAME" -> "/lib/modules/NAME.kmod"; a path stays as it is.
void module_path_for(const char* name_or_path, char* path, size_t size);

// The module's bytes, in a buffer the caller frees with kfree.
struct ModuleFile {
    uint8_t* data;
    size_t size;
};
Result<ModuleFile> read_module_file(const char* path, Diagnostic& error);
// A path is read as it is; a bare NAME as NAME.kmod from the first
// directory of kModuleSearchPath that has it. `path` receives the file read.
Result<ModuleFile> read_module(const char* name_or_path, char* path, size_t path_size, Diagnostic& error);

// Symbol resolution for relocations: the core's export table and the
// exports of already-loaded modules.
struct ResolveContext {
    Module* module;
    Diagnostic* error;
    bool force;
    bool forced_something; // a mismatch was overridden: taint 'F'
    // Bit i: an import from dependencies[i] was logged as not hash-checked
    // (one line per dependency, not one per symbol: a console line costs
    // more than the rest of a small module's load).
    uint32_t unchecked_logged = 0;
};
Result<uint64_t> resolve_import(
    void* context, const ModuleImage::Symbol& symbol, uint32_t index, Diagnostic& diagnostic);

// Exported symbol of a live module, by name and version node (nullptr: any).
Result<uint64_t> module_export_address(const Module& module, const char* name, const char* node);

// Typed parameters: parse "key=value ..." into the module's storage.
Result<void> apply_module_parameters(Module& module, const char* parameters, Diagnostic& error);

// keel_symbol_get bookkeeping: `holder` took a reference on `provider`
// (false: a new provider found the holder's table full; symbol_put gives
// references back); release_held_references drops what is left.
[[nodiscard]] bool note_symbol_reference(Module* holder, Module* provider) REQUIRES(g_module_refs_lock);
void release_held_references(Module& holder) REQUIRES(g_module_refs_lock);

// The module whose init, exit or init/fini array the loader is running on
// this thread (nullptr when none: another thread's, or none at all).
void set_module_in_entry_point(Module* module) REQUIRES(g_module_registry_lock);
Module* module_in_entry_point();

// Called whenever the module list changes (after a module is linked in,
// before its init runs; after one is unlinked, before it is freed):
// scripts/keel/gdb_modules.py breaks here to keep GDB's symbols in step.
extern "C" void keel_gdb_modules_changed();

// Tells the module watches that `module` goes (after its exit or failed
// init, before its destructors), all but its own; then, after its
// destructors, drops the watches it left registered.
void module_watches_notify(const Module& module) REQUIRES(g_module_registry_lock);
void module_watches_forget(const Module& module) REQUIRES(g_module_registry_lock);

uint64_t elapsed_us(uint64_t start_cycles);

} // namespace keel
