// A validated view of a Keel module file (an ELF64 x86_64 shared object,
// see docs/module-format.md).
//
// parse() checks the whole file before anything trusts it (seL4's
// decode-then-invoke): headers, every program header, the dynamic section,
// string and symbol tables, hash tables, version chains, every relocation,
// the init/fini arrays, the modinfo notes, the section headers and the
// `.keel_kabi` import hashes. Once it succeeds, every accessor below is a
// plain read that cannot fail or go out of bounds, and apply_relocations()
// (relocate.h) can only fail when a symbol does not resolve.
//
// Nothing allocates: the image keeps pointers into the caller's file
// buffer, which must stay alive and unchanged while the image is used.
// Strings returned by accessors point into that buffer.
//
//     Diagnostic diagnostic;
//     auto image = ModuleImage::parse(file, size, diagnostic);
//     if (image.is_error())
//         log("insmod: %s", diagnostic.message);   // error is ENOEXEC
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"
#include "lib/elf/elf.h"

namespace keel {

class ModuleImage {
public:
    // Limits keep every loop short and every size representable; a module
    // that exceeds one is refused with a message naming the limit.
    static constexpr uint64_t kPageSize = 4096;
    static constexpr size_t kMaxProgramHeaders = 64;
    static constexpr size_t kMaxLoadSegments = 16;
    static constexpr uint64_t kMaxLoadSpan = 64 * 1024 * 1024;
    static constexpr size_t kMaxDynamicEntries = 1024;
    static constexpr uint32_t kMaxSymbols = 65536;
    static constexpr uint64_t kMaxRelocations = 1024 * 1024;
    static constexpr uint32_t kMaxVersions = 256; // version definitions + version needs
    static constexpr size_t kMaxModinfoEntries = 256;
    // A module name (and a parameter name): 1 to 55 characters of [a-z0-9_].
    static constexpr size_t kMaxNameLength = 55;
    static constexpr size_t kMaxKabiEntries = 65536;

    static constexpr uint32_t kModinfoNoteType = 1;
    static constexpr uint32_t kKabiVersion = 1;
    static constexpr uint32_t kModinfoVersion = 1;

    struct LoadSegment {
        uint64_t vaddr;
        uint64_t memsz;
        uint64_t offset; // in the file
        uint64_t filesz; // <= memsz; the rest is zero (bss)
        uint32_t flags;  // elf::PF_R | PF_W | PF_X; never both W and X
        bool writable() const { return flags & elf::PF_W; }
        bool executable() const { return flags & elf::PF_X; }
    };

    // Virtual address range [start, end); empty when start == end.
    struct Range {
        uint64_t start;
        uint64_t end;
        bool empty() const { return start == end; }
    };

    // An array of 8-byte pointers in the image (DT_INIT_ARRAY, DT_FINI_ARRAY);
    // its entries hold final addresses only after relocation.
    struct PointerArray {
        uint64_t vaddr;
        uint64_t count;
    };

    struct Symbol {
        const char* name;
        uint64_t value; // virtual address in the image when defined
        uint64_t size;
        uint8_t type;       // elf::STT_*
        uint8_t bind;       // elf::STB_LOCAL, STB_GLOBAL or STB_WEAK
        uint8_t visibility; // elf::STV_*
        bool defined;       // false: an import the loader must resolve
        // GNU ld (up to at least 2.40) exports each version node it defines
        // as an absolute symbol named after it, value 0. Such a marker is
        // `defined` but is neither code nor data: lookups and relocations
        // never use it, and the loader should skip it.
        bool version_marker;
        // The version node ("KABI_CORE_1.0"), or nullptr when unversioned.
        const char* version;
        // The node is not the default one (name@VER rather than name@@VER):
        // only a lookup naming the version finds it.
        bool version_hidden;
        // For an import, the file that must provide `version` ("libkeel.so"
        // for the core, else another module's soname); nullptr otherwise.
        const char* version_file;
    };

    struct Relocation {
        uint64_t offset;          // virtual address of the 8 bytes it writes
        uint32_t type;            // as the file numbers it (machine()'s numbering)
        elf::RelocationKind kind; // never Unsupported: parse() refused those
        uint32_t symbol;          // index into the symbol table; 0 for RELATIVE and NONE
        int64_t addend;
        const char* table; // "DT_RELA" or "DT_JMPREL", for messages
        uint64_t table_index;
    };

    // A version node this module defines for its own exports.
    struct VersionDefinition {
        const char* name;
        uint16_t index; // as used in .gnu.version
        uint16_t flags; // elf::VER_FLG_WEAK; the base entry is not reported
    };

