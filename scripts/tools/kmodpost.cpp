// kmodpost: records, in a linked module, the hash the SDK had for each of
// its imports (like Linux's modpost does with modversions CRCs), and the
// hashes of the functions the module exports from its own interface
// description.
//
//     kmodpost --symvers keel.symvers [--symvers provider.symvers]
//              [--exports MODULE.symvers] [-o OUT] MODULE.kmod
//
// It reads the module's undefined dynamic symbols and the version node each
// was linked against (.dynsym, .gnu.version, .gnu.version_r, found through
// the section headers), looks every name@node up in the symvers files and
// appends the non-allocated section .keel_kabi (docs/module-format.md):
//
//     u32 version (1)   u32 count
//     count x { u64 hash; u32 name_offset; u32 node_offset }
//     string table
//
// With --exports (the symvers file keel-abi generates from the module's
// interface description) it also appends .keel_exports, the same layout
// for the module's own exports, each of which the module must define at
// that node. Declarations that symvers lines carry (a module interface's
// do) go into .keel_decls, so that a mismatch can name both of them.
// A module whose symbol table shows an entry point or parameter that a
// version script hid from the dynamic symbols is refused: the loader could
// not find it (docs/module-format.md).
//
// The section data, a new .shstrtab and a new section header table are
// appended at the end of the file; nothing allocated moves, so the loaded
// image is unchanged. Running it again replaces .keel_kabi (the old tail is
// cut off first, so the output is the same as after one run). Bytes after
// the ELF sections that kmodpost did not write (a signature, say) are an
// error: run kmodpost before kmod-sign.
//
// The module is untrusted input: every offset and size is checked against
// the file before use, and errors name the field and its value. Exit status
// 0 on success, 1 on an error, 2 on bad usage.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "elf_file.h"
#include "tool.h"

// After the C and C++ library headers: lib/errno.h takes the E* macros away.
#include "lib/elf/module_image.h"

using namespace keel::tools;
using namespace keel::elf;

namespace {

constexpr uint32_t kKabiVersion = 1;
constexpr uint32_t kDeclsVersion = 1;
constexpr const char* kKabiName = ".keel_kabi";
constexpr const char* kExportsName = ".keel_exports";
constexpr const char* kDeclsName = ".keel_decls";
// Every section kmodpost writes; it replaces all of them on each run.
constexpr const char* kOwnSections[] = { kKabiName, kExportsName, kDeclsName };

const char* const kUsage
    = "usage: kmodpost --symvers FILE [--symvers FILE ...] [--exports MODULE.symvers] [-o OUTPUT] MODULE.kmod\n";

using Section = std::pair<std::string, std::vector<uint8_t>>;

bool own_section(const std::string& name)
{
    return std::any_of(std::begin(kOwnSections), std::end(kOwnSections), [&](const char* own) { return name == own; });
}

template<typename T> void write_le(std::vector<uint8_t>& bytes, uint64_t offset, T value)
{
    for (size_t i = 0; i < sizeof(T); ++i)
        bytes[offset + i] = uint8_t(uint64_t(value) >> (8 * i));
}

template<typename T> void append_le(std::vector<uint8_t>& bytes, T value)
{
    bytes.resize(bytes.size() + sizeof(T));
    write_le(bytes, bytes.size() - sizeof(T), value);
}

struct SymversEntry {
    uint64_t hash;
    std::string where;       // file:line, for messages
    std::string declaration; // canonical declaration, when the line has one
};

// (name, node) -> hash, with where each came from for error messages.
struct Symvers {
    std::map<std::pair<std::string, std::string>, SymversEntry> entries;

