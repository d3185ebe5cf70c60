// kmodinfo: what the console's `modinfo` prints, for a .kmod on the host
// (loader/commands.cpp print_modinfo), and `--check-against CORE.elf`: would
// this core resolve every import (name, version node, hash) of the module?
// The same questions the loader asks in loader/resolve.cpp, answered with
// the same words, without booting.
//
// ELF reading goes through libelf; the signature trailer through the
// kernel's own parser (core/lib/crypto), so the ELF image is exactly the
// bytes the loader would parse. The core's export table is the constinit
// object keel::g_kabi_core_table in the core's ELF (core/lib/kabi/
// kabi_table.h): found through .symtab, its pointers followed through the
// PT_LOAD segments (docs/sdk.md, "Checking a module against a core").
#include "host_file.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gelf.h>
#include <libelf.h>

// After the C and C++ library headers: lib/errno.h takes the E* macros away.
#include "lib/crypto/module_signature.h"

using namespace keel;
using keel::host::fail;
using keel::host::Failure;
using keel::host::read_file;

namespace {

const char* program = "kmodinfo";

std::string hex64(uint64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(value));
    return text;
}

// An ELF file in memory, opened with libelf; closes itself.
class ElfFile {
public:
    ElfFile(const std::string& path, const uint8_t* data, size_t size)
        : m_path(path)
        , m_data(data)
        , m_size(size)
    {
        if (size < 4
            || memcmp(data,
                   "\x7f"
                   "ELF",
                   4)
                != 0)
            fail(path + ": not an ELF file (no \\x7fELF magic)");
        // Owned by a member, so a failure below (a throw from the
        // constructor) still releases it.
        m_elf.reset(elf_memory(reinterpret_cast<char*>(const_cast<uint8_t*>(data)), size));
        if (!m_elf || elf_kind(m_elf.get()) != ELF_K_ELF)
            fail(path + ": libelf cannot read it: " + elf_errmsg(-1));
        if (gelf_getclass(m_elf.get()) != ELFCLASS64)
            fail(path + ": not ELFCLASS64");
        if (!gelf_getehdr(m_elf.get(), &m_header))
            fail(path + ": bad ELF header: " + elf_errmsg(-1));
        if (m_header.e_machine != EM_X86_64)
            fail(path + ": e_machine " + std::to_string(m_header.e_machine) + " is not EM_X86_64");
        // libelf quietly shows no sections when their table lies beyond the
        // end of the file; a truncated module must be an error instead.
        if (m_header.e_shoff > size || uint64_t(m_header.e_shnum) * m_header.e_shentsize > size - m_header.e_shoff)
            fail(path + ": section header table (e_shoff " + hex64(m_header.e_shoff) + ", e_shnum "
                + std::to_string(m_header.e_shnum) + ") exceeds file size " + hex64(size));
        if (m_header.e_phoff > size || uint64_t(m_header.e_phnum) * m_header.e_phentsize > size - m_header.e_phoff)
            fail(path + ": program header table (e_phoff " + hex64(m_header.e_phoff) + ", e_phnum "
                + std::to_string(m_header.e_phnum) + ") exceeds file size " + hex64(size));
        size_t index = 0;
        if (elf_getshdrstrndx(m_elf.get(), &index) != 0)
            fail(path + ": bad e_shstrndx: " + elf_errmsg(-1));
        m_names = index;
    }
    ElfFile(const ElfFile&) = delete;
    ElfFile& operator=(const ElfFile&) = delete;

    const GElf_Ehdr& header() const { return m_header; }
    const std::string& path() const { return m_path; }

    // Every section, with its header checked against the file's bounds.
    template<typename Visit> void for_each_section(Visit visit) const
    {
        Elf_Scn* section = nullptr;
        while ((section = elf_nextscn(m_elf.get(), section)) != nullptr) {
            GElf_Shdr header;
            if (!gelf_getshdr(section, &header))
                fail(m_path + ": bad section header: " + elf_errmsg(-1));
            size_t index = elf_ndxscn(section);
            if (header.sh_type != SHT_NOBITS
                && (header.sh_offset > m_size || header.sh_size > m_size - header.sh_offset))
                fail(m_path + ": section " + std::to_string(index) + " (sh_offset " + hex64(header.sh_offset)
                    + ", sh_size " + hex64(header.sh_size) + ") lies outside the file");
            const char* name = elf_strptr(m_elf.get(), m_names, header.sh_name);
            visit(section, header, name ? name : "");
        }
    }

