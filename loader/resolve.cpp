// Import resolution: every undefined symbol a module uses names a version
// node (GNU symbol versioning). Imports from libkeel.so come from the
// core's export table, looked up by hash; imports from another module's
// soname come from that module's exports. The hash the module's SDK had
// for the symbol (its .keel_kabi table) must equal the core's.
#include "lib/base/string.h"
#include "lib/kabi/module_check.h"
#include "loader/core_exports.h"
#include "loader/internal.h"
#include "log/log.h"

namespace keel {

namespace {

Result<uint64_t> resolve_from_core(ResolveContext& context, const ModuleImage::Symbol& symbol)
{
    Module& module = *context.module;
    bool forcible = false;
    // The questions and their words are shared with kmodinfo --check-against.
    auto entry = check_core_import(
        module.image, symbol, kabi_core_table(), forcible, { context.error->message, sizeof(context.error->message) });
    if (entry.is_error()) {
        if (!forcible || !context.force)
            return Err(entry.error());
        log_warn("%s (forced)", context.error->message);
        context.forced_something = true;
        const KabiExport* forced = kabi_find(symbol.name, symbol.version);
        context.error->message[0] = '\0';
        return reinterpret_cast<uint64_t>(forced->address);
    }
    context.error->message[0] = '\0';
    return reinterpret_cast<uint64_t>(entry.value()->address);
}

Result<uint64_t> resolve_from_module(ResolveContext& context, const ModuleImage::Symbol& symbol)
{
    Module& module = *context.module;
    for (size_t i = 0; i < module.dependency_count; i++) {
        Module* dependency = module.dependencies[i];
        const char* soname = dependency->image.soname();
        if (!soname || strcmp(soname, symbol.version_file) != 0)
            continue;
        bool forcible = false;
        bool warning = false;
        auto offset = check_module_import(module.image, symbol, dependency->image, forcible, warning,
            { context.error->message, sizeof(context.error->message) });
        if (offset.is_error()) {
            if (!forcible || !context.force)
                return Err(offset.error());
            log_warn("%s (forced)", context.error->message);
            context.forced_something = true;
            context.error->message[0] = '\0';
            return module_export_address(*dependency, symbol.name, symbol.version);
        }
        if (warning && !(context.unchecked_logged & (1u << i))) {
            context.unchecked_logged |= 1u << i;
            log_warn("%s (the first such import from %s; the others are not listed)", context.error->message,
                dependency->name);
        }
        context.error->message[0] = '\0';
        return reinterpret_cast<uint64_t>(dependency->base) + offset.value();
    }
    diagnose(context.error, "%s: %s@%s comes from %s, which is not among its dependencies", module.name, symbol.name,
        symbol.version, symbol.version_file);
    return Err(Error::ENOENT);
}

} // namespace

Result<uint64_t> module_export_address(const Module& module, const char* name, const char* node)
{
    uint64_t offset = TRY(module_export_offset(module.image, name, node));
    return reinterpret_cast<uint64_t>(module.base) + offset;
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
    auto address = strcmp(symbol.version_file, "libkeel.so") == 0 ? resolve_from_core(context, symbol)
                                                                  : resolve_from_module(context, symbol);
    if (address.is_error())
        format(diagnostic.message, sizeof(diagnostic.message), "%s", context.error->message);
    return address;
}

} // namespace keel