    // A version node this module requires from another file.
    struct VersionNeed {
        const char* file; // "libkeel.so" or a module soname
        const char* name; // "KABI_CORE_1.0"
        uint16_t index;
        uint16_t flags;
    };

    // One modinfo string "key=value"; `key` is not NUL-terminated at the
    // '=', so compare key_length bytes. `value` is NUL-terminated.
    struct ModinfoEntry {
        const char* key;
        size_t key_length;
        const char* value;
    };

    // One `.keel_kabi` record: the declaration hash the SDK had for an import.
    struct KabiEntry {
        uint64_t hash;
        const char* name;
        const char* node;
    };

    // An empty image (no segments, no symbols); parse() makes real ones.
    ModuleImage() = default;

    // `machine`: the e_machine the module must be for (the kernel's own);
    // 0 takes any machine modules are built for (elf::find_module_machine),
    // as the host tools do.
    static Result<ModuleImage> parse(const uint8_t* file, size_t size, Diagnostic& diagnostic, uint16_t machine = 0);

    // e_machine (EM_X86_64 or EM_AARCH64).
    uint16_t machine() const { return m_machine ? m_machine->e_machine : 0; }

    // Layout. Modules are linked at 0: the image occupies [0, load_span())
    // and every vaddr below is an offset from the address it is loaded at.
    size_t load_segment_count() const { return m_load_count; }
    LoadSegment load_segment(size_t index) const;
    // From 0 to the page-aligned end of the highest PT_LOAD.
    uint64_t load_span() const { return m_load_span; }
    // The largest p_align: the load address should be aligned to it.
    uint64_t load_alignment() const { return m_load_alignment; }
    // Pages to make read-only after relocation (PT_GNU_RELRO rounded to
    // whole pages as glibc does: start down, end down); may be empty.
    Range relro() const { return m_relro; }
    // The load segment containing [vaddr, vaddr + size), or null.
    const LoadSegment* find_segment(uint64_t vaddr, uint64_t size) const;
    // True if vaddr lies in an executable segment (entry points, init_array
    // entries after relocation).
    bool is_executable(uint64_t vaddr) const;

    // Dynamic section.
    const char* soname() const; // nullptr when absent
    size_t needed_count() const { return m_needed_count; }
    template<typename F> void for_each_needed(F&& f) const
    {
        for (size_t i = 0; i < m_dynamic_count; ++i) {
            elf::Dyn entry = dynamic_entry(i);
            if (entry.d_tag == elf::DT_NEEDED)
                f(string_at(entry.d_val));
        }
    }
    PointerArray init_array() const { return m_init_array; }
    PointerArray fini_array() const { return m_fini_array; }

    // Symbols (the dynamic symbol table; index 0 is the null symbol).
    uint32_t symbol_count() const { return m_symbol_count; }
    Symbol symbol(uint32_t index) const;
    // Its st_value alone, without the name and version lookups of symbol().
    uint64_t symbol_value(uint32_t index) const { return raw_symbol(index).st_value; }
    // The defined, non-local symbol `name`. With `version` null: the default
    // version or an unversioned symbol; otherwise exactly that node, hidden
    // or not. ENOENT if there is none. Uses the GNU hash table when present.
    Result<uint32_t> find_defined_symbol(const char* name, const char* version = nullptr) const;

    // Versions.
    template<typename F> void for_each_version_definition(F&& f) const
    {
        uint64_t offset = m_verdef_offset;
        for (uint32_t i = 0; i < m_verdef_count; ++i) {
            VersionDefinition definition = read_version_definition(offset);
            if (!(definition.flags & elf::VER_FLG_BASE))
                f(VersionDefinition { definition.name, definition.index, definition.flags });
        }
    }
    template<typename F> void for_each_version_need(F&& f) const
    {
        uint64_t offset = m_verneed_offset;
        for (uint32_t i = 0; i < m_verneed_count; ++i) {
            elf::Verneed need = read<elf::Verneed>(offset);
            uint64_t aux = offset + need.vn_aux;
            for (uint16_t j = 0; j < need.vn_cnt; ++j) {
                elf::Vernaux entry = read<elf::Vernaux>(aux);
                f(VersionNeed { string_at(need.vn_file), string_at(entry.vna_name), entry.vna_other, entry.vna_flags });
                aux += entry.vna_next;
            }
            offset += need.vn_next;
        }
    }