    void load(const std::string& path)
    {
        std::vector<uint8_t> text = read_file(path);
        std::istringstream file(std::string(text.begin(), text.end()));
        std::string line;
        for (size_t number = 1; std::getline(file, line); ++number) {
            std::string where = path + ":" + std::to_string(number);
            std::istringstream fields(line);
            std::string hash_text, name, node;
            if (!(fields >> hash_text) || hash_text[0] == '#')
                continue;
            if (!(fields >> name >> node))
                fail(where + ": expected '0x<hash> <name> <node> [<declaration>]', got '" + line + "'");
            // The rest of the line, if any, is the canonical declaration.
            std::string declaration;
            std::getline(fields >> std::ws, declaration);
            if (!declaration.empty() && declaration.compare(0, 9, "function ") != 0)
                fail(where + ": '" + declaration + "' is not a canonical declaration (function NAME(...)->TYPE)");
            if (hash_text.size() != 18 || hash_text.compare(0, 2, "0x") != 0
                || hash_text.find_first_not_of("0123456789abcdefABCDEF", 2) != std::string::npos)
                fail(where + ": hash '" + hash_text + "' is not 0x and 16 hex digits");
            uint64_t hash = std::stoull(hash_text.substr(2), nullptr, 16);
            auto key = std::make_pair(name, node);
            auto found = entries.find(key);
            if (found != entries.end() && found->second.hash != hash)
                fail(where + ": " + name + "@" + node + " has hash " + hex(hash) + " but " + found->second.where
                    + " says " + hex(found->second.hash));
            entries[key] = { hash, where, declaration };
        }
    }
};

// A linked module: its imports, and the same file with a new .keel_kabi.
class Module {
public:
    // `bytes` must outlive the Module.
    Module(const std::string& path, const std::vector<uint8_t>& bytes)
        : m_elf(path, bytes.data(), bytes.size())
    {
        if (m_elf.header().e_type != ET_DYN)
            m_elf.error("e_type " + std::to_string(m_elf.header().e_type) + " is not ET_DYN");
        const std::vector<Shdr>& sections = m_elf.sections();
        // kmodpost appends its sections last; an earlier run's are replaced.
        m_first_own = sections.size();
        while (m_first_own > 1 && own_section(m_elf.section_name(m_first_own - 1)))
            --m_first_own;
        for (size_t index = 1; index < m_first_own; ++index) {
            if (own_section(m_elf.section_name(index)))
                m_elf.error("section " + std::to_string(index) + " (" + m_elf.section_name(index)
                    + ") is not among the last sections, where kmodpost puts it");
        }
        if (m_elf.names_index() >= m_first_own)
            m_elf.error("e_shstrndx " + std::to_string(m_elf.names_index()) + " names a section kmodpost writes");
    }

    // Entry points and parameter storage the module defines (its .symtab
    // says so) but does not export: a version script's `local: *;` hid
    // them, and the loader would never find them. A stripped module has no
    // .symtab and is not checked here; the loader checks what modinfo
    // promises.
    void check_entry_points() const
    {
        std::optional<size_t> symtab = m_elf.unique_section(SHT_SYMTAB, "SHT_SYMTAB");
        std::optional<size_t> dynsym = m_elf.unique_section(SHT_DYNSYM, "SHT_DYNSYM");
        if (!symtab || !dynsym)
            return;
        auto defined_names = [&](size_t index, bool global_only) {
            const Shdr& table = m_elf.sections()[index];
            const Shdr& strings = m_elf.string_table(table.sh_link, m_elf.section_name(index) + " sh_link");
            std::vector<std::string> names;
            size_t count = m_elf.symbol_count(table, m_elf.section_name(index));
            for (size_t i = 1; i < count; ++i) {
                Sym symbol = m_elf.symbol(table, i);
                if (symbol.st_shndx == SHN_UNDEF || (global_only && symbol_bind(symbol.st_info) == STB_LOCAL))
                    continue;
                names.push_back(m_elf.string_at(strings, symbol.st_name, "symbol " + std::to_string(i) + " st_name"));
            }
            return names;
        };
        std::vector<std::string> exported = defined_names(*dynsym, true);
        std::vector<std::string> hidden;
        for (const std::string& name : defined_names(*symtab, false)) {
            bool entry = name == "keel_module_init" || name == "keel_module_exit" || name.rfind("keel_param_", 0) == 0;
            if (entry && std::find(exported.begin(), exported.end(), name) == exported.end()
                && std::find(hidden.begin(), hidden.end(), name) == hidden.end())
                hidden.push_back(name);
        }
        if (hidden.empty())
            return;
        std::string names;
        for (const std::string& name : hidden)
            names += (names.empty() ? "" : ", ") + name;
        fail(m_elf.path() + ": " + names + (hidden.size() == 1 ? " is" : " are")
            + " defined but not exported: a version script hides " + (hidden.size() == 1 ? "it" : "them")
            + " (local: *;) and the loader would not find " + (hidden.size() == 1 ? "it" : "them")
            + ". List keel_module_init; keel_module_exit; keel_param_*; under global: in the first node of the "
              "version script (keel-abi version-script writes them)");
    }

