// An ELF64 little-endian x86_64 file read through its section and program
// headers: what kmodpost needs of a linked module (its imports, and the
// section table it rewrites) and kmodinfo of a core (the export table,
// found through .symtab and PT_LOAD). What a module says about itself
// (modinfo, imports, .keel_kabi) kmodinfo reads with the loader's own
// validator, lib/elf/module_image.h, so it sees what the kernel would see.
//
// The file is untrusted. The constructor checks the ELF header, that both
// header tables and every section lie in the file and that the section
// names are a string table; each accessor checks what it reads beyond that.
// Failures (tools::fail) name the file, the field and the value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/elf/elf.h"

namespace keel::tools {

// Section types the loader does not need (it finds its tables through the
// dynamic section), so lib/elf/elf.h leaves them out.
constexpr uint32_t SHT_SYMTAB = 2;
constexpr uint32_t SHT_DYNSYM = 11;
constexpr uint32_t SHT_GNU_VERNEED = 0x6ffffffe;
constexpr uint32_t SHT_GNU_VERSYM = 0x6fffffff;

class ElfFile {
public:
    // `data` is not copied: it must outlive the ElfFile.
    ElfFile(std::string path, const uint8_t* data, size_t size);

    const std::string& path() const { return m_path; }
    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    const elf::Ehdr& header() const { return m_header; }

    // Sections; index 0 is the null section.
    const std::vector<elf::Shdr>& sections() const { return m_sections; }
    uint16_t names_index() const { return m_header.e_shstrndx; }
    std::string section_name(size_t index) const;
    // The one section of `type`; more than one is an error.
    std::optional<size_t> unique_section(uint32_t type, const char* what) const;
    // The string table section `index` (an sh_link) names.
    const elf::Shdr& string_table(uint32_t index, const std::string& what) const;
    std::string string_at(const elf::Shdr& table, uint64_t offset, const std::string& what) const;

    // Symbol tables (SHT_SYMTAB, SHT_DYNSYM): entry 0 is the null symbol.
    size_t symbol_count(const elf::Shdr& table, const std::string& what) const;
    elf::Sym symbol(const elf::Shdr& table, size_t index) const;
    // The value of the defined .symtab symbol `name`.
    uint64_t symbol_value(const char* name) const;

    // .gnu.version_r: what each version index of .gnu.version names.
    struct VersionNeed {
        std::string file; // the library that defines it: libkeel.so or a module's soname
        std::string node;
    };
    std::map<uint16_t, VersionNeed> version_needs(const elf::Shdr& table) const;

    // Bytes at a virtual address, from the file data of a PT_LOAD segment.
    const uint8_t* at_address(uint64_t address, uint64_t size, const char* what) const;
    std::string string_at_address(uint64_t address, const char* what) const;

    // Reads a field the caller has checked lies in the file.
    template<typename T> T read(uint64_t offset) const
    {
        T value;
        __builtin_memcpy(&value, m_data + offset, sizeof(T));
        return value;
    }

    void check_range(const std::string& what, uint64_t offset, uint64_t size) const;
    [[noreturn]] void error(const std::string& message) const;

private:
    std::string m_path;
    const uint8_t* m_data;
    size_t m_size;
    elf::Ehdr m_header;
    std::vector<elf::Shdr> m_sections;
    std::vector<elf::Phdr> m_loads;
};

} // namespace keel::tools
