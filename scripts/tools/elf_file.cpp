#include "elf_file.h"

#include <algorithm>
#include <cstring>

#include "tool.h"

namespace keel::tools {

using namespace elf;

ElfFile::ElfFile(std::string path, const uint8_t* data, size_t size)
    : m_path(std::move(path))
    , m_data(data)
    , m_size(size)
{
    if (size < sizeof(Ehdr))
        error("file is " + std::to_string(size) + " bytes, smaller than an ELF64 header");
    m_header = read<Ehdr>(0);
    const uint8_t* ident = m_header.e_ident;
    if (ident[0] != ELFMAG0 || memcmp(ident + 1, "ELF", 3) != 0)
        error("not an ELF file (bad magic)");
    if (ident[EI_CLASS] != ELFCLASS64)
        error("EI_CLASS " + std::to_string(ident[EI_CLASS]) + " is not ELFCLASS64");
    if (ident[EI_DATA] != ELFDATA2LSB)
        error("EI_DATA " + std::to_string(ident[EI_DATA]) + " is not ELFDATA2LSB");
    if (!find_module_machine(m_header.e_machine))
        error("e_machine " + std::to_string(m_header.e_machine) + " is neither EM_X86_64 nor EM_AARCH64");

    if (m_header.e_phnum > 0) {
        if (m_header.e_phentsize != sizeof(Phdr))
            error("e_phentsize " + std::to_string(m_header.e_phentsize) + " is not 56");
        check_range(
            "program header table (e_phoff/e_phnum)", m_header.e_phoff, uint64_t(m_header.e_phnum) * sizeof(Phdr));
    }
    for (uint16_t index = 0; index < m_header.e_phnum; ++index) {
        Phdr segment = read<Phdr>(m_header.e_phoff + uint64_t(index) * sizeof(Phdr));
        if (segment.p_type != PT_LOAD)
            continue;
        check_range("program header " + std::to_string(index) + " (PT_LOAD: p_offset/p_filesz)", segment.p_offset,
            segment.p_filesz);
        m_loads.push_back(segment);
    }

    uint16_t count = m_header.e_shnum;
    if (count == 0)
        error("no section headers (e_shnum 0, e_shoff " + hex(m_header.e_shoff) + ")");
    if (m_header.e_shentsize != sizeof(Shdr))
        error("e_shentsize " + std::to_string(m_header.e_shentsize) + " is not 64");
    check_range("section header table (e_shoff/e_shnum)", m_header.e_shoff, uint64_t(count) * sizeof(Shdr));
    if (names_index() == 0 || names_index() >= count)
        error("e_shstrndx " + std::to_string(names_index()) + " is not a section (e_shnum " + std::to_string(count)
            + ")");
    for (uint16_t index = 0; index < count; ++index) {
        Shdr section = read<Shdr>(m_header.e_shoff + uint64_t(index) * sizeof(Shdr));
        if (section.sh_type != SHT_NULL && section.sh_type != SHT_NOBITS)
            check_range(
                "section " + std::to_string(index) + " (sh_offset/sh_size)", section.sh_offset, section.sh_size);
        m_sections.push_back(section);
    }
    if (m_sections[names_index()].sh_type != SHT_STRTAB)
        error("e_shstrndx " + std::to_string(names_index()) + " is not a string table (sh_type "
            + hex(m_sections[names_index()].sh_type) + ")");
}

void ElfFile::error(const std::string& message) const { fail(m_path + ": " + message); }

void ElfFile::check_range(const std::string& what, uint64_t offset, uint64_t size) const
{
    if (offset > m_size || size > m_size - offset)
        error(what + ": bytes " + hex(offset) + "+" + hex(size) + " lie outside the file (" + hex(m_size) + " bytes)");
}

std::string ElfFile::section_name(size_t index) const
{
    return string_at(
        m_sections[names_index()], m_sections[index].sh_name, "section " + std::to_string(index) + " sh_name");
}

std::optional<size_t> ElfFile::unique_section(uint32_t type, const char* what) const
{
    std::optional<size_t> found;
    for (size_t index = 0; index < m_sections.size(); ++index) {
        if (m_sections[index].sh_type != type)
            continue;
        if (found)
            error(std::string("more than one ") + what + " section (" + std::to_string(*found) + " and "
                + std::to_string(index) + ")");
        found = index;
    }
    return found;
}

const Shdr& ElfFile::string_table(uint32_t index, const std::string& what) const
{
    if (index == 0 || index >= m_sections.size() || m_sections[index].sh_type != SHT_STRTAB)
        error(what + " " + std::to_string(index) + " is not a string table");
    return m_sections[index];
}

std::string ElfFile::string_at(const Shdr& table, uint64_t offset, const std::string& what) const
{
    if (offset >= table.sh_size)
        error(what + " " + hex(offset) + " lies outside its string table (" + hex(table.sh_size) + " bytes)");
    const uint8_t* begin = m_data + table.sh_offset + offset;
    const uint8_t* end = m_data + table.sh_offset + table.sh_size;
    const uint8_t* nul = std::find(begin, end, 0);
    if (nul == end)
        error(what + " " + hex(offset) + ": string is not NUL-terminated");
    return std::string(begin, nul);
}

size_t ElfFile::symbol_count(const Shdr& table, const std::string& what) const
{
    if (table.sh_entsize != sizeof(Sym))
        error(what + " sh_entsize " + std::to_string(table.sh_entsize) + " is not 24");
    if (table.sh_size % sizeof(Sym) != 0)
        error(what + " sh_size " + std::to_string(table.sh_size) + " is not a multiple of 24");
    return table.sh_size / sizeof(Sym);
}

Sym ElfFile::symbol(const Shdr& table, size_t index) const { return read<Sym>(table.sh_offset + index * sizeof(Sym)); }

uint64_t ElfFile::symbol_value(const char* name) const
{
    std::optional<size_t> symtab = unique_section(SHT_SYMTAB, "SHT_SYMTAB");
    if (!symtab)
        error(std::string("no .symtab (a stripped file?): cannot find ") + name);
    const Shdr& table = m_sections[*symtab];
    const Shdr& strings = string_table(table.sh_link, ".symtab sh_link");
    size_t count = symbol_count(table, ".symtab");
    for (size_t i = 1; i < count; ++i) {
        Sym entry = symbol(table, i);
        if (entry.st_shndx != SHN_UNDEF && entry.st_name != 0
            && string_at(strings, entry.st_name, ".symtab entry " + std::to_string(i) + " st_name") == name)
            return entry.st_value;
    }
    error(std::string("no symbol ") + name);
}

std::map<uint16_t, ElfFile::VersionNeed> ElfFile::version_needs(const Shdr& table) const
{
    const Shdr& strings = string_table(table.sh_link, ".gnu.version_r sh_link");
    std::map<uint16_t, VersionNeed> needs;
    uint64_t at = 0;
    // sh_info is the entry count; the size bounds the walk as well, so a
    // cycle of vn_next offsets cannot loop forever.
    for (uint32_t entry = 0; entry < table.sh_info; ++entry) {
        std::string where = ".gnu.version_r entry " + std::to_string(entry);
        if (at > table.sh_size || table.sh_size - at < sizeof(Verneed))
            error(where + " at " + hex(at) + " lies outside the section (" + hex(table.sh_size) + " bytes)");
        Verneed need = read<Verneed>(table.sh_offset + at);
        if (need.vn_version != 1)
            error(where + ": vn_version " + std::to_string(need.vn_version) + " is not 1");
        std::string file = string_at(strings, need.vn_file, where + " vn_file");
        uint64_t aux_at = at + need.vn_aux;
        for (uint16_t i = 0; i < need.vn_cnt; ++i) {
            std::string aux_where = where + " aux " + std::to_string(i);
            if (aux_at > table.sh_size || table.sh_size - aux_at < sizeof(Vernaux))
                error(aux_where + " at " + hex(aux_at) + " lies outside the section");
            Vernaux aux = read<Vernaux>(table.sh_offset + aux_at);
            needs[aux.vna_other & 0x7fff] = { file, string_at(strings, aux.vna_name, aux_where + " vna_name") };
            if (aux.vna_next == 0)
                break;
            aux_at += aux.vna_next;
        }
        if (need.vn_next == 0)
            break;
        at += need.vn_next;
    }
    return needs;
}

const uint8_t* ElfFile::at_address(uint64_t address, uint64_t size, const char* what) const
{
    for (const Phdr& load : m_loads)
        if (address >= load.p_vaddr && size <= load.p_filesz && address - load.p_vaddr <= load.p_filesz - size)
            return m_data + load.p_offset + (address - load.p_vaddr);
    error(std::string(what) + " at " + hex(address) + " (" + std::to_string(size)
        + " bytes) is not file data of a PT_LOAD segment");
}

std::string ElfFile::string_at_address(uint64_t address, const char* what) const
{
    for (const Phdr& load : m_loads) {
        if (address < load.p_vaddr || address - load.p_vaddr >= load.p_filesz)
            continue;
        const char* start = reinterpret_cast<const char*>(m_data + load.p_offset + (address - load.p_vaddr));
        size_t room = load.p_filesz - (address - load.p_vaddr);
        size_t length = strnlen(start, room);
        if (length == room)
            error(std::string(what) + " at " + hex(address) + " is not NUL-terminated");
        return std::string(start, length);
    }
    error(std::string(what) + " at " + hex(address) + " is not file data of a PT_LOAD segment");
}

} // namespace keel::tools
