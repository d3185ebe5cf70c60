// kmodpost: records, in a linked module, the hash the SDK had for each of
// its imports (like Linux's modpost does with modversions CRCs).
//
//     kmodpost --symvers keel.symvers [--symvers provider.symvers] [-o OUT] MODULE.kmod
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

using namespace keel::tools;
using namespace keel::elf;

namespace {

constexpr uint32_t kKabiVersion = 1;
constexpr const char* kKabiName = ".keel_kabi";

const char* const kUsage = "usage: kmodpost --symvers FILE [--symvers FILE ...] [-o OUTPUT] MODULE.kmod\n";

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

// (name, node) -> hash, with where each came from for error messages.
struct Symvers {
    std::map<std::pair<std::string, std::string>, std::pair<uint64_t, std::string>> entries;

    void load(const std::string& path)
    {
        std::vector<uint8_t> text = read_file(path);
        std::istringstream file(std::string(text.begin(), text.end()));
        std::string line;
        for (size_t number = 1; std::getline(file, line); ++number) {
            std::string where = path + ":" + std::to_string(number);
            std::istringstream fields(line);
            std::string hash_text, name, node, extra;
            if (!(fields >> hash_text) || hash_text[0] == '#')
                continue;
            if (!(fields >> name >> node) || (fields >> extra))
                fail(where + ": expected '0x<hash> <name> <node>', got '" + line + "'");
            if (hash_text.size() != 18 || hash_text.compare(0, 2, "0x") != 0
                || hash_text.find_first_not_of("0123456789abcdefABCDEF", 2) != std::string::npos)
                fail(where + ": hash '" + hash_text + "' is not 0x and 16 hex digits");
            uint64_t hash = std::stoull(hash_text.substr(2), nullptr, 16);
            auto key = std::make_pair(name, node);
            auto found = entries.find(key);
            if (found != entries.end() && found->second.first != hash)
                fail(where + ": " + name + "@" + node + " has hash " + hex(hash) + " but " + found->second.second
                    + " says " + hex(found->second.first));
            entries[key] = { hash, where };
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
        for (size_t index = 0; index < sections.size(); ++index) {
            if (sections[index].sh_type != SHT_NULL && m_elf.section_name(index) == kKabiName)
                m_kabi_index = index;
        }
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

    // The module with `kabi` as its .keel_kabi section.
    std::vector<uint8_t> with_kabi(const std::vector<uint8_t>& kabi) const
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
                || (m_kabi_index && index == *m_kabi_index))
                continue;
            keep = std::max(keep, section.sh_offset + section.sh_size);
        }
        check_tail(keep);

        std::vector<uint8_t> out(m_elf.data(), m_elf.data() + keep);
        auto align = [&](size_t alignment) { out.resize((out.size() + alignment - 1) / alignment * alignment, 0); };

        align(8);
        uint64_t kabi_offset = out.size();
        out.insert(out.end(), kabi.begin(), kabi.end());

        const Shdr& old_names = old_sections[m_elf.names_index()];
        std::vector<uint8_t> names(
            m_elf.data() + old_names.sh_offset, m_elf.data() + old_names.sh_offset + old_names.sh_size);
        uint32_t kabi_name = 0;
        if (m_kabi_index) {
            kabi_name = old_sections[*m_kabi_index].sh_name;
        } else {
            if (names.empty() || names.back() != 0)
                names.push_back(0);
            kabi_name = uint32_t(names.size());
            names.insert(names.end(), kKabiName, kKabiName + strlen(kKabiName) + 1);
        }
        uint64_t names_offset = out.size();
        out.insert(out.end(), names.begin(), names.end());

        std::vector<Shdr> sections = old_sections;
        sections[m_elf.names_index()].sh_offset = names_offset;
        sections[m_elf.names_index()].sh_size = names.size();
        Shdr kabi_section { kabi_name, SHT_PROGBITS, 0, 0, kabi_offset, kabi.size(), 0, 0, 8, 0 };
        if (m_kabi_index)
            sections[*m_kabi_index] = kabi_section;
        else
            sections.push_back(kabi_section);
        if (sections.size() >= SHN_LORESERVE)
            m_elf.error("too many sections (" + std::to_string(sections.size()) + ") to add .keel_kabi");

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
        if (m_kabi_index)
            known.push_back(span(sections[*m_kabi_index]));
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
    std::optional<size_t> m_kabi_index;
};

std::vector<uint8_t> build_kabi(
    const std::vector<std::pair<std::string, std::string>>& imports, const std::vector<uint64_t>& hashes)
{
    std::vector<uint8_t> section;
    append_le<uint32_t>(section, kKabiVersion);
    append_le<uint32_t>(section, uint32_t(imports.size()));
    std::string strings;
    std::map<std::string, uint32_t> offsets;
    auto intern = [&](const std::string& text) {
        auto found = offsets.find(text);
        if (found != offsets.end())
            return found->second;
        uint32_t offset = uint32_t(strings.size());
        strings += text;
        strings += '\0';
        offsets[text] = offset;
        return offset;
    };
    for (size_t i = 0; i < imports.size(); ++i) {
        append_le<uint64_t>(section, hashes[i]);
        append_le<uint32_t>(section, intern(imports[i].first));
        append_le<uint32_t>(section, intern(imports[i].second));
    }
    section.insert(section.end(), strings.begin(), strings.end());
    return section;
}

} // namespace

int main(int argc, char** argv)
{
    return run_tool("kmodpost", kUsage, [&] {
        std::vector<std::string> symvers_paths;
        std::string output, input;
        for (int i = 1; i < argc; ++i) {
            std::string argument = argv[i];
            if (argument == "--symvers" && i + 1 < argc)
                symvers_paths.push_back(argv[++i]);
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
        auto imports = module.imports();
        std::vector<uint64_t> hashes;
        std::string missing;
        for (auto& [name, node] : imports) {
            auto found = symvers.entries.find({ name, node });
            if (found == symvers.entries.end()) {
                missing += (missing.empty() ? "" : "\n") + input + ": " + name + "@" + node
                    + ": not in any symvers file (unknown symbol or version node)";
                continue;
            }
            hashes.push_back(found->second.first);
        }
        if (!missing.empty())
            fail(missing);
        write_file_atomically(output, module.with_kabi(build_kabi(imports, hashes)));
        return 0;
    });
}
