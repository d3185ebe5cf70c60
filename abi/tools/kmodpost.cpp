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
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr uint32_t kSectionNull = 0;
constexpr uint32_t kSectionProgbits = 1;
constexpr uint32_t kSectionStrtab = 3;
constexpr uint32_t kSectionNobits = 8;
constexpr uint32_t kSectionDynsym = 11;
constexpr uint32_t kSectionVerneed = 0x6ffffffe;
constexpr uint32_t kSectionVersym = 0x6fffffff;
constexpr uint16_t kMachineX86_64 = 62;
constexpr uint16_t kTypeDyn = 3;
constexpr size_t kHeaderSize = 64;
constexpr size_t kSectionHeaderSize = 64;
constexpr size_t kSymbolSize = 24;
constexpr uint32_t kKabiVersion = 1;
constexpr const char* kKabiName = ".keel_kabi";
constexpr size_t kMaxFileSize = size_t(1) << 30;

struct Failure {
    std::string message;
};

[[noreturn]] void fail(const std::string& message) { throw Failure { message }; }

std::string hex(uint64_t value)
{
    char text[32];
    snprintf(text, sizeof(text), "0x%" PRIx64, value);
    return text;
}

template<typename T> T read_le(const std::vector<uint8_t>& bytes, uint64_t offset)
{
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        value |= T(bytes[offset + i]) << (8 * i);
    return value;
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

struct Section {
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t address;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t alignment;
    uint64_t entry_size;
};

// (name, node) -> hash, with where each came from for error messages.
struct Symvers {
    std::map<std::pair<std::string, std::string>, std::pair<uint64_t, std::string>> entries;

    void load(const std::string& path)
    {
        std::ifstream file(path);
        if (!file)
            fail(path + ": cannot open");
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

class Module {
public:
    Module(std::string path, std::vector<uint8_t> bytes)
        : m_path(std::move(path))
        , m_bytes(std::move(bytes))
    {
    }

    void parse()
    {
        if (m_bytes.size() < kHeaderSize)
            error("file is " + std::to_string(m_bytes.size()) + " bytes, smaller than an ELF64 header");
        if (memcmp(m_bytes.data(),
                "\x7f"
                "ELF",
                4)
            != 0)
            error("not an ELF file (bad magic)");
        if (m_bytes[4] != 2)
            error("EI_CLASS " + std::to_string(m_bytes[4]) + " is not ELFCLASS64");
        if (m_bytes[5] != 1)
            error("EI_DATA " + std::to_string(m_bytes[5]) + " is not ELFDATA2LSB");
        uint16_t type = read_le<uint16_t>(m_bytes, 16);
        if (type != kTypeDyn)
            error("e_type " + std::to_string(type) + " is not ET_DYN");
        uint16_t machine = read_le<uint16_t>(m_bytes, 18);
        if (machine != kMachineX86_64)
            error("e_machine " + std::to_string(machine) + " is not EM_X86_64");
        m_phoff = read_le<uint64_t>(m_bytes, 32);
        m_shoff = read_le<uint64_t>(m_bytes, 40);
        m_phentsize = read_le<uint16_t>(m_bytes, 54);
        m_phnum = read_le<uint16_t>(m_bytes, 56);
        uint16_t shentsize = read_le<uint16_t>(m_bytes, 58);
        uint16_t shnum = read_le<uint16_t>(m_bytes, 60);
        m_shstrndx = read_le<uint16_t>(m_bytes, 62);
        if (m_phnum > 0)
            check_range("program header table (e_phoff/e_phnum)", m_phoff, uint64_t(m_phnum) * m_phentsize);
        if (shnum == 0)
            error("no section headers (e_shnum 0, e_shoff " + hex(m_shoff) + "); kmodpost needs them");
        if (shentsize != kSectionHeaderSize)
            error("e_shentsize " + std::to_string(shentsize) + " is not 64");
        check_range("section header table (e_shoff/e_shnum)", m_shoff, uint64_t(shnum) * kSectionHeaderSize);
        if (m_shstrndx == 0 || m_shstrndx >= shnum)
            error("e_shstrndx " + std::to_string(m_shstrndx) + " is not a section (e_shnum " + std::to_string(shnum)
                + ")");
        for (uint16_t index = 0; index < shnum; ++index) {
            uint64_t at = m_shoff + uint64_t(index) * kSectionHeaderSize;
            Section section {
                read_le<uint32_t>(m_bytes, at),
                read_le<uint32_t>(m_bytes, at + 4),
                read_le<uint64_t>(m_bytes, at + 8),
                read_le<uint64_t>(m_bytes, at + 16),
                read_le<uint64_t>(m_bytes, at + 24),
                read_le<uint64_t>(m_bytes, at + 32),
                read_le<uint32_t>(m_bytes, at + 40),
                read_le<uint32_t>(m_bytes, at + 44),
                read_le<uint64_t>(m_bytes, at + 48),
                read_le<uint64_t>(m_bytes, at + 56),
            };
            if (section.type != kSectionNull && section.type != kSectionNobits)
                check_range("section " + std::to_string(index) + " (sh_offset/sh_size)", section.offset, section.size);
            m_sections.push_back(section);
        }
        if (m_sections[m_shstrndx].type != kSectionStrtab)
            error("e_shstrndx " + std::to_string(m_shstrndx) + " is not a string table (sh_type "
                + hex(m_sections[m_shstrndx].type) + ")");
        for (size_t index = 0; index < m_sections.size(); ++index) {
            if (m_sections[index].type == kSectionNull)
                continue;
            if (section_name(index) == kKabiName)
                m_kabi_index = index;
        }
    }

    // name@node of every imported symbol, with the node its version names.
    std::vector<std::pair<std::string, std::string>> imports()
    {
        std::optional<size_t> dynsym, versym, verneed;
        for (size_t index = 0; index < m_sections.size(); ++index) {
            uint32_t type = m_sections[index].type;
            auto take = [&](std::optional<size_t>& slot, const char* what) {
                if (slot)
                    error(std::string("more than one ") + what + " section (" + std::to_string(*slot) + " and "
                        + std::to_string(index) + ")");
                slot = index;
            };
            if (type == kSectionDynsym)
                take(dynsym, "SHT_DYNSYM");
            else if (type == kSectionVersym)
                take(versym, "SHT_GNU_versym");
            else if (type == kSectionVerneed)
                take(verneed, "SHT_GNU_verneed");
        }
        if (!dynsym)
            error("no .dynsym section: not a linked module");
        const Section& symbols = m_sections[*dynsym];
        if (symbols.entry_size != kSymbolSize)
            error(".dynsym sh_entsize " + std::to_string(symbols.entry_size) + " is not 24");
        if (symbols.size % kSymbolSize != 0)
            error(".dynsym sh_size " + std::to_string(symbols.size) + " is not a multiple of 24");
        size_t count = symbols.size / kSymbolSize;
        const Section& strings = string_table(symbols.link, ".dynsym sh_link");

        std::map<uint16_t, std::string> nodes;
        if (verneed)
            nodes = version_needs(m_sections[*verneed]);
        std::vector<uint16_t> versions(count, 0);
        if (versym) {
            const Section& table = m_sections[*versym];
            if (table.size != count * 2)
                error(".gnu.version sh_size " + std::to_string(table.size) + " does not match " + std::to_string(count)
                    + " dynamic symbols");
            for (size_t i = 0; i < count; ++i)
                versions[i] = read_le<uint16_t>(m_bytes, table.offset + 2 * i) & 0x7fff;
        }

        std::vector<std::pair<std::string, std::string>> result;
        std::vector<std::string> problems;
        for (size_t i = 1; i < count; ++i) {
            uint64_t at = symbols.offset + i * kSymbolSize;
            uint32_t name_offset = read_le<uint32_t>(m_bytes, at);
            uint8_t info = m_bytes[at + 4];
            uint16_t section_index = read_le<uint16_t>(m_bytes, at + 6);
            if (section_index != 0)
                continue; // defined here
            std::string name = string_at(strings, name_offset, "dynamic symbol " + std::to_string(i) + " st_name");
            if (name.empty())
                continue;
            bool weak = (info >> 4) == 2;
            uint16_t version = versions[i];
            if (version < 2) {
                // A weak import nobody versions may stay unresolved (the
                // loader gives it 0); anything else must come from a stub.
                if (!weak)
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
            result.emplace_back(name, node->second);
        }
        if (!problems.empty()) {
            std::string message;
            for (auto& problem : problems)
                message += (message.empty() ? "" : "\n") + m_path + ": " + problem;
            fail(message);
        }
        std::sort(result.begin(), result.end());
        result.erase(std::unique(result.begin(), result.end()), result.end());
        return result;
    }

    // The module with `kabi` as its .keel_kabi section.
    std::vector<uint8_t> with_kabi(const std::vector<uint8_t>& kabi) const
    {
        // Everything up to the end of the last section kmodpost does not
        // rewrite stays byte for byte; the tail (old section headers, old
        // .shstrtab, old .keel_kabi) is rebuilt.
        uint64_t keep = kHeaderSize;
        if (m_phnum > 0)
            keep = std::max<uint64_t>(keep, m_phoff + uint64_t(m_phnum) * m_phentsize);
        for (size_t index = 0; index < m_sections.size(); ++index) {
            const Section& section = m_sections[index];
            if (section.type == kSectionNull || section.type == kSectionNobits || index == m_shstrndx
                || (m_kabi_index && index == *m_kabi_index))
                continue;
            keep = std::max(keep, section.offset + section.size);
        }
        check_tail(keep);

        std::vector<uint8_t> out(m_bytes.begin(), m_bytes.begin() + keep);
        auto align = [&](size_t alignment) { out.resize((out.size() + alignment - 1) / alignment * alignment, 0); };

        align(8);
        uint64_t kabi_offset = out.size();
        out.insert(out.end(), kabi.begin(), kabi.end());

        const Section& old_names = m_sections[m_shstrndx];
        std::vector<uint8_t> names(
            m_bytes.begin() + old_names.offset, m_bytes.begin() + old_names.offset + old_names.size);
        uint32_t kabi_name = 0;
        if (m_kabi_index) {
            kabi_name = m_sections[*m_kabi_index].name;
        } else {
            if (names.empty() || names.back() != 0)
                names.push_back(0);
            kabi_name = uint32_t(names.size());
            names.insert(names.end(), kKabiName, kKabiName + strlen(kKabiName) + 1);
        }
        uint64_t names_offset = out.size();
        out.insert(out.end(), names.begin(), names.end());

        std::vector<Section> sections = m_sections;
        sections[m_shstrndx].offset = names_offset;
        sections[m_shstrndx].size = names.size();
        Section kabi_section { kabi_name, kSectionProgbits, 0, 0, kabi_offset, kabi.size(), 0, 0, 8, 0 };
        if (m_kabi_index)
            sections[*m_kabi_index] = kabi_section;
        else
            sections.push_back(kabi_section);
        if (sections.size() >= 0xff00)
            error("too many sections (" + std::to_string(sections.size()) + ") to add .keel_kabi");

        align(8);
        uint64_t headers_offset = out.size();
        for (const Section& section : sections) {
            append_le(out, section.name);
            append_le(out, section.type);
            append_le(out, section.flags);
            append_le(out, section.address);
            append_le(out, section.offset);
            append_le(out, section.size);
            append_le(out, section.link);
            append_le(out, section.info);
            append_le(out, section.alignment);
            append_le(out, section.entry_size);
        }
        write_le<uint64_t>(out, 40, headers_offset);
        write_le<uint16_t>(out, 60, uint16_t(sections.size()));
        return out;
    }

private:
    [[noreturn]] void error(const std::string& message) const { fail(m_path + ": " + message); }

    void check_range(const std::string& what, uint64_t offset, uint64_t size) const
    {
        if (offset > m_bytes.size() || size > m_bytes.size() - offset)
            error(what + ": bytes " + hex(offset) + "+" + hex(size) + " lie outside the file (" + hex(m_bytes.size())
                + " bytes)");
    }

    const Section& string_table(uint32_t index, const std::string& what) const
    {
        if (index == 0 || index >= m_sections.size() || m_sections[index].type != kSectionStrtab)
            error(what + " " + std::to_string(index) + " is not a string table");
        return m_sections[index];
    }

    std::string string_at(const Section& table, uint64_t offset, const std::string& what) const
    {
        if (offset >= table.size)
            error(what + " " + hex(offset) + " lies outside its string table (" + hex(table.size) + " bytes)");
        const uint8_t* begin = m_bytes.data() + table.offset + offset;
        const uint8_t* end = m_bytes.data() + table.offset + table.size;
        const uint8_t* nul = std::find(begin, end, 0);
        if (nul == end)
            error(what + " " + hex(offset) + ": string is not NUL-terminated");
        return std::string(begin, nul);
    }

    std::string section_name(size_t index) const
    {
        return string_at(
            m_sections[m_shstrndx], m_sections[index].name, "section " + std::to_string(index) + " sh_name");
    }

    // .gnu.version_r: version index -> node name.
    std::map<uint16_t, std::string> version_needs(const Section& table) const
    {
        const Section& strings = string_table(table.link, ".gnu.version_r sh_link");
        std::map<uint16_t, std::string> nodes;
        uint64_t at = 0;
        // sh_info is the entry count; the size bounds the walk as well, so a
        // cycle of vn_next offsets cannot loop forever.
        for (uint32_t entry = 0; entry < table.info; ++entry) {
            std::string where = ".gnu.version_r entry " + std::to_string(entry);
            if (at > table.size || table.size - at < 16)
                error(where + " at " + hex(at) + " lies outside the section (" + hex(table.size) + " bytes)");
            uint64_t base = table.offset + at;
            uint16_t version = read_le<uint16_t>(m_bytes, base);
            uint16_t count = read_le<uint16_t>(m_bytes, base + 2);
            uint32_t aux = read_le<uint32_t>(m_bytes, base + 8);
            uint32_t next = read_le<uint32_t>(m_bytes, base + 12);
            if (version != 1)
                error(where + ": vn_version " + std::to_string(version) + " is not 1");
            uint64_t aux_at = at + aux;
            for (uint16_t i = 0; i < count; ++i) {
                std::string aux_where = where + " aux " + std::to_string(i);
                if (aux_at > table.size || table.size - aux_at < 16)
                    error(aux_where + " at " + hex(aux_at) + " lies outside the section");
                uint64_t aux_base = table.offset + aux_at;
                uint16_t index = read_le<uint16_t>(m_bytes, aux_base + 6) & 0x7fff;
                uint32_t name = read_le<uint32_t>(m_bytes, aux_base + 8);
                uint32_t aux_next = read_le<uint32_t>(m_bytes, aux_base + 12);
                nodes[index] = string_at(strings, name, aux_where + " vna_name");
                if (aux_next == 0)
                    break;
                aux_at += aux_next;
            }
            if (next == 0)
                break;
            at += next;
        }
        return nodes;
    }

    // Bytes past `keep` must be only what kmodpost rewrites (or the
    // linker's padding): anything else would be silently dropped.
    void check_tail(uint64_t keep) const
    {
        std::vector<std::pair<uint64_t, uint64_t>> known;
        known.emplace_back(m_shoff, m_shoff + m_sections.size() * kSectionHeaderSize);
        known.emplace_back(m_sections[m_shstrndx].offset, m_sections[m_shstrndx].offset + m_sections[m_shstrndx].size);
        if (m_kabi_index)
            known.emplace_back(
                m_sections[*m_kabi_index].offset, m_sections[*m_kabi_index].offset + m_sections[*m_kabi_index].size);
        for (uint64_t at = keep; at < m_bytes.size(); ++at) {
            bool covered = std::any_of(
                known.begin(), known.end(), [&](auto& range) { return at >= range.first && at < range.second; });
            if (!covered && m_bytes[at] != 0)
                error("unexpected data at " + hex(at)
                    + " after the last section (a signature? run kmodpost before"
                      " kmod-sign)");
        }
    }

    std::string m_path;
    std::vector<uint8_t> m_bytes;
    uint64_t m_phoff = 0;
    uint64_t m_shoff = 0;
    uint16_t m_phentsize = 0;
    uint16_t m_phnum = 0;
    uint16_t m_shstrndx = 0;
    std::vector<Section> m_sections;
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

std::vector<uint8_t> read_file(const std::string& path)
{
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file)
        fail(path + ": cannot open");
    std::streamoff size = file.tellg();
    if (size < 0 || uint64_t(size) > kMaxFileSize)
        fail(path + ": size " + std::to_string(size) + " is not between 0 and " + std::to_string(kMaxFileSize));
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    file.seekg(0);
    if (!file.read(reinterpret_cast<char*>(bytes.data()), size))
        fail(path + ": read error");
    return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes)
{
    // Through a temporary file, so a failed write never leaves a truncated
    // module under the real name.
    std::string temporary = path + ".kmodpost.tmp";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        if (!file || !file.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size())))
            fail(temporary + ": write error");
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        fail(path + ": cannot replace");
    }
}

int usage()
{
    fprintf(stderr, "usage: kmodpost --symvers FILE [--symvers FILE ...] [-o OUTPUT] MODULE.kmod\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> symvers_paths;
    std::string output, input;
    for (int i = 1; i < argc; ++i) {
        std::string argument = argv[i];
        if (argument == "--symvers" && i + 1 < argc)
            symvers_paths.push_back(argv[++i]);
        else if (argument == "-o" && i + 1 < argc)
            output = argv[++i];
        else if (argument == "-h" || argument == "--help")
            return usage() - 2;
        else if (!argument.empty() && argument[0] != '-' && input.empty())
            input = argument;
        else
            return usage();
    }
    if (input.empty() || symvers_paths.empty())
        return usage();
    if (output.empty())
        output = input;

    try {
        Symvers symvers;
        for (auto& path : symvers_paths)
            symvers.load(path);
        Module module(input, read_file(input));
        module.parse();
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
        write_file(output, module.with_kabi(build_kabi(imports, hashes)));
    } catch (const Failure& failure) {
        // A host tool may use exceptions: they carry every error to this
        // one place that prints it.
        std::istringstream lines(failure.message);
        std::string line;
        while (std::getline(lines, line))
            fprintf(stderr, "kmodpost: %s\n", line.c_str());
        return 1;
    }
    return 0;
}