    // Relocations: DT_RELA's entries, then DT_JMPREL's.
    uint64_t relocation_count() const { return m_rela_count + m_jmprel_count; }
    Relocation relocation(uint64_t index) const
    {
        bool plt = index >= m_rela_count;
        uint64_t table_index = plt ? index - m_rela_count : index;
        elf::Rela rela = read<elf::Rela>((plt ? m_jmprel_offset : m_rela_offset) + table_index * sizeof(elf::Rela));
        uint32_t type = elf::relocation_type(rela.r_info);
        return { rela.r_offset, type, m_machine->kind(type), elf::relocation_symbol(rela.r_info), rela.r_addend,
            plt ? "DT_JMPREL" : "DT_RELA", table_index };
    }
    // A table's entries as the file has them, undecoded: DT_RELA's, or
    // DT_JMPREL's (plt); relocation(first + k) decodes entry k. With the
    // r_info of a RELATIVE relocation (type RELATIVE, symbol 0),
    // apply_relocations writes those, most of a module's, straight from
    // the table.
    struct RawRelocations {
        const uint8_t* entries;
        uint64_t count;
        uint64_t first;
    };
    RawRelocations raw_relocations(bool plt) const
    {
        return plt ? RawRelocations { m_file + m_jmprel_offset, m_jmprel_count, m_rela_count }
                   : RawRelocations { m_file + m_rela_offset, m_rela_count, 0 };
    }
    uint64_t relative_info() const { return m_machine->relative; }
    template<typename F> void for_each_relocation(F&& f) const
    {
        for (uint64_t i = 0; i < relocation_count(); ++i)
            f(relocation(i));
    }

    // Modinfo: the "key=value" strings of the `Keel` type-1 notes, in file order.
    template<typename F> void for_each_modinfo(F&& f) const
    {
        NoteCursor cursor;
        ModinfoEntry entry;
        while (next_modinfo(cursor, entry))
            f(entry);
    }
    // The value of the first entry with this key, or nullptr.
    const char* modinfo(const char* key) const;
    // What parse() found, kept so the loader need not walk the notes again:
    // the module's name (present and valid once parsed) and intree=Y.
    const char* name() const { return m_name; }
    bool in_tree() const { return m_in_tree; }

    // Import hashes from `.keel_kabi` (none if the section is absent).
    bool has_kabi() const { return m_kabi.present; }
    size_t kabi_count() const { return m_kabi.count; }
    KabiEntry kabi_entry(size_t index) const;
    bool find_kabi_entry(const char* name, const char* node, KabiEntry& out) const;

    // The hashes of the module's own exports (`.keel_exports`, written by
    // kmodpost from the module's interface description; absent for modules
    // that export without one).
    bool has_export_hashes() const { return m_exports.present; }
    size_t export_hash_count() const { return m_exports.count; }
    KabiEntry export_hash_entry(size_t index) const;
    bool find_export_hash(const char* name, const char* node, KabiEntry& out) const;

    // The canonical declaration kmodpost recorded for an import or export
    // name@node (`.keel_decls`), or nullptr.
    const char* declaration(const char* name, const char* node) const;

    // The `.keel_device_table` section (driver match tables, checked by
    // parse() with lib/devmatch): its bytes in the file, or null and 0.
    const uint8_t* device_table() const { return m_device_table_size ? m_file + m_device_table_offset : nullptr; }
    size_t device_table_size() const { return m_device_table_size; }

    const uint8_t* file() const { return m_file; }
    size_t file_size() const { return m_size; }

private:
    // Position of the next note: program header `phdr`, file offset `offset`.
    // Position in the PT_NOTE segments: the next program header to look
    // at, and the current segment's data [start, end) with `offset` the
    // next note in it.
    struct NoteCursor {
        size_t phdr = 0;
        uint64_t start = 0;
        uint64_t offset = 0;
        uint64_t end = 0;
        uint64_t alignment = 4;
    };

    // The parse pipeline, in order; each stage relies on the ones before.
    Result<void> parse_file_header(Diagnostic&);
    Result<void> parse_program_headers(Diagnostic&);
    Result<void> parse_dynamic_section(Diagnostic&);
    Result<void> parse_hash_tables(Diagnostic&);
    Result<void> parse_versions(Diagnostic&);
    Result<void> parse_symbols(Diagnostic&);
    Result<void> parse_relocations(Diagnostic&);
    Result<void> parse_arrays(Diagnostic&);
    Result<void> parse_notes(Diagnostic&);
    Result<void> parse_modinfo(Diagnostic&);
    Result<void> parse_section_headers(Diagnostic&);
    // `.keel_kabi` and `.keel_exports`: { u64 hash; u32 name; u32 node } entries.
    struct HashSection {
        bool present = false;
        uint64_t offset = 0; // first entry
        size_t count = 0;
        uint64_t strings = 0;
        uint64_t strings_size = 0;
    };
    Result<void> parse_hash_section(
        Diagnostic&, const elf::Shdr&, uint32_t section, const char* name, HashSection& out) const;
    Result<void> parse_declarations(Diagnostic&, const elf::Shdr&, uint32_t section);
    KabiEntry hash_entry(const HashSection& table, size_t index) const;
    bool find_hash_entry(const HashSection& table, const char* name, const char* node, KabiEntry& out) const;
    Result<void> parse_device_table(Diagnostic&, const elf::Shdr&, uint32_t section);
    Result<void> check_parameter(const char* value, Diagnostic&) const;