    // name@node of every imported symbol, with the node its version names.
    std::vector<std::pair<std::string, std::string>> imports() const
    {
        std::optional<size_t> dynsym = m_elf.unique_section(SHT_DYNSYM, "SHT_DYNSYM");
        std::optional<size_t> versym = m_elf.unique_section(SHT_GNU_VERSYM, "SHT_GNU_versym");
        std::optional<size_t> verneed = m_elf.unique_section(SHT_GNU_VERNEED, "SHT_GNU_verneed");
        if (!dynsym)
            m_elf.error("no .dynsym section: not a linked module");
        const Shdr& symbols = m_elf.sections()[*dynsym];
        size_t count = m_elf.symbol_count(symbols, ".dynsym");
        const Shdr& strings = m_elf.string_table(symbols.sh_link, ".dynsym sh_link");

        std::map<uint16_t, ElfFile::VersionNeed> nodes;
        if (verneed)
            nodes = m_elf.version_needs(m_elf.sections()[*verneed]);
        std::vector<uint16_t> versions(count, 0);
        if (versym) {
            const Shdr& table = m_elf.sections()[*versym];
            if (table.sh_size != count * 2)
                m_elf.error(".gnu.version sh_size " + std::to_string(table.sh_size) + " does not match "
                    + std::to_string(count) + " dynamic symbols");
            for (size_t i = 0; i < count; ++i)
                versions[i] = m_elf.read<uint16_t>(table.sh_offset + 2 * i) & 0x7fff;
        }

        std::vector<std::pair<std::string, std::string>> result;
        std::vector<std::string> problems;
        for (size_t i = 1; i < count; ++i) {
            Sym symbol = m_elf.symbol(symbols, i);
            if (symbol.st_shndx != SHN_UNDEF)
                continue; // defined here
            std::string name
                = m_elf.string_at(strings, symbol.st_name, "dynamic symbol " + std::to_string(i) + " st_name");
            if (name.empty())
                continue;
            uint16_t version = versions[i];
            if (version < 2) {
                // A weak import nobody versions may stay unresolved (the
                // loader gives it 0); anything else must come from a stub.
                if (symbol_bind(symbol.st_info) != STB_WEAK)
                    problems.push_back(name
                        + ": imported without a version node (link against the SDK's libkeel.so"
                          " or the providing module)");
                continue;
            }
            auto node = nodes.find(version);
            if (node == nodes.end()) {
                problems.push_back(
                    name + ": .gnu.version index " + std::to_string(version) + " names no .gnu.version_r entry");
                continue;
            }
            result.emplace_back(name, node->second.node);
        }
        if (!problems.empty()) {
            std::string message;
            for (auto& problem : problems)
                message += (message.empty() ? "" : "\n") + m_elf.path() + ": " + problem;
            fail(message);
        }
        std::sort(result.begin(), result.end());
        result.erase(std::unique(result.begin(), result.end()), result.end());
        return result;
    }

