// ModuleImage: the parse pipeline and the layout checks (ELF header,
// program headers, dynamic section). Symbols, versions and relocations are
// in module_symbols.cpp; notes, modinfo, sections and `.keel_kabi` in
// module_metadata.cpp.
#include "lib/elf/module_image.h"

#include "lib/base/name.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

using namespace elf;

Result<ModuleImage> ModuleImage::parse(const uint8_t* file, size_t size, Diagnostic& diagnostic, uint16_t machine)
{
    diagnostic.clear();
    ModuleImage image;
    image.m_file = file;
    image.m_size = size;
    image.m_required_machine = machine;
    TRY(image.parse_file_header(diagnostic));
    TRY(image.parse_program_headers(diagnostic));
    TRY(image.parse_dynamic_section(diagnostic));
    TRY(image.parse_hash_tables(diagnostic));
    TRY(image.parse_versions(diagnostic));
    TRY(image.parse_symbols(diagnostic));
    TRY(image.parse_relocations(diagnostic));
    TRY(image.parse_arrays(diagnostic));
    TRY(image.parse_notes(diagnostic));
    TRY(image.parse_modinfo(diagnostic));
    TRY(image.parse_section_headers(diagnostic));
    return image;
}

bool ModuleImage::file_range(uint64_t offset, uint64_t size) const
{
    uint64_t end;
    return !add_overflows(offset, size, &end) && end <= m_size;
}

// Dynamic-section pointers are virtual addresses; the bytes behind them are
// found through the PT_LOAD whose file data holds them. Bytes only in
// memory (bss) have no file offset, so tables there are refused.
bool ModuleImage::translate(uint64_t vaddr, uint64_t size, uint64_t& offset) const
{
    uint64_t end;
    if (add_overflows(vaddr, size, &end))
        return false;
    for (size_t i = 0; i < m_load_count; ++i) {
        const LoadSegment& segment = m_load[i];
        if (vaddr >= segment.vaddr && end <= segment.vaddr + segment.filesz) {
            offset = segment.offset + (vaddr - segment.vaddr);
            return true;
        }
    }
    return false;
}

Phdr ModuleImage::program_header(size_t index) const { return read<Phdr>(m_phoff + index * sizeof(Phdr)); }

Dyn ModuleImage::dynamic_entry(size_t index) const { return read<Dyn>(m_dynamic_offset + index * sizeof(Dyn)); }