    // Parse helpers.
    bool file_range(uint64_t offset, uint64_t size) const;
    bool translate(uint64_t vaddr, uint64_t size, uint64_t& offset) const;
    Result<void> check_string(uint64_t offset, const char* what, Diagnostic&) const;
    bool valid_string(uint64_t offset) const;
    Result<void> check_relocation_table(const char* table, uint64_t offset, uint64_t count, Diagnostic&);

    template<typename T> T read(uint64_t offset) const
    {
        T value;
        __builtin_memcpy(&value, m_file + offset, sizeof(T));
        return value;
    }
    elf::Phdr program_header(size_t index) const;
    elf::Dyn dynamic_entry(size_t index) const;
    elf::Sym raw_symbol(uint32_t index) const;
    const char* string_at(uint64_t offset) const;
    VersionDefinition read_version_definition(uint64_t& offset) const;
    bool find_version(uint16_t index, const char*& name, const char*& file) const;
    bool symbol_matches(uint32_t index, const char* name, const char* version) const;
    bool next_modinfo(NoteCursor&, ModinfoEntry&) const;

    const uint8_t* m_file = nullptr;
    size_t m_size = 0;

    uint64_t m_phoff = 0;
    size_t m_phnum = 0;
    LoadSegment m_load[kMaxLoadSegments] = {}; // decoded once: relocation checks ask often
    size_t m_load_count = 0;
    uint64_t m_load_span = 0;
    uint64_t m_load_alignment = 0;
    Range m_relro = { 0, 0 };
    const char* m_name = nullptr;
    bool m_in_tree = false;
    // The modinfo entries ("key=value" and the key's length) as
    // parse_notes found them, so that parse_modinfo and modinfo(key) need
    // not walk the notes again; unless m_modinfo_uncached (more than
    // kCachedModinfo entries or a longer key).
    static constexpr size_t kCachedModinfo = 24;
    const char* m_modinfo_text[kCachedModinfo] = {};
    uint8_t m_modinfo_key_length[kCachedModinfo] = {};
    size_t m_modinfo_count = 0;
    bool m_modinfo_uncached = false;
    size_t m_dynamic_phdr = 0;

    uint64_t m_dynamic_offset = 0;
    size_t m_dynamic_count = 0; // entries before DT_NULL
    size_t m_needed_count = 0;
    bool m_has_soname = false;
    uint64_t m_soname = 0;

    uint64_t m_strtab_offset = 0;
    uint64_t m_strtab_size = 0;
    uint64_t m_symtab_offset = 0;
    uint32_t m_symbol_count = 0;

    bool m_has_gnu_hash = false;
    uint64_t m_gnu_hash_offset = 0;
    bool m_has_hash = false;
    uint64_t m_hash_offset = 0;

    bool m_has_versym = false;
    uint64_t m_versym_offset = 0;
    uint64_t m_verdef_offset = 0;
    uint32_t m_verdef_count = 0;
    uint64_t m_verneed_offset = 0;
    uint32_t m_verneed_count = 0;

    uint64_t m_rela_offset = 0;
    uint64_t m_rela_count = 0;
    uint64_t m_jmprel_offset = 0;
    uint64_t m_jmprel_count = 0;

    PointerArray m_init_array = { 0, 0 };
    PointerArray m_fini_array = { 0, 0 };

    HashSection m_kabi;
    HashSection m_exports;
    // `.keel_decls`: { u32 key ("name@node"); u32 declaration } entries.
    bool m_has_decls = false;
    uint64_t m_decls_offset = 0;
    size_t m_decls_count = 0;
    uint64_t m_decls_strings = 0;
    uint64_t m_decls_strings_size = 0;
    uint64_t m_device_table_offset = 0;
    size_t m_device_table_size = 0;
    const elf::ModuleMachine* m_machine = nullptr;
    uint16_t m_required_machine = 0;
};

} // namespace keel
