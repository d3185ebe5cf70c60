// kmodinfo: what the console's `modinfo` prints, for a .kmod on the host
// (loader/commands.cpp print_modinfo), and `--check-against CORE.elf`: would
// this core resolve every import (name, version node, hash) of the module?
// The same questions the loader asks in loader/resolve.cpp, answered with
// the same words, without booting.
//
// The module is read by the kernel's own code: the signature trailer by
// lib/crypto, the ELF image by lib/elf's ModuleImage, the validator the
// loader runs first, so a module the loader would refuse as malformed is
// refused here with the loader's reason. The core's export table is the
// constinit object keel::g_kabi_core_table in the core's ELF (core/lib/kabi/
// kabi_table.h): found through .symtab, its pointers followed through the
// PT_LOAD segments (docs/sdk.md, "Checking a module against a core").
#include "elf_file.h"
#include "tool.h"
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

// After the C and C++ library headers: lib/errno.h takes the E* macros away.
#include "lib/crypto/module_signature.h"
#include "lib/elf/module_image.h"

using namespace keel;
using namespace keel::tools;

namespace {

const char* const kUsage
    = "usage: kmodinfo MODULE.kmod\n"
      "       kmodinfo --check-against CORE.elf MODULE.kmod\n"
      "The first prints what the console's `modinfo` prints; the second tells whether CORE resolves every\n"
      "import of MODULE (name, version node, hash) as its loader would: exit 0 yes, 1 no or error.\n";

std::string hex64(uint64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(value));
    return text;
}

struct Import {
    std::string name;
    std::string node; // empty: unversioned
    std::string file; // the vernaux's library: libkeel.so or a module's soname
    bool weak = false;
    bool has_hash = false;
    uint64_t hash = 0; // recorded in .keel_kabi
};

// A module's metadata and imports, as the loader's parser reads them.
struct ModuleInfo {
    std::string name;
    std::vector<std::pair<std::string, std::string>> modinfo; // key, value in file order
    std::vector<std::string> needed;
    std::vector<Import> imports;
};

ModuleInfo read_module(const std::string& path, const uint8_t* image, size_t size)
{
    Diagnostic diagnostic;
    auto parsed = ModuleImage::parse(image, size, diagnostic);
    if (parsed.is_error())
        fail(path + ": " + diagnostic.message);
    const ModuleImage& module = parsed.value();
    ModuleInfo info;
    info.name = module.name();
    module.for_each_modinfo([&](const ModuleImage::ModinfoEntry& entry) {
        info.modinfo.emplace_back(std::string(entry.key, entry.key_length), entry.value);
    });
    module.for_each_needed([&](const char* needed) { info.needed.push_back(needed); });
    for (uint32_t i = 1; i < module.symbol_count(); i++) {
        ModuleImage::Symbol symbol = module.symbol(i);
        if (symbol.defined)
            continue;
        Import import;
        import.name = symbol.name;
        import.weak = symbol.bind == elf::STB_WEAK;
        if (symbol.version) {
            import.node = symbol.version;
            import.file = symbol.version_file;
            ModuleImage::KabiEntry entry;
            if (module.find_kabi_entry(symbol.name, symbol.version, entry)) {
                import.has_hash = true;
                import.hash = entry.hash;
            }
        }
        info.imports.push_back(import);
    }
    return info;
}

// The signature trailer, through the kernel's parser; returns the length of
// the ELF image before it.
size_t describe_signature(const std::vector<uint8_t>& file, std::string& status, std::string& signer)
{
    Diagnostic diagnostic {};
    auto trailer = parse_signature_trailer(file.data(), file.size(), &diagnostic);
    if (trailer.is_error()) {
        if (trailer.error() != Error::ENODATA)
            fail(std::string("damaged signature trailer: ") + diagnostic.message);
        status = "unsigned";
        return file.size();
    }
    // Whether the key is trusted depends on the kernel's keyrings; the host
    // can only say who signed (kmod-sign verify checks against a key).
    status = std::to_string(trailer.value().record_count) + " signature(s), not verified here";
    for (size_t i = 0; i < trailer.value().record_count; i++) {
        const SignatureRecord& record = trailer.value().records[i];
        char id[key_id_text_size];
        format_key_id(record.key_id, id);
        signer += std::string(signer.empty() ? "key " : ", key ") + id;
        if (record.supported)
            signer += std::string(" (Ed25519, ") + image_digest_name(record.digest_algorithm) + " image digest)";
    }
    return trailer.value().image_length;
}

void print_field(const std::string& label, const std::string& value)
{
    printf("%-16s%s\n", printable(label).c_str(), printable(value).c_str());
}

void print_modinfo(
    const ModuleInfo& info, const std::string& path, const std::string& signature, const std::string& signer)
{
    print_field("filename:", path);
    for (const auto& [key, value] : info.modinfo) {
        if (key == "parm") {
            // NAME:TYPE:DESCRIPTION -> "parm: NAME:DESCRIPTION (TYPE)", as Linux.
            size_t type = value.find(':');
            size_t description = type == std::string::npos ? type : value.find(':', type + 1);
            if (description != std::string::npos)
                print_field("parm:",
                    value.substr(0, type) + ":" + value.substr(description + 1) + " ("
                        + value.substr(type + 1, description - type - 1) + ")");
            else
                print_field("parm:", value);
            continue;
        }
        print_field(key + ":", value);
    }
    std::string depends;
    for (const std::string& needed : info.needed)
        if (needed != "libkeel.so")
            depends += (depends.empty() ? "" : ",") + needed;
    print_field("depends:", depends);
    print_field("signature:", signature);
    if (!signer.empty())
        print_field("signer:", signer);
    std::string nodes;
    std::vector<std::string> seen;
    for (const Import& import : info.imports) {
        if (import.node.empty() || std::find(seen.begin(), seen.end(), import.node) != seen.end())
            continue;
        seen.push_back(import.node);
        nodes += (nodes.empty() ? "" : " ") + import.node;
    }
    print_field("requires:", nodes);
    for (const Import& import : info.imports) {
        if (import.has_hash)
            print_field("import:", import.name + "@" + import.node + " " + hex64(import.hash));
        else
            print_field("import:", import.name + "@" + (import.node.empty() ? "?" : import.node) + " (no hash)");
    }
}