Result<void> ModuleImage::parse_file_header(Diagnostic& diagnostic)
{
    if (!m_file || m_size < sizeof(Ehdr))
        return reject(diagnostic, "file size 0x%zx is smaller than the ELF header (0x40 bytes)", m_size);
    Ehdr header = read<Ehdr>(0);
    const uint8_t* ident = header.e_ident;
    if (ident[0] != ELFMAG0 || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F')
        return reject(diagnostic, "e_ident: bad magic %02x %02x %02x %02x (not an ELF file)", ident[0], ident[1],
            ident[2], ident[3]);
    if (ident[EI_CLASS] != ELFCLASS64)
        return reject(diagnostic, "e_ident[EI_CLASS] %u: modules are ELFCLASS64 (2)", ident[EI_CLASS]);
    if (ident[EI_DATA] != ELFDATA2LSB)
        return reject(diagnostic, "e_ident[EI_DATA] %u: modules are little-endian ELFDATA2LSB (1)", ident[EI_DATA]);
    if (ident[EI_VERSION] != EV_CURRENT)
        return reject(diagnostic, "e_ident[EI_VERSION] %u: expected EV_CURRENT (1)", ident[EI_VERSION]);
    if (ident[EI_OSABI] != ELFOSABI_SYSV && ident[EI_OSABI] != ELFOSABI_GNU)
        return reject(
            diagnostic, "e_ident[EI_OSABI] %u: expected ELFOSABI_SYSV (0) or ELFOSABI_GNU (3)", ident[EI_OSABI]);
    if (ident[EI_ABIVERSION] != 0)
        return reject(diagnostic, "e_ident[EI_ABIVERSION] %u: expected 0", ident[EI_ABIVERSION]);
    if (header.e_type != ET_DYN)
        return reject(diagnostic, "e_type %u: modules are shared objects, ET_DYN (3)", header.e_type);
    m_machine = find_module_machine(header.e_machine);
    if (!m_machine)
        return reject(diagnostic, "e_machine %u: modules are EM_X86_64 (62) or EM_AARCH64 (183)", header.e_machine);
    if (m_required_machine && header.e_machine != m_required_machine) {
        const ModuleMachine* wanted = find_module_machine(m_required_machine);
        return reject(diagnostic, "e_machine %u (%s): modules for this kernel are %s (%u)", header.e_machine,
            m_machine->name, wanted ? wanted->name : "?", m_required_machine);
    }
    if (header.e_version != EV_CURRENT)
        return reject(diagnostic, "e_version %u: expected EV_CURRENT (1)", header.e_version);
    if (header.e_ehsize != sizeof(Ehdr))
        return reject(diagnostic, "e_ehsize %u: expected 64", header.e_ehsize);
    if (header.e_phentsize != sizeof(Phdr))
        return reject(diagnostic, "e_phentsize %u: expected 56", header.e_phentsize);
    if (header.e_phnum == 0)
        return reject(diagnostic, "e_phnum 0: a module needs program headers");
    if (header.e_phnum == PN_XNUM)
        return reject(diagnostic, "e_phnum 0xffff (PN_XNUM): extended program header numbering is not supported");
    if (header.e_phnum > kMaxProgramHeaders)
        return reject(
            diagnostic, "e_phnum %u exceeds the limit of %zu program headers", header.e_phnum, kMaxProgramHeaders);
    if (!file_range(header.e_phoff, uint64_t(header.e_phnum) * sizeof(Phdr)))
        return reject(diagnostic, "e_phoff 0x%lx + e_phnum %u * 56 exceeds file size 0x%zx", header.e_phoff,
            header.e_phnum, m_size);
    m_phoff = header.e_phoff;
    m_phnum = header.e_phnum;
    return {};
}

namespace {

constexpr uint64_t kMaxAlignment = 2 * 1024 * 1024;

} // namespace

Result<void> ModuleImage::parse_program_headers(Diagnostic& diagnostic)
{
    size_t dynamic_count = 0;
    size_t relro_count = 0;
    size_t relro_phdr = 0;
    uint64_t previous_end = 0;

    for (size_t i = 0; i < m_phnum; ++i) {
        Phdr header = program_header(i);
        switch (header.p_type) {
        case PT_LOAD: {
            uint64_t file_end;
            uint64_t memory_end;
            if (m_load_count == kMaxLoadSegments)
                return reject(
                    diagnostic, "program header %zu (PT_LOAD): more than %zu PT_LOAD segments", i, kMaxLoadSegments);
            if (header.p_flags & ~(PF_R | PF_W | PF_X))
                return reject(
                    diagnostic, "program header %zu (PT_LOAD): p_flags 0x%x has unknown bits", i, header.p_flags);
            if ((header.p_flags & PF_W) && (header.p_flags & PF_X))
                return reject(diagnostic, "program header %zu (PT_LOAD): segment %zu is writable and executable", i,
                    m_load_count);
            if (!(header.p_flags & PF_R))
                return reject(diagnostic, "program header %zu (PT_LOAD): p_flags 0x%x: segment is not readable", i,
                    header.p_flags);
            if (header.p_memsz == 0)
                return reject(diagnostic, "program header %zu (PT_LOAD): p_memsz is 0", i);
            if (header.p_filesz > header.p_memsz)
                return reject(diagnostic, "program header %zu (PT_LOAD): p_filesz 0x%lx exceeds p_memsz 0x%lx", i,
                    header.p_filesz, header.p_memsz);
            if (add_overflows(header.p_offset, header.p_filesz, &file_end) || file_end > m_size)
                return reject(diagnostic,
                    "program header %zu (PT_LOAD): p_offset 0x%lx + p_filesz 0x%lx exceeds file size 0x%zx", i,
                    header.p_offset, header.p_filesz, m_size);
            if (add_overflows(header.p_vaddr, header.p_memsz, &memory_end) || memory_end > kMaxLoadSpan)
                return reject(diagnostic,
                    "program header %zu (PT_LOAD): p_vaddr 0x%lx + p_memsz 0x%lx exceeds the load span limit 0x%lx", i,
                    header.p_vaddr, header.p_memsz, kMaxLoadSpan);
            if (!is_power_of_two(header.p_align) || header.p_align < kPageSize || header.p_align > kMaxAlignment)
                return reject(diagnostic,
                    "program header %zu (PT_LOAD): p_align 0x%lx is not a power of two from 0x%lx to 0x%lx", i,
                    header.p_align, kPageSize, kMaxAlignment);
            if (header.p_offset % kPageSize != header.p_vaddr % kPageSize)
                return reject(diagnostic,
                    "program header %zu (PT_LOAD): p_offset 0x%lx and p_vaddr 0x%lx differ modulo the page size", i,
                    header.p_offset, header.p_vaddr);
            // Each segment gets its own page permissions, so no two may share a page.
            if (m_load_count == 0 && align_down(header.p_vaddr, kPageSize) != 0)
                return reject(diagnostic,
                    "program header %zu (PT_LOAD): lowest p_vaddr 0x%lx is not in page 0 (modules are linked at 0)", i,
                    header.p_vaddr);
            if (m_load_count > 0 && align_down(header.p_vaddr, kPageSize) < previous_end)
                return reject(diagnostic,
                    "program header %zu (PT_LOAD): p_vaddr 0x%lx overlaps the previous PT_LOAD's pages (ending at "
                    "0x%lx) or is out of order",
                    i, header.p_vaddr, previous_end);
            previous_end = align_up(memory_end, kPageSize);
            m_load[m_load_count++]
                = { header.p_vaddr, header.p_memsz, header.p_offset, header.p_filesz, header.p_flags };
            m_load_span = previous_end;
            m_load_alignment = max(m_load_alignment, header.p_align);
            break;
        }
        case PT_DYNAMIC:
            ++dynamic_count;
            m_dynamic_phdr = i;
            break;
        case PT_GNU_RELRO:
            ++relro_count;
            relro_phdr = i;
            break;
        case PT_NOTE:
            // Checked with their contents in parse_notes().
            break;
        case PT_GNU_STACK:
            if (header.p_flags & PF_X)
                return reject(diagnostic,
                    "program header %zu (PT_GNU_STACK): executable stacks are not allowed (p_flags 0x%x)", i,
                    header.p_flags);
            break;
        case PT_NULL:
        case PT_PHDR:
        case PT_GNU_EH_FRAME:
        case PT_GNU_PROPERTY:
            // Informational: the loader reads nothing through them.
            break;
        case PT_INTERP: return reject(diagnostic, "program header %zu (PT_INTERP): modules have no interpreter", i);
        case PT_TLS: return reject(diagnostic, "program header %zu (PT_TLS): thread-local storage is not supported", i);
        default:
            return reject(diagnostic, "program header %zu: segment type %s (0x%x) is not supported", i,
                segment_type_name(header.p_type), header.p_type);
        }
    }

    if (m_load_count == 0)
        return reject(diagnostic, "no PT_LOAD program header: nothing to load");
    if (dynamic_count != 1)
        return reject(diagnostic, "%zu PT_DYNAMIC program headers: a module has exactly one", dynamic_count);
    if (relro_count > 1)
        return reject(diagnostic, "%zu PT_GNU_RELRO program headers: at most one is allowed", relro_count);

    if (relro_count == 1) {
        Phdr relro = program_header(relro_phdr);
        uint64_t end;
        bool inside = false;
        if (!add_overflows(relro.p_vaddr, relro.p_memsz, &end)) {
            // Linkers extend RELRO to the end of its last page, past p_memsz
            // of the segment: compare at page granularity.
            for (size_t i = 0; i < m_load_count && !inside; ++i) {
                LoadSegment segment = load_segment(i);
                inside = segment.writable() && relro.p_vaddr >= align_down(segment.vaddr, kPageSize)
                    && end <= align_up(segment.vaddr + segment.memsz, kPageSize);
            }
        }
        if (!inside)
            return reject(diagnostic,
                "program header %zu (PT_GNU_RELRO): p_vaddr 0x%lx + p_memsz 0x%lx is not inside a writable PT_LOAD",
                relro_phdr, relro.p_vaddr, relro.p_memsz);
        m_relro = { align_down(relro.p_vaddr, kPageSize), align_down(end, kPageSize) };
    }
    return {};
}

namespace {

// A dependency names the core (libkeel.so) or a module, NAME or NAME.kmod,
// which the loader looks up in the module directory. Anything else (a
// '/', "..", an empty name) would let the file choose a path to load and
// run code from.
bool is_dependency_name(const char* text)
{
    if (strcmp(text, "libkeel.so") == 0)
        return true;
    size_t length = strlen(text);
    if (length > 5 && strcmp(text + length - 5, ".kmod") == 0)
        length -= 5;
    if (length == 0 || length > ModuleImage::kMaxNameLength)
        return false;
    for (size_t i = 0; i < length; ++i) {
        if (!is_name_character(text[i]))
            return false;
    }
    return true;
}

bool is_printable(const char* text)
{
    for (; *text; ++text) {
        if (*text < 0x20 || *text > 0x7e)
            return false;
    }
    return true;
}

// Single-valued dynamic tags, recorded once each while walking the section.
struct DynamicValues {
    enum Slot {
        kStrtab,
        kStrsz,
        kSymtab,
        kSyment,
        kGnuHash,
        kHash,
        kRela,
        kRelasz,
        kRelaent,
        kRelacount,
        kJmprel,
        kPltrelsz,
        kPltrel,
        kInitArray,
        kInitArraysz,
        kFiniArray,
        kFiniArraysz,
        kVersym,
        kVerdef,
        kVerdefnum,
        kVerneed,
        kVerneednum,
        kSoname,
        kFlags,
        kFlags1,
        kSlotCount,
    };
    uint64_t value[kSlotCount] = {};
    bool present[kSlotCount] = {};

    bool has(Slot slot) const { return present[slot]; }
    uint64_t get(Slot slot) const { return value[slot]; }
};

int slot_for_tag(int64_t tag)
{
    switch (tag) {
    case DT_STRTAB: return DynamicValues::kStrtab;
    case DT_STRSZ: return DynamicValues::kStrsz;
    case DT_SYMTAB: return DynamicValues::kSymtab;
    case DT_SYMENT: return DynamicValues::kSyment;
    case DT_GNU_HASH: return DynamicValues::kGnuHash;
    case DT_HASH: return DynamicValues::kHash;
    case DT_RELA: return DynamicValues::kRela;
    case DT_RELASZ: return DynamicValues::kRelasz;
    case DT_RELAENT: return DynamicValues::kRelaent;
    case DT_RELACOUNT: return DynamicValues::kRelacount;
    case DT_JMPREL: return DynamicValues::kJmprel;
    case DT_PLTRELSZ: return DynamicValues::kPltrelsz;
    case DT_PLTREL: return DynamicValues::kPltrel;
    case DT_INIT_ARRAY: return DynamicValues::kInitArray;
    case DT_INIT_ARRAYSZ: return DynamicValues::kInitArraysz;
    case DT_FINI_ARRAY: return DynamicValues::kFiniArray;
    case DT_FINI_ARRAYSZ: return DynamicValues::kFiniArraysz;
    case DT_VERSYM: return DynamicValues::kVersym;
    case DT_VERDEF: return DynamicValues::kVerdef;
    case DT_VERDEFNUM: return DynamicValues::kVerdefnum;
    case DT_VERNEED: return DynamicValues::kVerneed;
    case DT_VERNEEDNUM: return DynamicValues::kVerneednum;
    case DT_SONAME: return DynamicValues::kSoname;
    case DT_FLAGS: return DynamicValues::kFlags;
    case DT_FLAGS_1: return DynamicValues::kFlags1;
    }
    return -1;
}

// Why a tag the loader understands but will not accept is refused; nullptr
// for tags that are fine.
const char* refused_tag_reason(int64_t tag)
{
    switch (tag) {
    case DT_TEXTREL: return "text relocations are not allowed";
    case DT_REL:
    case DT_RELSZ:
    case DT_RELENT:
    case DT_RELCOUNT: return "REL relocations are not supported (x86_64 modules use RELA)";
    case DT_INIT:
    case DT_FINI: return "DT_INIT/DT_FINI are not supported (use DT_INIT_ARRAY/DT_FINI_ARRAY)";
    case DT_RELR:
    case DT_RELRSZ:
    case DT_RELRENT: return "packed relative relocations are not supported (link without -z pack-relative-relocs)";
    case DT_RPATH:
    case DT_RUNPATH: return "search paths are not supported (the loader uses the module directory)";
    case DT_PREINIT_ARRAY:
    case DT_PREINIT_ARRAYSZ: return "pre-initialisers are for executables";
    case DT_SYMBOLIC: return "DT_SYMBOLIC is not supported";
    case DT_TLSDESC_PLT:
    case DT_TLSDESC_GOT: return "thread-local storage is not supported";
    case DT_AUXILIARY:
    case DT_FILTER: return "filter objects are not supported";
    }
    return nullptr;
}

} // namespace

Result<void> ModuleImage::parse_dynamic_section(Diagnostic& diagnostic)
{
    Phdr header = program_header(m_dynamic_phdr);
    uint64_t offset;
    if (!translate(header.p_vaddr, header.p_filesz, offset) || offset != header.p_offset)
        return reject(diagnostic,
            "program header %zu (PT_DYNAMIC): p_vaddr 0x%lx + p_filesz 0x%lx (p_offset 0x%lx) is not file data of a "
            "PT_LOAD",
            m_dynamic_phdr, header.p_vaddr, header.p_filesz, header.p_offset);
    m_dynamic_offset = offset;

    // Walk to DT_NULL, never past the segment or the entry limit.
    uint64_t capacity = header.p_filesz / sizeof(Dyn);
    uint64_t limit = min(capacity, uint64_t(kMaxDynamicEntries + 1));
    DynamicValues values;
    size_t count = 0;
    bool terminated = false;
    for (; count < limit; ++count) {
        Dyn entry = dynamic_entry(count);
        if (entry.d_tag == DT_NULL) {
            terminated = true;
            break;
        }
        if (count == kMaxDynamicEntries)
            return reject(diagnostic, "PT_DYNAMIC: more than %zu entries", kMaxDynamicEntries);
        int slot = slot_for_tag(entry.d_tag);
        if (slot >= 0) {
            if (values.present[slot])
                return reject(diagnostic, "dynamic tag %s appears more than once", dynamic_tag_name(entry.d_tag));
            values.present[slot] = true;
            values.value[slot] = entry.d_val;
            continue;
        }
        switch (entry.d_tag) {
        case DT_NEEDED: ++m_needed_count; continue;
        case DT_DEBUG:
        case DT_PLTGOT:
        case DT_BIND_NOW:
            // Nothing to do: the loader binds everything now and has no debugger hook.
            continue;
        }
        if (const char* reason = refused_tag_reason(entry.d_tag))
            return reject(diagnostic, "dynamic tag %s: %s", dynamic_tag_name(entry.d_tag), reason);
        return reject(diagnostic, "dynamic tag %s (0x%lx) is not supported", dynamic_tag_name(entry.d_tag),
            uint64_t(entry.d_tag));
    }
    if (!terminated)
        return reject(diagnostic, "PT_DYNAMIC: no DT_NULL within its 0x%lx bytes", header.p_filesz);
    m_dynamic_count = count;

    using V = DynamicValues;
    if (values.has(V::kFlags)) {
        uint64_t flags = values.get(V::kFlags);
        if (flags & DF_TEXTREL)
            return reject(diagnostic, "dynamic tag DT_FLAGS: DF_TEXTREL: text relocations are not allowed");
        if (flags & DF_STATIC_TLS)
            return reject(diagnostic, "dynamic tag DT_FLAGS: DF_STATIC_TLS: thread-local storage is not supported");
    }

    // String table: every name the loader reads is checked against it.
    if (values.has(V::kStrtab) != values.has(V::kStrsz))
        return reject(diagnostic, "dynamic tags DT_STRTAB and DT_STRSZ must appear together");
    if (values.has(V::kStrtab)) {
        if (!translate(values.get(V::kStrtab), values.get(V::kStrsz), m_strtab_offset))
            return reject(diagnostic, "DT_STRTAB 0x%lx + DT_STRSZ 0x%lx is not file data of a PT_LOAD",
                values.get(V::kStrtab), values.get(V::kStrsz));
        m_strtab_size = values.get(V::kStrsz);
    }
    if (values.has(V::kSoname)) {
        TRY(check_string(values.get(V::kSoname), "DT_SONAME", diagnostic));
        m_has_soname = true;
        m_soname = values.get(V::kSoname);
    }
    for (size_t i = 0; i < m_dynamic_count; ++i) {
        Dyn entry = dynamic_entry(i);
        if (entry.d_tag != DT_NEEDED)
            continue;
        TRY(check_string(entry.d_val, "DT_NEEDED", diagnostic));
        const char* needed = string_at(entry.d_val);
        if (!is_dependency_name(needed))
            return reject(diagnostic,
                "DT_NEEDED '%.64s': a dependency is libkeel.so or a module name (1 to 55 characters of "
                "[a-z0-9_], optionally with .kmod)",
                is_printable(needed) ? needed : "(non-printable)");
    }

    // Symbol table: its size comes from the hash tables (parse_hash_tables).
    if (values.has(V::kSyment) && values.get(V::kSyment) != sizeof(Sym))
        return reject(diagnostic, "DT_SYMENT %lu: expected 24", values.get(V::kSyment));
    if (values.has(V::kSymtab) && !values.has(V::kStrtab))
        return reject(diagnostic, "DT_SYMTAB without DT_STRTAB: symbol names cannot be read");
    if (values.has(V::kSymtab) && !values.has(V::kGnuHash) && !values.has(V::kHash))
        return reject(diagnostic, "DT_SYMTAB without DT_GNU_HASH or DT_HASH: the symbol count is unknown");
    if (!values.has(V::kSymtab) && (values.has(V::kGnuHash) || values.has(V::kHash) || values.has(V::kVersym)))
        return reject(diagnostic, "DT_GNU_HASH, DT_HASH or DT_VERSYM without DT_SYMTAB");
    if (values.has(V::kSymtab) && !translate(values.get(V::kSymtab), 0, m_symtab_offset))
        return reject(diagnostic, "DT_SYMTAB 0x%lx is not file data of a PT_LOAD", values.get(V::kSymtab));
    // The hash tables' sizes depend on their contents; record where they start.
    if (values.has(V::kGnuHash)) {
        if (!translate(values.get(V::kGnuHash), 16, m_gnu_hash_offset))
            return reject(diagnostic, "DT_GNU_HASH 0x%lx is not file data of a PT_LOAD", values.get(V::kGnuHash));
        m_has_gnu_hash = true;
    }
    if (values.has(V::kHash)) {
        if (!translate(values.get(V::kHash), 8, m_hash_offset))
            return reject(diagnostic, "DT_HASH 0x%lx is not file data of a PT_LOAD", values.get(V::kHash));
        m_has_hash = true;
    }

    // Versions: sizes come from the counts, checked entry by entry later.
    if (values.has(V::kVersym)) {
        if (!translate(values.get(V::kVersym), 0, m_versym_offset))
            return reject(diagnostic, "DT_VERSYM 0x%lx is not file data of a PT_LOAD", values.get(V::kVersym));
        m_has_versym = true;
    }
    if (values.has(V::kVerdef) != values.has(V::kVerdefnum))
        return reject(diagnostic, "dynamic tags DT_VERDEF and DT_VERDEFNUM must appear together");
    if (values.has(V::kVerneed) != values.has(V::kVerneednum))
        return reject(diagnostic, "dynamic tags DT_VERNEED and DT_VERNEEDNUM must appear together");
    if ((values.has(V::kVerdef) || values.has(V::kVerneed)) && !values.has(V::kStrtab))
        return reject(diagnostic, "DT_VERDEF or DT_VERNEED without DT_STRTAB: version names cannot be read");
    if (values.has(V::kVerdef)) {
        if (values.get(V::kVerdefnum) > kMaxVersions)
            return reject(diagnostic, "DT_VERDEFNUM %lu exceeds the limit of %u versions", values.get(V::kVerdefnum),
                kMaxVersions);
        if (!translate(values.get(V::kVerdef), 0, m_verdef_offset))
            return reject(diagnostic, "DT_VERDEF 0x%lx is not file data of a PT_LOAD", values.get(V::kVerdef));
        m_verdef_count = uint32_t(values.get(V::kVerdefnum));
    }
    if (values.has(V::kVerneed)) {
        if (values.get(V::kVerneednum) > kMaxVersions)
            return reject(diagnostic, "DT_VERNEEDNUM %lu exceeds the limit of %u versions", values.get(V::kVerneednum),
                kMaxVersions);
        if (!translate(values.get(V::kVerneed), 0, m_verneed_offset))
            return reject(diagnostic, "DT_VERNEED 0x%lx is not file data of a PT_LOAD", values.get(V::kVerneed));
        m_verneed_count = uint32_t(values.get(V::kVerneednum));
    }

    // Relocation tables.
    uint64_t rela_size = 0;
    if (values.has(V::kRela) || values.has(V::kRelasz)) {
        if (!values.has(V::kRela) || !values.has(V::kRelasz))
            return reject(diagnostic, "dynamic tags DT_RELA and DT_RELASZ must appear together");
        if (!values.has(V::kRelaent) || values.get(V::kRelaent) != sizeof(Rela))
            return reject(diagnostic, "DT_RELAENT %lu: expected 24", values.get(V::kRelaent));
        rela_size = values.get(V::kRelasz);
        if (rela_size % sizeof(Rela) != 0)
            return reject(diagnostic, "DT_RELASZ 0x%lx is not a multiple of 24", rela_size);
        if (!translate(values.get(V::kRela), rela_size, m_rela_offset))
            return reject(diagnostic, "DT_RELA 0x%lx + DT_RELASZ 0x%lx is not file data of a PT_LOAD",
                values.get(V::kRela), rela_size);
        m_rela_count = rela_size / sizeof(Rela);
    }
    if (values.has(V::kRelacount) && values.get(V::kRelacount) > m_rela_count)
        return reject(
            diagnostic, "DT_RELACOUNT %lu exceeds the %lu entries of DT_RELA", values.get(V::kRelacount), m_rela_count);
    if (values.has(V::kJmprel) || values.has(V::kPltrelsz)) {
        if (!values.has(V::kJmprel) || !values.has(V::kPltrelsz))
            return reject(diagnostic, "dynamic tags DT_JMPREL and DT_PLTRELSZ must appear together");
        if (!values.has(V::kPltrel) || values.get(V::kPltrel) != uint64_t(DT_RELA))
            return reject(diagnostic, "DT_PLTREL %lu: PLT relocations must be DT_RELA (7)", values.get(V::kPltrel));
        uint64_t size = values.get(V::kPltrelsz);
        if (size % sizeof(Rela) != 0)
            return reject(diagnostic, "DT_PLTRELSZ 0x%lx is not a multiple of 24", size);
        if (!translate(values.get(V::kJmprel), size, m_jmprel_offset))
            return reject(diagnostic, "DT_JMPREL 0x%lx + DT_PLTRELSZ 0x%lx is not file data of a PT_LOAD",
                values.get(V::kJmprel), size);
        m_jmprel_count = size / sizeof(Rela);
        // Some linkers count the PLT relocations in DT_RELASZ too; apply them once.
        uint64_t jmprel_end = m_jmprel_offset + size;
        uint64_t rela_end = m_rela_offset + rela_size;
        if (m_rela_count > 0 && m_jmprel_offset < rela_end && jmprel_end > m_rela_offset) {
            if (m_jmprel_offset < m_rela_offset || jmprel_end > rela_end)
                return reject(diagnostic, "DT_JMPREL 0x%lx + 0x%lx partly overlaps DT_RELA 0x%lx + 0x%lx",
                    values.get(V::kJmprel), size, values.get(V::kRela), rela_size);
            m_jmprel_count = 0;
        }
    }
    if (relocation_count() > kMaxRelocations)
        return reject(diagnostic, "%lu relocations exceed the limit of %lu", relocation_count(), kMaxRelocations);

    // Constructor and destructor arrays: bounds checked in parse_arrays().
    if (values.has(V::kInitArray) != values.has(V::kInitArraysz))
        return reject(diagnostic, "dynamic tags DT_INIT_ARRAY and DT_INIT_ARRAYSZ must appear together");
    if (values.has(V::kFiniArray) != values.has(V::kFiniArraysz))
        return reject(diagnostic, "dynamic tags DT_FINI_ARRAY and DT_FINI_ARRAYSZ must appear together");
    if (values.get(V::kInitArraysz) % 8 != 0)
        return reject(diagnostic, "DT_INIT_ARRAYSZ 0x%lx is not a multiple of 8", values.get(V::kInitArraysz));
    if (values.get(V::kFiniArraysz) % 8 != 0)
        return reject(diagnostic, "DT_FINI_ARRAYSZ 0x%lx is not a multiple of 8", values.get(V::kFiniArraysz));
    m_init_array = { values.get(V::kInitArray), values.get(V::kInitArraysz) / 8 };
    m_fini_array = { values.get(V::kFiniArray), values.get(V::kFiniArraysz) / 8 };
    return {};
}

bool ModuleImage::valid_string(uint64_t offset) const
{
    return offset < m_strtab_size
        && strnlen(reinterpret_cast<const char*>(m_file + m_strtab_offset + offset), m_strtab_size - offset)
        < m_strtab_size - offset;
}

Result<void> ModuleImage::check_string(uint64_t offset, const char* what, Diagnostic& diagnostic) const
{
    if (offset >= m_strtab_size)
        return reject(
            diagnostic, "%s: name offset 0x%lx is outside DT_STRTAB (DT_STRSZ 0x%lx)", what, offset, m_strtab_size);
    const char* text = reinterpret_cast<const char*>(m_file + m_strtab_offset + offset);
    if (strnlen(text, m_strtab_size - offset) == m_strtab_size - offset)
        return reject(diagnostic, "%s: name at offset 0x%lx is not NUL-terminated within DT_STRTAB", what, offset);
    return {};
}

const char* ModuleImage::string_at(uint64_t offset) const
{
    return reinterpret_cast<const char*>(m_file + m_strtab_offset + offset);
}

ModuleImage::LoadSegment ModuleImage::load_segment(size_t index) const { return m_load[index]; }

const ModuleImage::LoadSegment* ModuleImage::find_segment(uint64_t vaddr, uint64_t size) const
{
    uint64_t end;
    if (add_overflows(vaddr, size, &end))
        return nullptr;
    for (size_t i = 0; i < m_load_count; ++i) {
        if (vaddr >= m_load[i].vaddr && end <= m_load[i].vaddr + m_load[i].memsz)
            return &m_load[i];
    }
    return nullptr;
}

bool ModuleImage::is_executable(uint64_t vaddr) const
{
    const LoadSegment* segment = find_segment(vaddr, 1);
    return segment && segment->executable();
}

const char* ModuleImage::soname() const { return m_has_soname ? string_at(m_soname) : nullptr; }

} // namespace keel