    // The module with `own` (name, contents) as kmodpost's sections, after
    // every other section.
    std::vector<uint8_t> with_sections(const std::vector<Section>& own) const
    {
        const Ehdr& header = m_elf.header();
        const std::vector<Shdr>& old_sections = m_elf.sections();
        // Everything up to the end of the last section kmodpost does not
        // rewrite stays byte for byte; the tail (old section headers, old
        // .shstrtab, old .keel_kabi) is rebuilt.
        uint64_t keep = sizeof(Ehdr);
        if (header.e_phnum > 0)
            keep = std::max<uint64_t>(keep, header.e_phoff + uint64_t(header.e_phnum) * sizeof(Phdr));
        for (size_t index = 0; index < old_sections.size(); ++index) {
            const Shdr& section = old_sections[index];
            if (section.sh_type == SHT_NULL || section.sh_type == SHT_NOBITS || index == m_elf.names_index()
                || index >= m_first_own)
                continue;
            keep = std::max(keep, section.sh_offset + section.sh_size);
        }
        check_tail(keep);

        std::vector<uint8_t> out(m_elf.data(), m_elf.data() + keep);
        auto align = [&](size_t alignment) { out.resize((out.size() + alignment - 1) / alignment * alignment, 0); };

        const Shdr& old_names = old_sections[m_elf.names_index()];
        std::vector<uint8_t> names(
            m_elf.data() + old_names.sh_offset, m_elf.data() + old_names.sh_offset + old_names.sh_size);
        if (names.empty() || names.back() != 0)
            names.push_back(0);
        std::vector<Shdr> sections(old_sections.begin(), old_sections.begin() + m_first_own);
        for (const auto& [name, contents] : own) {
            align(8);
            uint64_t offset = out.size();
            out.insert(out.end(), contents.begin(), contents.end());
            // The name: reused when the table has it already (an earlier run's).
            uint32_t name_offset = uint32_t(names.size());
            std::string wanted = name + '\0';
            auto at = std::search(names.begin(), names.end(), wanted.begin(), wanted.end());
            if (at != names.end() && (at == names.begin() || *(at - 1) == 0))
                name_offset = uint32_t(at - names.begin());
            else
                names.insert(names.end(), wanted.begin(), wanted.end());
            sections.push_back(Shdr { name_offset, SHT_PROGBITS, 0, 0, offset, contents.size(), 0, 0, 8, 0 });
        }
        uint64_t names_offset = out.size();
        out.insert(out.end(), names.begin(), names.end());
        sections[m_elf.names_index()].sh_offset = names_offset;
        sections[m_elf.names_index()].sh_size = names.size();
        if (sections.size() >= SHN_LORESERVE)
            m_elf.error("too many sections (" + std::to_string(sections.size()) + ") to add kmodpost's");

        align(8);
        uint64_t headers_offset = out.size();
        for (const Shdr& section : sections) {
            append_le(out, section.sh_name);
            append_le(out, section.sh_type);
            append_le(out, section.sh_flags);
            append_le(out, section.sh_addr);
            append_le(out, section.sh_offset);
            append_le(out, section.sh_size);
            append_le(out, section.sh_link);
            append_le(out, section.sh_info);
            append_le(out, section.sh_addralign);
            append_le(out, section.sh_entsize);
        }
        write_le<uint64_t>(out, offsetof(Ehdr, e_shoff), headers_offset);
        write_le<uint16_t>(out, offsetof(Ehdr, e_shnum), uint16_t(sections.size()));
        return out;
    }

private:
    // Bytes past `keep` must be only what kmodpost rewrites (or the
    // linker's padding): anything else would be silently dropped.
    void check_tail(uint64_t keep) const
    {
        const std::vector<Shdr>& sections = m_elf.sections();
        auto span = [](const Shdr& section) {
            return std::make_pair(section.sh_offset, section.sh_offset + section.sh_size);
        };
        std::vector<std::pair<uint64_t, uint64_t>> known;
        known.emplace_back(m_elf.header().e_shoff, m_elf.header().e_shoff + sections.size() * sizeof(Shdr));
        known.push_back(span(sections[m_elf.names_index()]));
        for (size_t index = m_first_own; index < sections.size(); ++index)
            known.push_back(span(sections[index]));
        for (uint64_t at = keep; at < m_elf.size(); ++at) {
            bool covered = std::any_of(
                known.begin(), known.end(), [&](auto& range) { return at >= range.first && at < range.second; });
            if (!covered && m_elf.data()[at] != 0)
                m_elf.error("unexpected data at " + hex(at)
                    + " after the last section (a signature? run kmodpost before"
                      " kmod-sign)");
        }
    }

    ElfFile m_elf;
    size_t m_first_own = 0; // the first of the trailing sections kmodpost wrote
};

// A string table that stores each string once.
class Strings {
public:
    uint32_t intern(const std::string& text)
    {
        auto found = m_offsets.find(text);
        if (found != m_offsets.end())
            return found->second;
        uint32_t offset = uint32_t(m_bytes.size());
        m_bytes += text;
        m_bytes += '\0';
        m_offsets[text] = offset;
        return offset;
    }
    void append_to(std::vector<uint8_t>& section) const
    {
        section.insert(section.end(), m_bytes.begin(), m_bytes.end());
    }

private:
    std::string m_bytes;
    std::map<std::string, uint32_t> m_offsets;
};

// .keel_kabi (imports) and .keel_exports share one layout.
std::vector<uint8_t> build_hash_section(
    const std::vector<std::pair<std::string, std::string>>& symbols, const std::vector<uint64_t>& hashes)
{
    std::vector<uint8_t> section;
    append_le<uint32_t>(section, kKabiVersion);
    append_le<uint32_t>(section, uint32_t(symbols.size()));
    Strings strings;
    for (size_t i = 0; i < symbols.size(); ++i) {
        append_le<uint64_t>(section, hashes[i]);
        append_le<uint32_t>(section, strings.intern(symbols[i].first));
        append_le<uint32_t>(section, strings.intern(symbols[i].second));
    }
    strings.append_to(section);
    return section;
}

// .keel_decls: u32 version (1), u32 count, count x { u32 key ("name@node"),
// u32 declaration } as offsets into the string table that follows.
std::vector<uint8_t> build_declarations(const std::map<std::string, std::string>& declarations)
{
    std::vector<uint8_t> section;
    append_le<uint32_t>(section, kDeclsVersion);
    append_le<uint32_t>(section, uint32_t(declarations.size()));
    Strings strings;
    for (const auto& [key, declaration] : declarations) {
        append_le<uint32_t>(section, strings.intern(key));
        append_le<uint32_t>(section, strings.intern(declaration));
    }
    strings.append_to(section);
    return section;
}

// The module's own versioned exports, name@node, as the loader sees them.
std::vector<std::pair<std::string, std::string>> defined_exports(
    const std::string& path, const std::vector<uint8_t>& bytes)
{
    keel::Diagnostic diagnostic;
    auto image = keel::ModuleImage::parse(bytes.data(), bytes.size(), diagnostic);
    if (image.is_error())
        fail(path + ": " + diagnostic.message);
    std::vector<std::pair<std::string, std::string>> result;
    for (uint32_t i = 1; i < image.value().symbol_count(); ++i) {
        keel::ModuleImage::Symbol symbol = image.value().symbol(i);
        if (symbol.defined && !symbol.version_marker && symbol.version && symbol.bind != STB_LOCAL)
            result.emplace_back(symbol.name, symbol.version);
    }
    return result;
}

} // namespace