    Elf_Data* data_of(Elf_Scn* section, const char* what) const
    {
        Elf_Data* data = elf_getdata(section, nullptr);
        if (!data)
            fail(m_path + ": cannot read " + what + ": " + elf_errmsg(-1));
        return data;
    }

    std::string string_at(size_t table, size_t offset, const char* what) const
    {
        const char* text = elf_strptr(m_elf.get(), table, offset);
        if (!text)
            fail(m_path + ": " + what + ": string offset " + std::to_string(offset) + " outside its table");
        return text;
    }

    Elf* handle() const { return m_elf.get(); }
    const uint8_t* bytes() const { return m_data; }
    size_t size() const { return m_size; }

private:
    std::string m_path;
    const uint8_t* m_data;
    size_t m_size;
    std::unique_ptr<Elf, int (*)(Elf*)> m_elf { nullptr, elf_end };
    GElf_Ehdr m_header {};
    size_t m_names = 0;
};

struct Import {
    std::string name;
    std::string node; // empty: unversioned
    std::string file; // the vernaux's library: libkeel.so or a module's soname
    bool weak = false;
};

struct KabiEntry {
    uint64_t hash;
    std::string name;
    std::string node;
};

struct ModuleInfo {
    std::vector<std::pair<std::string, std::string>> modinfo; // key, value in file order
    std::vector<std::string> needed;
    std::vector<Import> imports;
    std::vector<KabiEntry> kabi;
    bool has_kabi = false;
};

// The Keel notes: name "Keel", type 1, one NUL-terminated key=value each
// (docs/module-format.md).
void read_notes(const ElfFile& elf, Elf_Scn* section, ModuleInfo& info)
{
    Elf_Data* data = elf.data_of(section, "a note section");
    size_t offset = 0;
    GElf_Nhdr note;
    size_t name_offset;
    size_t desc_offset;
    while (offset < data->d_size && (offset = gelf_getnote(data, offset, &note, &name_offset, &desc_offset)) != 0) {
        const char* bytes = static_cast<const char*>(data->d_buf);
        if (note.n_type != 1 || note.n_namesz != 5 || memcmp(bytes + name_offset, "Keel", 5) != 0)
            continue;
        const char* text = bytes + desc_offset;
        size_t length = strnlen(text, note.n_descsz);
        if (length == note.n_descsz)
            fail(elf.path() + ": a Keel note's text is not NUL-terminated");
        std::string entry(text, length);
        size_t equals = entry.find('=');
        if (equals == std::string::npos || equals == 0)
            fail(elf.path() + ": modinfo entry '" + entry + "' is not key=value");
        info.modinfo.emplace_back(entry.substr(0, equals), entry.substr(equals + 1));
    }
}

uint32_t read_u32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }
uint64_t read_u64(const uint8_t* p) { return read_u32(p) | uint64_t(read_u32(p + 4)) << 32; }

// .keel_kabi: u32 version, u32 count, count x {u64 hash, u32 name, u32 node},
// then the string table to the end of the section.
void read_kabi(const ElfFile& elf, const GElf_Shdr& header, ModuleInfo& info)
{
    const uint8_t* section = elf.bytes() + header.sh_offset;
    size_t size = header.sh_size;
    std::string where = elf.path() + ": .keel_kabi: ";
    if (size < 8)
        fail(where + "section size " + std::to_string(size) + " is below its 8-byte header");
    if (read_u32(section) != 1)
        fail(where + "version " + std::to_string(read_u32(section)) + " is not 1");
    uint32_t count = read_u32(section + 4);
    if (count > 65536 || 8 + size_t(count) * 16 > size)
        fail(where + "count " + std::to_string(count) + " does not fit in " + std::to_string(size) + " bytes");
    size_t strings = 8 + size_t(count) * 16;
    // No imports may mean no string table at all; otherwise it must end
    // with a NUL, so every offset inside it names a terminated string.
    if (count != 0 && (size == strings || section[size - 1] != '\0'))
        fail(where + "the string table does not end with a NUL");
    auto text = [&](uint32_t offset, const char* what, size_t entry) {
        if (offset >= size - strings)
            fail(where + "entry " + std::to_string(entry) + ": " + what + " offset " + std::to_string(offset)
                + " lies outside the string table");
        return std::string(reinterpret_cast<const char*>(section + strings + offset));
    };
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t* entry = section + 8 + size_t(i) * 16;
        info.kabi.push_back(
            { read_u64(entry), text(read_u32(entry + 8), "name", i), text(read_u32(entry + 12), "node", i) });
    }
    info.has_kabi = true;
}