// The core's export table, read from its ELF image.
struct CoreExport {
    std::string name;
    std::string node;
    uint64_t hash;
};

// Every export of the core in `elf`: the table its g_kabi_core_table
// points to (core/lib/kabi/kabi_table.h: KabiTable begins with the export
// array and its count; each KabiExport with name, node and hash).
std::vector<CoreExport> core_exports(const ElfFile& elf)
{
    uint64_t table = elf.symbol_value("_ZN4keel17g_kabi_core_tableE");
    const uint8_t* fields = elf.at_address(table, 48, "g_kabi_core_table");
    auto u64 = [](const uint8_t* bytes) {
        uint64_t value;
        memcpy(&value, bytes, sizeof(value));
        return value;
    };
    uint64_t array = u64(fields);
    uint64_t count = u64(fields + 8);
    if (count > (1u << 20))
        elf.error("g_kabi_core_table: export_count " + std::to_string(count) + " is implausible");
    const uint8_t* entries = elf.at_address(array, count * 40, "the export array");
    std::vector<CoreExport> result;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t* entry = entries + i * 40;
        result.push_back({ elf.string_at_address(u64(entry), "an export's name"),
            elf.string_at_address(u64(entry + 8), "an export's node"), u64(entry + 16) });
    }
    return result;
}

// loader/resolve.cpp's questions, in its words. Returns the number of
// imports the core would refuse.
int check_against(const ModuleInfo& info, const std::vector<CoreExport>& core, const std::string& core_path)
{
    std::string name = printable(info.name);
    int refused = 0;
    for (const Import& import : info.imports) {
        std::string label = printable(import.name + "@" + (import.node.empty() ? "?" : import.node));
        if (import.node.empty()) {
            if (import.weak) {
                printf("ok       %s (unversioned weak: stays null)\n", printable(import.name).c_str());
                continue;
            }
            printf("refused  %s: import %s has no version node (link against the SDK's libkeel.so)\n", name.c_str(),
                printable(import.name).c_str());
            refused++;
            continue;
        }
        if (import.file != "libkeel.so") {
            printf("module   %s (from %s: resolved against that module when loaded)\n", label.c_str(),
                printable(import.file).c_str());
            continue;
        }
        const CoreExport* match = nullptr;
        std::string offered;
        for (const CoreExport& entry : core) {
            if (entry.name != import.name)
                continue;
            offered += (offered.empty() ? "" : ", ") + entry.node;
            if (entry.node == import.node)
                match = &entry;
        }
        if (!match) {
            if (!offered.empty())
                printf("refused  %s: needs %s, but this core provides it only at %s\n", name.c_str(), label.c_str(),
                    printable(offered).c_str());
            else
                printf("refused  %s: unknown symbol %s (the core has no such export)\n", name.c_str(), label.c_str());
            refused++;
            continue;
        }
        if (!import.has_hash) {
            printf("refused  %s: no hash recorded for %s (was the module processed by kmodpost?)\n", name.c_str(),
                label.c_str());
            refused++;
        } else if (import.hash != match->hash) {
            printf("refused  %s: disagrees about the version of symbol %s: module has hash %s, core has %s\n",
                name.c_str(), label.c_str(), hex64(import.hash).c_str(), hex64(match->hash).c_str());
            refused++;
        } else {
            printf("ok       %s %s\n", label.c_str(), hex64(import.hash).c_str());
        }
    }
    if (refused)
        printf("%s: REFUSED by %s: %d import(s) unresolved\n", name.c_str(), core_path.c_str(), refused);
    else
        printf("%s: loads on %s: every import resolves\n", name.c_str(), core_path.c_str());
    return refused;
}

} // namespace

int main(int argc, char** argv)
{
    return run_tool("kmodinfo", kUsage, [&] {
        std::vector<std::string> arguments(argv + 1, argv + argc);
        if (arguments.size() == 1 && (arguments[0] == "-h" || arguments[0] == "--help"))
            show_help();
        std::string core_path;
        if (arguments.size() == 3 && arguments[0] == "--check-against") {
            core_path = arguments[1];
            arguments.erase(arguments.begin(), arguments.begin() + 2);
        }
        if (arguments.size() != 1 || arguments[0].empty() || arguments[0][0] == '-')
            usage_error();
        const std::string& path = arguments[0];
        std::vector<uint8_t> file = read_file(path);
        std::string signature;
        std::string signer;
        size_t image_length = describe_signature(file, signature, signer);
        ModuleInfo info = read_module(path, file.data(), image_length);
        if (core_path.empty()) {
            print_modinfo(info, path, signature, signer);
            return 0;
        }
        std::vector<uint8_t> core = read_file(core_path);
        std::vector<CoreExport> exports = core_exports(ElfFile(core_path, core.data(), core.size()));
        return check_against(info, exports, core_path) ? 1 : 0;
    });
}
