// Console commands: insmod, rmmod, lsmod, modinfo.
#include "console/console.h"
#include "debug/taint.h"
#include "lib/base/string.h"
#include "lib/devmatch/device_table.h"
#include "loader/internal.h"
#include "loader/signature.h"
#include "log/log.h"
#include "mm/heap.h"

namespace keel {

namespace {

// Re-join console words into a parameter string, quoting values with spaces.
void join_parameters(int argc, char** argv, int first, char* out, size_t size)
{
    size_t length = 0;
    out[0] = '\0';
    for (int i = first; i < argc && length < size; i++) {
        const char* word = argv[i];
        const char* equals = strchr(word, '=');
        bool quote = equals && strchr(equals, ' ');
        if (quote)
            length += format(out + length, size - length, "%s%.*s\"%s\"", length ? " " : "", int(equals - word + 1),
                word, equals + 1);
        else
            length += format(out + length, size - length, "%s%s", length ? " " : "", word);
    }
}

int insmod_command(int argc, char** argv)
{
    if (argc < 2) {
        console_print("usage: insmod [-f] NAME|PATH [param=value ...]\n");
        return 1;
    }
    LoadOptions options;
    int first = 1;
    if (strcmp(argv[1], "-f") == 0) {
        options.force = true;
        first = 2;
    }
    if (first >= argc) {
        console_print("usage: insmod [-f] NAME|PATH [param=value ...]\n");
        return 1;
    }
    char parameters[512];
    join_parameters(argc, argv, first + 1, parameters, sizeof(parameters));
    options.parameters = parameters;
    Diagnostic error;
    auto module = load_module(argv[first], options, error);
    if (module.is_error()) {
        console_print(
            "insmod: ERROR: could not insert '%s': %s (%s)\n", argv[first], error.message, error_name(module.error()));
        log_err("insmod: %s", error.message);
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(
    insmod, "insmod", "[-f] NAME|PATH [param=value ...]", "load a module and what it needs", insmod_command);

int rmmod_command(int argc, char** argv)
{
    if (argc != 2) {
        console_print("usage: rmmod NAME\n");
        return 1;
    }
    Diagnostic error;
    auto result = unload_module(argv[1], error);
    if (result.is_error()) {
        console_print(
            "rmmod: ERROR: could not remove '%s': %s (%s)\n", argv[1], error.message, error_name(result.error()));
        return 1;
    }
    return 0;
}
KEEL_CONSOLE_COMMAND(rmmod, "rmmod", "NAME", "unload a module", rmmod_command);

void taint_letters(const Module& module, char* out)
{
    size_t n = 0;
    if (module.taint_letters & (1u << unsigned(Taint::ForcedModule)))
        out[n++] = 'F';
    if (module.taint_letters & (1u << unsigned(Taint::OutOfTree)))
        out[n++] = 'O';
    if (module.taint_letters & (1u << unsigned(Taint::UnsignedModule)))
        out[n++] = 'E';
    out[n] = '\0';
}

struct ListOptions {
    bool timings;
};

// Called by for_each_module, which holds the registry lock.
void print_module_line(const Module& module, void* context) REQUIRES(g_module_registry_lock)
{
    auto* options = static_cast<ListOptions*>(context);
    // /proc/modules: name size refcount users state address (taint)
    char users[128] = "";
    size_t length = 0;
    for (Module& other : module_list()) {
        for (size_t i = 0; i < other.dependency_count; i++) {
            if (other.dependencies[i] == &module && length < sizeof(users))
                length += format(users + length, sizeof(users) - length, "%s,", other.name);
        }
    }
    char letters[8];
    taint_letters(module, letters);
    console_print("%s %zu %u %s %s 0x%016llx", module.name, module.span,
        module.users + module.symbol_refs + module.pins.pins(), length ? users : "-", module_state_name(module.state),
        (unsigned long long)(uintptr_t)module.base);
    if (letters[0])
        console_print(" (%s)", letters);
    if (options->timings) {
        const ModuleTimings& t = module.timings;
        console_print("  read %llu verify %llu parse %llu map %llu relocate %llu init %llu total %llu us",
            (unsigned long long)t.read_us, (unsigned long long)t.verify_us, (unsigned long long)t.parse_us,
            (unsigned long long)t.map_us, (unsigned long long)t.relocate_us, (unsigned long long)t.init_us,
            (unsigned long long)t.total_us);
    }
    console_print("\n");
}

int lsmod_command(int argc, char** argv)
{
    ListOptions options { argc > 1 && strcmp(argv[1], "-t") == 0 };
    if (argc > 2 || (argc == 2 && !options.timings)) {
        console_print("usage: lsmod [-t]\n");
        return 1;
    }
    for_each_module(print_module_line, &options);
    char taint[48];
    console_print("kernel: %s\n", taint_description(taint, sizeof(taint)));
    return 0;
}
KEEL_CONSOLE_COMMAND(lsmod, "lsmod", "[-t]", "loaded modules (/proc/modules columns; -t: load timings)", lsmod_command);

void print_modinfo(const ModuleImage& image, const char* filename, const SignatureInfo& signature)
{
    console_print("%-16s%s\n", "filename:", filename);
    image.for_each_modinfo([&](const ModuleImage::ModinfoEntry& entry) {
        const char* value = entry.value;
        if (entry.key_length == 4 && strncmp(entry.key, "parm", 4) == 0) {
            // NAME:TYPE:DESCRIPTION -> "parm: NAME:DESCRIPTION (TYPE)", as Linux.
            const char* type = strchr(value, ':');
            const char* description = type ? strchr(type + 1, ':') : nullptr;
            if (type && description)
                console_print("%-16s%.*s:%s (%.*s)\n", "parm:", int(type - value), value, description + 1,
                    int(description - type - 1), type + 1);
            else
                console_print("%-16s%s\n", "parm:", value);
            return;
        }
        char label[32];
        format(label, sizeof(label), "%.*s:", int(entry.key_length), entry.key);
        console_print("%-16s%s\n", label, value);
    });
    // One Linux-format alias per entry of the module's match tables.
    if (image.device_table()) {
        devmatch::for_each_alias(image.device_table(), image.device_table_size(),
            [](const char* alias) { console_print("%-16s%s\n", "alias:", alias); });
    }
    char depends[160] = "";
    size_t length = 0;
    image.for_each_needed([&](const char* needed) {
        if (strcmp(needed, "libkeel.so") != 0 && length < sizeof(depends))
            length += format(depends + length, sizeof(depends) - length, "%s%s", length ? "," : "", needed);
    });
    console_print("%-16s%s\n", "depends:", depends);
    console_print("%-16s%s\n", "signature:", signature.status);
    if (signature.signer[0])
        console_print("%-16s%s\n", "signer:", signature.signer);
    // Required version nodes, then every import with the hash it was built with.
    char nodes[256] = "";
    size_t nodes_length = 0;
    for (uint32_t i = 1; i < image.symbol_count(); i++) {
        ModuleImage::Symbol symbol = image.symbol(i);
        if (symbol.defined || !symbol.version)
            continue;
        char needle[80];
        format(needle, sizeof(needle), "%s", symbol.version);
        bool seen = false;
        for (const char* p = nodes; *p && !seen; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : "") {
            size_t n = strlen(needle);
            seen = strncmp(p, needle, n) == 0 && (p[n] == ' ' || p[n] == '\0');
        }
        if (!seen && nodes_length < sizeof(nodes))
            nodes_length += format(
                nodes + nodes_length, sizeof(nodes) - nodes_length, "%s%s", nodes_length ? " " : "", symbol.version);
    }
    console_print("%-16s%s\n", "requires:", nodes);
    for (uint32_t i = 1; i < image.symbol_count(); i++) {
        ModuleImage::Symbol symbol = image.symbol(i);
        if (symbol.defined)
            continue;
        ModuleImage::KabiEntry entry;
        if (symbol.version && image.find_kabi_entry(symbol.name, symbol.version, entry))
            console_print(
                "%-16s%s@%s 0x%016llx\n", "import:", symbol.name, symbol.version, (unsigned long long)entry.hash);
        else
            console_print("%-16s%s@%s (no hash)\n", "import:", symbol.name, symbol.version ? symbol.version : "?");
    }
}

int modinfo_command(int argc, char** argv)
{
    if (argc != 2) {
        console_print("usage: modinfo NAME|PATH\n");
        return 1;
    }
    char path[256];
    module_path_for(argv[1], path, sizeof(path));
    MutexGuard guard(g_module_registry_lock);
    if (Module* loaded = strchr(argv[1], '/') ? nullptr : find_module(argv[1])) {
        SignatureInfo signature = describe_signature(loaded->file, loaded->file_size);
        print_modinfo(loaded->image, path, signature);
        return 0;
    }
    Diagnostic error;
    auto file = read_module(argv[1], path, sizeof(path), error);
    if (file.is_error()) {
        console_print("modinfo: ERROR: %s\n", error.message);
        return 1;
    }
    SignatureInfo signature = describe_signature(file.value().data, file.value().size);
    Diagnostic diagnostic;
    auto image = ModuleImage::parse(file.value().data, signature.image_length, diagnostic);
    if (image.is_error())
        console_print("modinfo: ERROR: %s: invalid module: %s\n", path, diagnostic.message);
    else
        print_modinfo(image.value(), path, signature);
    kfree(file.value().data);
    return image.is_ok() ? 0 : 1;
}
KEEL_CONSOLE_COMMAND(
    modinfo, "modinfo", "NAME|PATH", "module metadata, parameters, signature, imports", modinfo_command);

} // namespace

} // namespace keel