ModuleInfo read_module(const ElfFile& elf)
{
    ModuleInfo info;
    if (elf.header().e_type != ET_DYN)
        fail(elf.path() + ": e_type " + std::to_string(elf.header().e_type) + " is not ET_DYN");
    Elf_Scn* dynsym = nullptr;
    Elf_Scn* versym = nullptr;
    Elf_Scn* verneed = nullptr;
    Elf_Scn* dynamic = nullptr;
    GElf_Shdr dynsym_header {};
    GElf_Shdr dynamic_header {};
    size_t kabi_sections = 0;
    elf.for_each_section([&](Elf_Scn* section, const GElf_Shdr& header, const std::string& name) {
        switch (header.sh_type) {
        case SHT_NOTE: read_notes(elf, section, info); break;
        case SHT_DYNSYM:
            dynsym = section;
            dynsym_header = header;
            break;
        case SHT_GNU_versym: versym = section; break;
        case SHT_GNU_verneed: verneed = section; break;
        case SHT_DYNAMIC:
            dynamic = section;
            dynamic_header = header;
            break;
        default: break;
        }
        if (name == ".keel_kabi") {
            if (++kabi_sections > 1)
                fail(elf.path() + ": more than one .keel_kabi section");
            if (header.sh_flags & SHF_ALLOC)
                fail(elf.path() + ": .keel_kabi is SHF_ALLOC (it must not be loaded)");
            read_kabi(elf, header, info);
        }
    });
    if (dynamic) {
        Elf_Data* data = elf.data_of(dynamic, ".dynamic");
        size_t count = dynamic_header.sh_entsize ? dynamic_header.sh_size / dynamic_header.sh_entsize : 0;
        for (size_t i = 0; i < count; i++) {
            GElf_Dyn entry;
            if (!gelf_getdyn(data, int(i), &entry) || entry.d_tag == DT_NULL)
                break;
            if (entry.d_tag == DT_NEEDED)
                info.needed.push_back(elf.string_at(dynamic_header.sh_link, entry.d_un.d_val, "DT_NEEDED"));
        }
    }
    if (!dynsym)
        return info;
    // Version index -> (library, node) from .gnu.version_r.
    std::vector<std::pair<std::string, std::string>> versions;
    if (verneed) {
        GElf_Shdr header;
        gelf_getshdr(verneed, &header);
        Elf_Data* data = elf.data_of(verneed, ".gnu.version_r");
        size_t offset = 0;
        for (size_t i = 0; i < header.sh_info; i++) {
            GElf_Verneed need;
            if (!gelf_getverneed(data, int(offset), &need))
                fail(elf.path() + ": .gnu.version_r entry " + std::to_string(i) + " is truncated");
            std::string file = elf.string_at(header.sh_link, need.vn_file, "vn_file");
            size_t aux_offset = offset + need.vn_aux;
            for (size_t j = 0; j < need.vn_cnt; j++) {
                GElf_Vernaux aux;
                if (!gelf_getvernaux(data, int(aux_offset), &aux))
                    fail(elf.path() + ": .gnu.version_r auxiliary entry " + std::to_string(j) + " of " + file
                        + " is truncated");
                size_t index = aux.vna_other & 0x7fff;
                if (versions.size() <= index)
                    versions.resize(index + 1);
                versions[index] = { file, elf.string_at(header.sh_link, aux.vna_name, "vna_name") };
                if (!aux.vna_next && j + 1 < need.vn_cnt)
                    fail(elf.path() + ": .gnu.version_r: vna_next 0 before vn_cnt " + std::to_string(need.vn_cnt));
                aux_offset += aux.vna_next;
            }
            if (!need.vn_next && i + 1 < header.sh_info)
                fail(elf.path() + ": .gnu.version_r: vn_next 0 before entry " + std::to_string(header.sh_info));
            offset += need.vn_next;
        }
    }
    Elf_Data* symbols = elf.data_of(dynsym, ".dynsym");
    Elf_Data* symbol_versions = versym ? elf.data_of(versym, ".gnu.version") : nullptr;
    size_t count = dynsym_header.sh_entsize ? dynsym_header.sh_size / dynsym_header.sh_entsize : 0;
    for (size_t i = 1; i < count; i++) {
        GElf_Sym symbol;
        if (!gelf_getsym(symbols, int(i), &symbol))
            fail(elf.path() + ": .dynsym entry " + std::to_string(i) + " is truncated");
        if (symbol.st_shndx != SHN_UNDEF)
            continue;
        Import import;
        import.name = elf.string_at(dynsym_header.sh_link, symbol.st_name, "symbol name");
        import.weak = GELF_ST_BIND(symbol.st_info) == STB_WEAK;
        GElf_Versym version = 0;
        if (symbol_versions && gelf_getversym(symbol_versions, int(i), &version)) {
            size_t index = version & 0x7fff;
            if (index >= 2) {
                if (index >= versions.size() || versions[index].second.empty())
                    fail(elf.path() + ": symbol " + import.name + ": version index " + std::to_string(index)
                        + " names no .gnu.version_r entry");
                import.file = versions[index].first;
                import.node = versions[index].second;
            }
        }
        info.imports.push_back(import);
    }
    return info;
}

