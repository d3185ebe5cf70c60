// Typed module parameters: `insmod foo bar=1 name="a b"`. Each parameter is
// declared in modinfo as `parm=NAME:TYPE:DESCRIPTION` and stored in the
// module's exported data symbol `keel_param_NAME` (docs/module-format.md).
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "loader/internal.h"

namespace keel {

namespace {

struct ParamDeclaration {
    char type[8];
    bool found;
};

// Find `parm=NAME:TYPE:...` for `name`.
ParamDeclaration find_declaration(const ModuleImage& image, const char* name)
{
    ParamDeclaration declaration {};
    size_t name_length = strlen(name);
    image.for_each_modinfo([&](const ModuleImage::ModinfoEntry& entry) {
        const char* value = entry.value;
        if (declaration.found || entry.key_length != 4 || strncmp(entry.key, "parm", 4) != 0)
            return;
        const char* colon = strchr(value, ':');
        if (!colon || size_t(colon - value) != name_length || !param_name_equal(value, name_length, name, name_length))
            return;
        const char* type = colon + 1;
        const char* end = strchr(type, ':');
        size_t type_length = end ? size_t(end - type) : strlen(type);
        if (type_length >= sizeof(declaration.type))
            return;
        memcpy(declaration.type, type, type_length);
        declaration.type[type_length] = '\0';
        declaration.found = true;
    });
    return declaration;
}

Result<void> store(Module& module, const CmdlineParam& param, const ParamDeclaration& declaration, Diagnostic& error)
{
    // The storage is named as declared: a key typed with '-' where the
    // declaration has '_' (param_name_equal takes them as one) still
    // finds it.
    char symbol_name[96];
    constexpr size_t kPrefix = sizeof("keel_param_") - 1;
    size_t written = format(symbol_name, sizeof(symbol_name), "keel_param_%s", param.key);
    for (size_t i = kPrefix; i < written && i < sizeof(symbol_name); i++) {
        if (symbol_name[i] == '-')
            symbol_name[i] = '_';
    }
    auto index = module.image.find_defined_symbol(symbol_name);
    if (index.is_error()) {
        return error.fail(Error::ENOEXEC, "%s: parameter %s is declared but has no storage (%s)", module.name,
            param.key, symbol_name);
    }
    ModuleImage::Symbol symbol = module.image.symbol(index.value());
    uint8_t* storage = module.base + symbol.value;
    const char* value = param.has_value ? param.value : "";
    size_t length = param.has_value ? param.value_len : 0;

    auto invalid = [&](const char* why) {
        return error.fail(Error::EINVAL, "%s: invalid value '%s' for parameter %s (%s): %s", module.name, value,
            param.key, declaration.type, why);
    };
    if (strcmp(declaration.type, "bool") == 0) {
        // A bare flag means true, as for Linux's bool parameters.
        bool result = true;
        if (param.has_value) {
            auto parsed = parse_bool(value, length);
            if (parsed.is_error())
                return invalid("expected y/n, 1/0, on/off or true/false");
            result = parsed.value();
        }
        if (symbol.size < 1)
            return invalid("storage too small");
        *storage = result ? 1 : 0;
    } else if (strcmp(declaration.type, "int") == 0) {
        auto parsed = parse_int(value, length);
        if (!param.has_value || parsed.is_error())
            return invalid(
                parsed.is_error() && parsed.error() == Error::ERANGE ? "out of range" : "expected an integer");
        if (symbol.size != 8)
            return invalid("storage is not 8 bytes");
        int64_t number = parsed.value();
        memcpy(storage, &number, 8);
    } else if (strcmp(declaration.type, "uint") == 0) {
        auto parsed = parse_uint(value, length);
        if (!param.has_value || parsed.is_error())
            return invalid(
                parsed.is_error() && parsed.error() == Error::ERANGE ? "out of range" : "expected an unsigned integer");
        if (symbol.size != 8)
            return invalid("storage is not 8 bytes");
        uint64_t number = parsed.value();
        memcpy(storage, &number, 8);
    } else if (strcmp(declaration.type, "string") == 0) {
        if (!param.has_value)
            return invalid("needs a value");
        if (length + 1 > symbol.size)
            return invalid("longer than the module's buffer");
        memcpy(storage, value, length);
        storage[length] = '\0';
    } else {
        return error.fail(
            Error::ENOEXEC, "%s: parameter %s has unknown type '%s'", module.name, param.key, declaration.type);
    }
    return {};
}

} // namespace

Result<void> apply_module_parameters(Module& module, const char* parameters, Diagnostic& error)
{
    if (!parameters || !parameters[0])
        return {};
    char buffer[512];
    if (strlen(parameters) >= sizeof(buffer)) {
        return error.fail(Error::E2BIG, "%s: parameters longer than %zu bytes", module.name, sizeof(buffer) - 1);
    }
    format(buffer, sizeof(buffer), "%s", parameters);
    CmdlineParser parser(buffer);
    CmdlineParam param;
    while (parser.next(param)) {
        ParamDeclaration declaration = find_declaration(module.image, param.key);
        if (!declaration.found) {
            return error.fail(Error::ENOENT, "%s: unknown parameter '%s'", module.name, param.key);
        }
        TRY(store(module, param, declaration, error));
    }
    return {};
}

} // namespace keel