int main(int argc, char** argv)
{
    return run_tool("kmodpost", kUsage, [&] {
        std::vector<std::string> symvers_paths;
        std::string output, input, exports_path;
        for (int i = 1; i < argc; ++i) {
            std::string argument = argv[i];
            if (argument == "--symvers" && i + 1 < argc)
                symvers_paths.push_back(argv[++i]);
            else if (argument == "--exports" && i + 1 < argc)
                exports_path = argv[++i];
            else if (argument == "-o" && i + 1 < argc)
                output = argv[++i];
            else if (argument == "-h" || argument == "--help")
                show_help();
            else if (!argument.empty() && argument[0] != '-' && input.empty())
                input = argument;
            else
                usage_error();
        }
        if (input.empty() || symvers_paths.empty())
            usage_error();
        if (output.empty())
            output = input;

        Symvers symvers;
        for (auto& path : symvers_paths)
            symvers.load(path);
        std::vector<uint8_t> bytes = read_file(input);
        Module module(input, bytes);
        module.check_entry_points();
        auto imports = module.imports();
        std::vector<uint64_t> hashes;
        std::map<std::string, std::string> declarations;
        std::string missing;
        for (auto& [name, node] : imports) {
            auto found = symvers.entries.find({ name, node });
            if (found == symvers.entries.end()) {
                missing += (missing.empty() ? "" : "\n") + input + ": " + name + "@" + node
                    + ": not in any symvers file (unknown symbol or version node";
                // A symbol the SDK has at a newer node only: the module was
                // built against a newer keel.h than the stub it linked.
                const std::string& wanted = name;
                bool other_node = std::any_of(symvers.entries.begin(), symvers.entries.end(),
                    [&](const auto& entry) { return entry.first.first == wanted; });
                missing += other_node ? "; the symvers files have it at another node)" : ")";
                continue;
            }
            hashes.push_back(found->second.hash);
            if (!found->second.declaration.empty())
                declarations[name + "@" + node] = found->second.declaration;
        }
        if (!missing.empty())
            fail(missing);
        std::vector<Section> sections { { kKabiName, build_hash_section(imports, hashes) } };
        if (!exports_path.empty()) {
            Symvers exports;
            exports.load(exports_path);
            auto defined = defined_exports(input, bytes);
            std::vector<std::pair<std::string, std::string>> symbols;
            std::vector<uint64_t> export_hashes;
            std::string problems;
            for (const auto& [key, entry] : exports.entries) {
                if (std::find(defined.begin(), defined.end(), key) == defined.end()) {
                    problems += (problems.empty() ? "" : "\n") + input + ": " + key.first + "@" + key.second + " is in "
                        + entry.where
                        + " but the module does not export it at that node (is the module linked with the version "
                          "script keel-abi generated from the same description, and does it define the function "
                          "with KEEL_EXPORT?)";
                    continue;
                }
                symbols.push_back(key);
                export_hashes.push_back(entry.hash);
                if (!entry.declaration.empty())
                    declarations[key.first + "@" + key.second] = entry.declaration;
            }
            if (!problems.empty())
                fail(problems);
            sections.push_back({ kExportsName, build_hash_section(symbols, export_hashes) });
        }
        if (!declarations.empty())
            sections.push_back({ kDeclsName, build_declarations(declarations) });
        write_file_atomically(output, module.with_sections(sections));
        return 0;
    });
}