const KabiEntry* recorded(const ModuleInfo& info, const Import& import)
{
    for (const KabiEntry& entry : info.kabi)
        if (entry.name == import.name && entry.node == import.node)
            return &entry;
    return nullptr;
}

std::string module_name(const ModuleInfo& info, const std::string& path)
{
    for (const auto& [key, value] : info.modinfo)
        if (key == "name")
            return value;
    return path;
}

// The signature trailer, through the kernel's parser; returns the length of
// the ELF image before it.
size_t describe_signature(const std::vector<uint8_t>& file, std::string& status, std::string& signer)
{
    CryptoDiagnostic diagnostic {};
    auto trailer = parse_signature_trailer(file.data(), file.size(), &diagnostic);
    if (trailer.is_error()) {
        if (trailer.error() != Error::ENODATA)
            fail(std::string("damaged signature trailer: ") + diagnostic.text);
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

// Names and metadata come from the file: escape anything that is not
// printable ASCII so a hostile module cannot drive the terminal.
std::string printable(const std::string& text)
{
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f) {
            out += char(c);
        } else {
            char escaped[8];
            snprintf(escaped, sizeof(escaped), "\\x%02x", c);
            out += escaped;
        }
    }
    return out;
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
        const KabiEntry* entry = import.node.empty() ? nullptr : recorded(info, import);
        if (entry)
            print_field("import:", import.name + "@" + import.node + " " + hex64(entry->hash));
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

class CoreImage {
public:
    explicit CoreImage(const std::string& path)
        : m_data(read_file(path))
        , m_elf(path, m_data.data(), m_data.size())
    {
        size_t count = 0;
        if (elf_getphdrnum(m_elf.handle(), &count) != 0)
            fail(path + ": no program headers: " + elf_errmsg(-1));
        for (size_t i = 0; i < count; i++) {
            GElf_Phdr header;
            if (!gelf_getphdr(m_elf.handle(), int(i), &header))
                fail(path + ": program header " + std::to_string(i) + ": " + elf_errmsg(-1));
            if (header.p_type != PT_LOAD)
                continue;
            if (header.p_offset > m_data.size() || header.p_filesz > m_data.size() - header.p_offset)
                fail(path + ": program header " + std::to_string(i) + " (PT_LOAD): p_offset " + hex64(header.p_offset)
                    + " + p_filesz " + hex64(header.p_filesz) + " exceeds the file");
            m_loads.push_back(header);
        }
    }

    std::vector<CoreExport> exports() const
    {
        uint64_t table = symbol("_ZN4keel17g_kabi_core_tableE");
        const uint8_t* fields = at(table, 48, "g_kabi_core_table");
        uint64_t array = read_u64(fields);
        uint64_t count = read_u64(fields + 8);
        if (count > (1u << 20))
            fail(m_elf.path() + ": g_kabi_core_table: export_count " + std::to_string(count) + " is implausible");
        const uint8_t* entries = at(array, count * 40, "the export array");
        std::vector<CoreExport> result;
        for (uint64_t i = 0; i < count; i++) {
            const uint8_t* entry = entries + i * 40;
            result.push_back({ string(read_u64(entry), "an export's name"),
                string(read_u64(entry + 8), "an export's node"), read_u64(entry + 16) });
        }
        return result;
    }

private:
    uint64_t symbol(const char* wanted) const
    {
        uint64_t value = 0;
        bool found = false;
        bool have_symtab = false;
        m_elf.for_each_section([&](Elf_Scn* section, const GElf_Shdr& header, const std::string&) {
            if (header.sh_type != SHT_SYMTAB || found)
                return;
            have_symtab = true;
            Elf_Data* data = m_elf.data_of(section, ".symtab");
            size_t count = header.sh_entsize ? header.sh_size / header.sh_entsize : 0;
            for (size_t i = 1; i < count && !found; i++) {
                GElf_Sym symbol;
                if (!gelf_getsym(data, int(i), &symbol))
                    break;
                const char* name = elf_strptr(m_elf.handle(), header.sh_link, symbol.st_name);
                if (name && strcmp(name, wanted) == 0) {
                    value = symbol.st_value;
                    found = true;
                }
            }
        });
        if (!have_symtab)
            fail(m_elf.path() + ": no .symtab (a stripped core?): cannot find the export table " + wanted);
        if (!found)
            fail(m_elf.path() + ": no symbol " + wanted + " (not a Keel core?)");
        return value;
    }

    const uint8_t* at(uint64_t address, uint64_t size, const char* what) const
    {
        for (const GElf_Phdr& load : m_loads)
            if (address >= load.p_vaddr && size <= load.p_filesz && address - load.p_vaddr <= load.p_filesz - size)
                return m_data.data() + load.p_offset + (address - load.p_vaddr);
        fail(m_elf.path() + ": " + what + " at " + hex64(address) + " (" + std::to_string(size)
            + " bytes) is not file data of a PT_LOAD segment");
    }

    std::string string(uint64_t address, const char* what) const
    {
        for (const GElf_Phdr& load : m_loads) {
            if (address < load.p_vaddr || address - load.p_vaddr >= load.p_filesz)
                continue;
            const char* start = reinterpret_cast<const char*>(m_data.data() + load.p_offset + (address - load.p_vaddr));
            size_t room = load.p_filesz - (address - load.p_vaddr);
            size_t length = strnlen(start, room);
            if (length == room)
                fail(m_elf.path() + ": " + what + " at " + hex64(address) + " is not NUL-terminated");
            return std::string(start, length);
        }
        fail(m_elf.path() + ": " + what + " at " + hex64(address) + " is not file data of a PT_LOAD segment");
    }

    std::vector<uint8_t> m_data;
    ElfFile m_elf;
    std::vector<GElf_Phdr> m_loads;
};

// loader/resolve.cpp's questions, in its words. Returns the number of
// imports the core would refuse.
int check_against(const ModuleInfo& info, const std::string& raw_name, const std::vector<CoreExport>& core,
    const std::string& core_path)
{
    std::string name = printable(raw_name);
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
        const KabiEntry* entry = recorded(info, import);
        if (!entry) {
            printf("refused  %s: no hash recorded for %s (was the module processed by kmodpost?)\n", name.c_str(),
                label.c_str());
            refused++;
        } else if (entry->hash != match->hash) {
            printf("refused  %s: disagrees about the version of symbol %s: module has hash %s, core has %s\n",
                name.c_str(), label.c_str(), hex64(entry->hash).c_str(), hex64(match->hash).c_str());
            refused++;
        } else {
            printf("ok       %s %s\n", label.c_str(), hex64(entry->hash).c_str());
        }
    }
    if (refused)
        printf("%s: REFUSED by %s: %d import(s) unresolved\n", name.c_str(), core_path.c_str(), refused);
    else
        printf("%s: loads on %s: every import resolves\n", name.c_str(), core_path.c_str());
    return refused;
}

