// Import resolution: every undefined symbol a module uses names a version
// node (GNU symbol versioning). Imports from libkeel.so come from the
// core's export table, looked up by hash; imports from another module's
// soname come from that module's exports. The hash the module's SDK had
// for the symbol (its .keel_kabi table) must equal the core's.
#include "lib/base/string.h"
#include "loader/core_exports.h"
#include "loader/internal.h"
#include "log/log.h"

namespace keel {

namespace {

bool recorded_hash(const ModuleImage& image, const char* name, const char* node, uint64_t& hash)
{
    ModuleImage::KabiEntry entry;
    if (!image.find_kabi_entry(name, node, entry))
        return false;
    hash = entry.hash;
    return true;
}

// "KABI_CORE_1.0, KABI_CORE_1.1": the nodes the core offers for `name`.
void nodes_offering(const char* name, char* out, size_t size)
{
    size_t length = 0;
    out[0] = '\0';
    for (size_t i = 0; i < kabi_export_count(); i++) {
        const KabiExport& entry = kabi_export_at(i);
        if (strcmp(entry.name, name) == 0 && length < size)
            length += format(out + length, size - length, "%s%s", length ? ", " : "", entry.node);
    }
}

Result<uint64_t> resolve_from_core(ResolveContext& context, const ModuleImage::Symbol& symbol, Diagnostic& diagnostic)
{
    Module& module = *context.module;
    const KabiExport* entry = kabi_find(symbol.name, symbol.version);
    if (!entry) {
        char offered[96];
        nodes_offering(symbol.name, offered, sizeof(offered));
        if (offered[0])
            diagnose(context.error, "%s: needs %s@%s, but this core provides it only at %s", module.name, symbol.name,
                symbol.version, offered);
        else
            diagnose(context.error, "%s: unknown symbol %s@%s (the core has no such export)", module.name, symbol.name,
                symbol.version);
        format(diagnostic.message, sizeof(diagnostic.message), "%s", context.error->message);
        return Err(Error::ENOENT);
    }
    uint64_t hash = 0;
    if (!recorded_hash(module.image, symbol.name, symbol.version, hash)) {
        diagnose(context.error, "%s: no hash recorded for %s@%s (was the module processed by kmodpost?)", module.name,
            symbol.name, symbol.version);
        if (!context.force)
            return Err(Error::ENOEXEC);
        context.forced_something = true;
    } else if (hash != entry->hash) {
        diagnose(context.error,
            "%s: disagrees about the version of symbol %s@%s: module has hash 0x%016llx, core has 0x%016llx",
            module.name, symbol.name, symbol.version, (unsigned long long)hash, (unsigned long long)entry->hash);
        if (!context.force)
            return Err(Error::EINVAL);
        log_warn("%s (forced)", context.error->message);
        context.forced_something = true;
    }
    context.error->message[0] = '\0';
    return reinterpret_cast<uint64_t>(entry->address);
}

Result<uint64_t> resolve_from_module(ResolveContext& context, const ModuleImage::Symbol& symbol)
{
    Module& module = *context.module;
    for (size_t i = 0; i < module.dependency_count; i++) {
        Module* dependency = module.dependencies[i];
        const char* soname = dependency->image.soname();
        if (!soname || strcmp(soname, symbol.version_file) != 0)
            continue;
        auto address = module_export_address(*dependency, symbol.name, symbol.version);
        if (address.is_ok())
            return address;
        diagnose(
            context.error, "%s: %s does not export %s@%s", module.name, dependency->name, symbol.name, symbol.version);
        return Err(Error::ENOENT);
    }
    diagnose(context.error, "%s: %s@%s comes from %s, which is not among its dependencies", module.name, symbol.name,
        symbol.version, symbol.version_file);
    return Err(Error::ENOENT);
}

} // namespace

Result<uint64_t> module_export_address(const Module& module, const char* name, const char* node)
{
    auto index = module.image.find_defined_symbol(name);
    if (index.is_error())
        return Err(Error::ENOENT);
    ModuleImage::Symbol symbol = module.image.symbol(index.value());
    // Only symbols the module versioned (its version script) are exports;
    // its internals, entry points and parameter storage are not, even when
    // the version script lists them so they stay visible to the loader.
    if (!symbol.version || (node && strcmp(symbol.version, node) != 0) || symbol.bind == elf::STB_LOCAL
        || strncmp(name, "keel_module_", 12) == 0 || strncmp(name, "keel_param_", 11) == 0)
        return Err(Error::ENOENT);
    return reinterpret_cast<uint64_t>(module.base) + symbol.value;
}

Result<uint64_t> resolve_import(void* opaque, const ModuleImage::Symbol& symbol, uint32_t, Diagnostic& diagnostic)
{
    auto& context = *static_cast<ResolveContext*>(opaque);
    if (!symbol.version || !symbol.version_file) {
        if (symbol.bind == elf::STB_WEAK)
            return uint64_t(0); // an unversioned weak reference stays null
        diagnose(context.error, "%s: import %s has no version node (link against the SDK's libkeel.so)",
            context.module->name, symbol.name);
        format(diagnostic.message, sizeof(diagnostic.message), "%s", context.error->message);
        return Err(Error::ENOEXEC);
    }
    if (strcmp(symbol.version_file, "libkeel.so") == 0)
        return resolve_from_core(context, symbol, diagnostic);
    auto address = resolve_from_module(context, symbol);
    if (address.is_error())
        format(diagnostic.message, sizeof(diagnostic.message), "%s", context.error->message);
    return address;
}

} // namespace keel
