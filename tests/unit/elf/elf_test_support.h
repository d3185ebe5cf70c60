// Helpers for the ELF tests: load the modules built by meson.build, find
// fields inside them (to corrupt one at a time) and walk a parsed image the
// way the loader will. Shared with tests/fuzz/elf.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "lib/elf/elf.h"
#include "lib/elf/module_image.h"
#include "lib/elf/relocate.h"

namespace elf_test {

using Bytes = std::vector<uint8_t>;

// A module built for the tests; the directory comes from the environment
// variable KEEL_ELF_TEST_DIR that meson.build sets.
Bytes load_module(const char* name);

// Reads and writes fields of an ELF file by file offset. Lookups go through
// the file's own headers, so they work on the unmodified modules.
class ElfEditor {
public:
    explicit ElfEditor(Bytes& bytes)
        : m_bytes(bytes)
    {
    }

    template<typename T> T get(size_t offset) const
    {
        T value;
        memcpy(&value, m_bytes.data() + offset, sizeof(T));
        return value;
    }
    template<typename T> void put(size_t offset, T value) { memcpy(m_bytes.data() + offset, &value, sizeof(T)); }

    Bytes& bytes() { return m_bytes; }
    keel::elf::Ehdr header() const { return get<keel::elf::Ehdr>(0); }
    size_t phdr_offset(size_t index) const;
    // Index of the n-th program header of this type; aborts the test if absent.
    size_t find_phdr(uint32_t type, size_t nth = 0) const;
    keel::elf::Phdr phdr(size_t index) const { return get<keel::elf::Phdr>(phdr_offset(index)); }

    size_t vaddr_to_offset(uint64_t vaddr) const;
    // File offset of the dynamic entry with this tag.
    size_t find_dynamic(int64_t tag) const;
    uint64_t dynamic_value(int64_t tag) const;

    size_t symbol_offset(uint32_t index) const;
    size_t rela_offset(uint64_t index) const; // entries of DT_RELA
    size_t jmprel_offset(uint64_t index) const;
    size_t verneed_offset() const { return vaddr_to_offset(dynamic_value(keel::elf::DT_VERNEED)); }
    size_t versym_offset(uint32_t index) const;
    // File offset of the section header named `name`.
    size_t find_section(const char* name) const;
    // File offset of the first Keel note whose descriptor starts with `prefix`.
    size_t find_modinfo_note(const char* prefix) const;

private:
    Bytes& m_bytes;
};

// Calls every accessor of a parsed image and checks what it promises
// (strings are NUL-terminated, indices are in range). Returns the number
// of things walked so the compiler keeps the work.
size_t walk_image(const keel::ModuleImage& image);

// copy_segments + apply_relocations into a fresh buffer with a resolver
// that invents addresses. Returns the result of apply_relocations.
keel::Result<void> load_into_buffer(const keel::ModuleImage& image, const Bytes& file, uint64_t load_address);

} // namespace elf_test