void usage(FILE* stream)
{
    fprintf(stream,
        "usage: kmodinfo MODULE.kmod\n"
        "       kmodinfo --check-against CORE.elf MODULE.kmod\n"
        "The first prints what the console's `modinfo` prints; the second tells whether CORE resolves every\n"
        "import of MODULE (name, version node, hash) as its loader would: exit 0 yes, 1 no or error.\n");
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (arguments.size() == 1 && (arguments[0] == "-h" || arguments[0] == "--help")) {
        usage(stdout);
        return 0;
    }
    std::string core_path;
    if (arguments.size() == 3 && arguments[0] == "--check-against") {
        core_path = arguments[1];
        arguments.erase(arguments.begin(), arguments.begin() + 2);
    }
    if (arguments.size() != 1 || arguments[0].empty() || arguments[0][0] == '-') {
        usage(stderr);
        return 2;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        fprintf(stderr, "%s: libelf is too old\n", program);
        return 1;
    }
    try {
        const std::string& path = arguments[0];
        std::vector<uint8_t> file = read_file(path);
        std::string signature;
        std::string signer;
        size_t image_length = describe_signature(file, signature, signer);
        ElfFile elf(path, file.data(), image_length);
        ModuleInfo info = read_module(elf);
        if (core_path.empty()) {
            print_modinfo(info, path, signature, signer);
            return 0;
        }
        CoreImage core(core_path);
        return check_against(info, module_name(info, path), core.exports(), core_path) ? 1 : 0;
    } catch (const Failure& failure) {
        fprintf(stderr, "%s: %s\n", program, printable(failure.message).c_str());
        return 1;
    }
}
