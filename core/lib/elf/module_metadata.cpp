// ModuleImage: what the module says about itself rather than how it links:
// the `Keel` modinfo notes, the section headers and the `.keel_kabi`
// import hashes (docs/module-format.md describes both formats).
#include "lib/devmatch/device_table.h"
#include "lib/elf/module_image.h"

#include "lib/base/name.h"
#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

using namespace elf;

namespace {

constexpr char kNoteName[] = "Keel"; // n_namesz 5, with its NUL
constexpr size_t kMaxNameLength = ModuleImage::kMaxNameLength;
constexpr char kParamPrefix[] = "keel_param_";

// One note of a PT_NOTE segment [start, end). Offsets are file offsets.
struct NoteView {
    Nhdr header;
    uint64_t name;
    uint64_t desc;
    uint64_t next;
};

// Notes are padded to the segment's alignment: 4 bytes, or 8 for the
// 8-byte-aligned notes some toolchains emit (.note.gnu.property).
uint64_t note_alignment(uint64_t p_align) { return p_align == 8 ? 8 : 4; }

bool valid_note_alignment(uint64_t p_align) { return p_align <= 1 || p_align == 4 || p_align == 8; }

bool decode_note(
    const uint8_t* file, uint64_t start, uint64_t end, uint64_t alignment, uint64_t position, NoteView& out)
{
    if (end - position < sizeof(Nhdr))
        return false;
    __builtin_memcpy(&out.header, file + position, sizeof(Nhdr));
    // 32-bit sizes on top of an in-file position cannot overflow 64 bits.
    out.name = position + sizeof(Nhdr);
    out.desc = out.name + align_up(uint64_t(out.header.n_namesz), alignment);
    uint64_t desc_end = out.desc + out.header.n_descsz;
    if (desc_end > end)
        return false;
    out.next = min(start + align_up(desc_end - start, alignment), end);
    return true;
}

bool is_modinfo(const uint8_t* file, const NoteView& note)
{
    return note.header.n_type == ModuleImage::kModinfoNoteType && note.header.n_namesz == sizeof(kNoteName)
        && memcmp(file + note.name, kNoteName, sizeof(kNoteName)) == 0;
}

// Length of the [a-z0-9_] run at `text` that ends at `terminator`, or 0
// if the run is empty, longer than kMaxNameLength or ends elsewhere.
size_t name_length(const char* text, char terminator)
{
    size_t length = 0;
    while (is_name_character(text[length]) && length <= kMaxNameLength)
        ++length;
    if (length == 0 || length > kMaxNameLength || text[length] != terminator)
        return 0;
    return length;
}

bool key_is(const ModuleImage::ModinfoEntry& entry, const char* key)
{
    return entry.key_length == strlen(key) && memcmp(entry.key, key, entry.key_length) == 0;
}

} // namespace

Result<void> ModuleImage::parse_notes(Diagnostic& diagnostic)
{
    size_t modinfo_count = 0;
    for (size_t i = 0; i < m_phnum; ++i) {
        Phdr header = program_header(i);
        if (header.p_type != PT_NOTE)
            continue;
        if (!valid_note_alignment(header.p_align))
            return reject(diagnostic, "program header %zu (PT_NOTE): p_align 0x%lx: notes are aligned to 4 or 8", i,
                header.p_align);
        if (!file_range(header.p_offset, header.p_filesz))
            return reject(diagnostic,
                "program header %zu (PT_NOTE): p_offset 0x%lx + p_filesz 0x%lx exceeds file size 0x%zx", i,
                header.p_offset, header.p_filesz, m_size);
        uint64_t end = header.p_offset + header.p_filesz;
        uint64_t alignment = note_alignment(header.p_align);
        for (uint64_t position = header.p_offset; position < end;) {
            NoteView note;
            if (!decode_note(m_file, header.p_offset, end, alignment, position, note))
                return reject(diagnostic,
                    "program header %zu (PT_NOTE): note at offset 0x%lx does not fit in the segment (n_namesz 0x%x, "
                    "n_descsz 0x%x)",
                    i, position, end - position >= sizeof(Nhdr) ? read<Nhdr>(position).n_namesz : 0,
                    end - position >= sizeof(Nhdr) ? read<Nhdr>(position).n_descsz : 0);
            if (is_modinfo(m_file, note)) {
                if (++modinfo_count > kMaxModinfoEntries)
                    return reject(diagnostic, "modinfo: more than %zu entries", kMaxModinfoEntries);
                const char* text = reinterpret_cast<const char*>(m_file + note.desc);
                size_t length = strnlen(text, note.header.n_descsz);
                if (length == note.header.n_descsz)
                    return reject(diagnostic,
                        "modinfo note at offset 0x%lx: n_descsz %u: the string is not NUL-terminated", position,
                        note.header.n_descsz);
                size_t key_length = 0;
                while (key_length < length && is_name_character(text[key_length]))
                    ++key_length;
                if (key_length == 0 || text[key_length] != '=')
                    return reject(diagnostic,
                        "modinfo note at offset 0x%lx: '%s' is not key=value with a [a-z0-9_] key", position, text);
                // Recorded for parse_modinfo and modinfo(key), which then
                // need not walk the notes again.
                if (modinfo_count <= kCachedModinfo && key_length <= 255) {
                    m_modinfo_text[modinfo_count - 1] = text;
                    m_modinfo_key_length[modinfo_count - 1] = uint8_t(key_length);
                } else {
                    m_modinfo_uncached = true;
                }
            }
            position = note.next;
        }
    }
    m_modinfo_count = m_modinfo_uncached ? 0 : modinfo_count;
    return {};
}

bool ModuleImage::next_modinfo(NoteCursor& cursor, ModinfoEntry& entry) const
{
    for (;;) {
        if (cursor.offset >= cursor.end) {
            for (; cursor.phdr < m_phnum && program_header(cursor.phdr).p_type != PT_NOTE; ++cursor.phdr) { }
            if (cursor.phdr == m_phnum)
                return false;
            Phdr header = program_header(cursor.phdr++);
            cursor.offset = header.p_offset;
            cursor.end = header.p_offset + header.p_filesz;
            cursor.start = header.p_offset;
            cursor.alignment = note_alignment(header.p_align);
            continue;
        }
        NoteView note;
        if (!decode_note(m_file, cursor.start, cursor.end, cursor.alignment, cursor.offset, note)) {
            cursor.offset = cursor.end; // unreachable: parse_notes() walked the same notes
            continue;
        }
        cursor.offset = note.next;
        if (!is_modinfo(m_file, note))
            continue;
        const char* text = reinterpret_cast<const char*>(m_file + note.desc);
        const char* equals = strchr(text, '=');
        entry = { text, size_t(equals - text), equals + 1 };
        return true;
    }
}

const char* ModuleImage::modinfo(const char* key) const
{
    if (m_modinfo_count > 0 && !m_modinfo_uncached) {
        size_t key_length = strlen(key);
        for (size_t i = 0; i < m_modinfo_count; ++i) {
            if (m_modinfo_key_length[i] == key_length && memcmp(m_modinfo_text[i], key, key_length) == 0)
                return m_modinfo_text[i] + key_length + 1;
        }
        return nullptr;
    }
    NoteCursor cursor;
    ModinfoEntry entry;
    while (next_modinfo(cursor, entry)) {
        if (key_is(entry, key))
            return entry.value;
    }
    return nullptr;
}

Result<void> ModuleImage::parse_modinfo(Diagnostic& diagnostic)
{
    size_t names = 0;
    size_t licenses = 0;
    NoteCursor cursor;
    ModinfoEntry entry;
    size_t cached = 0;
    auto next = [&] {
        if (m_modinfo_uncached)
            return next_modinfo(cursor, entry);
        if (cached == m_modinfo_count)
            return false;
        const char* text = m_modinfo_text[cached];
        size_t key_length = m_modinfo_key_length[cached++];
        entry = { text, key_length, text + key_length + 1 };
        return true;
    };
    while (next()) {
        if (key_is(entry, "name")) {
            if (++names > 1)
                return reject(diagnostic, "modinfo: name= appears more than once");
            if (name_length(entry.value, '\0') == 0)
                return reject(
                    diagnostic, "modinfo name='%s': a module name is 1 to 55 characters of [a-z0-9_]", entry.value);
            m_name = entry.value;
        } else if (key_is(entry, "license")) {
            ++licenses;
        } else if (key_is(entry, "modinfo_version")) {
            if (strcmp(entry.value, "1") != 0)
                return reject(diagnostic, "modinfo modinfo_version='%s': only version 1 is supported", entry.value);
        } else if (key_is(entry, "intree")) {
            if (strcmp(entry.value, "Y") != 0)
                return reject(diagnostic, "modinfo intree='%s': expected Y", entry.value);
            m_in_tree = true;
        } else if (key_is(entry, "parm")) {
            TRY(check_parameter(entry.value, diagnostic));
        }
        // Other keys (version, author, description, future ones) are free text.
    }
    if (names == 0)
        return reject(diagnostic, "modinfo: no name= entry (a Keel note of type 1 \"name=...\" is required)");
    if (licenses == 0)
        return reject(diagnostic, "modinfo: no license= entry (required)");
    return {};
}

// "NAME:TYPE:DESCRIPTION", stored in the exported data symbol keel_param_NAME.
Result<void> ModuleImage::check_parameter(const char* value, Diagnostic& diagnostic) const
{
    size_t length = name_length(value, ':');
    if (length == 0)
        return reject(diagnostic, "modinfo parm='%s': expected NAME:TYPE:DESCRIPTION with a [a-z0-9_] NAME", value);
    const char* type = value + length + 1;
    uint64_t size = 0; // required st_size; 0 = at least 1 (string capacity)
    if (strncmp(type, "bool:", 5) == 0)
        size = 1;
    else if (strncmp(type, "int:", 4) == 0 || strncmp(type, "uint:", 5) == 0)
        size = 8;
    else if (strncmp(type, "string:", 7) != 0)
        return reject(diagnostic, "modinfo parm='%s': TYPE must be bool, int, uint or string", value);

    char symbol_name[sizeof(kParamPrefix) + kMaxNameLength];
    memcpy(symbol_name, kParamPrefix, sizeof(kParamPrefix) - 1);
    memcpy(symbol_name + sizeof(kParamPrefix) - 1, value, length);
    symbol_name[sizeof(kParamPrefix) - 1 + length] = '\0';
    auto index = find_defined_symbol(symbol_name);
    if (index.is_error())
        return reject(diagnostic, "modinfo parm='%s': the module exports no symbol %s", value, symbol_name);
    // The raw entry: its version (which symbol() would look up) is not needed here.
    Sym storage = raw_symbol(index.value());
    const LoadSegment* segment = find_segment(storage.st_value, storage.st_size);
    if (symbol_type(storage.st_info) != STT_OBJECT || !segment || !segment->writable())
        return reject(
            diagnostic, "modinfo parm='%s': %s is not a data object in a writable segment", value, symbol_name);
    if (size ? storage.st_size != size : storage.st_size == 0)
        return reject(diagnostic, "modinfo parm='%s': %s has st_size %lu, expected %s", value, symbol_name,
            storage.st_size,
            size == 1       ? "1"
                : size == 8 ? "8"
                            : "at least 1");
    return {};
}

namespace {

constexpr char kKeelSectionPrefix[] = ".keel_";

constexpr bool has_keel_prefix(const char* name)
{
    for (size_t i = 0; i + 1 < sizeof(kKeelSectionPrefix); i++) {
        if (name[i] != kKeelSectionPrefix[i])
            return false;
    }
    return true;
}
static_assert(has_keel_prefix(KEEL_DEVICE_TABLE_SECTION), "parse_section_headers looks at .keel_* sections only");

} // namespace

Result<void> ModuleImage::parse_section_headers(Diagnostic& diagnostic)
{
    Ehdr header = read<Ehdr>(0);
    if (header.e_shoff == 0) {
        if (header.e_shnum != 0)
            return reject(diagnostic, "e_shnum %u with e_shoff 0", header.e_shnum);
        return {};
    }
    if (header.e_shentsize != sizeof(Shdr))
        return reject(diagnostic, "e_shentsize %u: expected 64", header.e_shentsize);
    if (header.e_shnum == 0)
        return reject(
            diagnostic, "e_shnum 0 with e_shoff 0x%lx: extended section numbering is not supported", header.e_shoff);
    if (!file_range(header.e_shoff, uint64_t(header.e_shnum) * sizeof(Shdr)))
        return reject(diagnostic, "e_shoff 0x%lx + e_shnum %u * 64 exceeds file size 0x%zx", header.e_shoff,
            header.e_shnum, m_size);
    auto section = [&](uint32_t index) { return read<Shdr>(header.e_shoff + uint64_t(index) * sizeof(Shdr)); };

    // Without section names nothing can be looked up by name; that is allowed.
    uint64_t names_offset = 0;
    uint64_t names_size = 0;
    if (header.e_shstrndx != SHN_UNDEF) {
        if (header.e_shstrndx >= header.e_shnum)
            return reject(diagnostic, "e_shstrndx %u is not below e_shnum %u", header.e_shstrndx, header.e_shnum);
        Shdr names = section(header.e_shstrndx);
        if (names.sh_type != SHT_STRTAB || names.sh_size == 0 || !file_range(names.sh_offset, names.sh_size))
            return reject(diagnostic,
                "section %u (e_shstrndx): sh_type %u, sh_offset 0x%lx + sh_size 0x%lx is not a string table in the "
                "file",
                header.e_shstrndx, names.sh_type, names.sh_offset, names.sh_size);
        // A final NUL means every name starting inside the table ends inside it.
        if (m_file[names.sh_offset + names.sh_size - 1] != '\0')
            return reject(
                diagnostic, "section %u (e_shstrndx): the string table does not end with a NUL", header.e_shstrndx);
        names_offset = names.sh_offset;
        names_size = names.sh_size;
    }

    for (uint32_t i = 0; i < header.e_shnum; ++i) {
        Shdr entry = section(i);
        const char* name = "";
        if (names_size > 0) {
            if (entry.sh_name >= names_size)
                return reject(diagnostic, "section %u: sh_name 0x%x is outside the section name table (size 0x%lx)", i,
                    entry.sh_name, names_size);
            name = reinterpret_cast<const char*>(m_file + names_offset + entry.sh_name);
        }
        if (entry.sh_type != SHT_NOBITS && entry.sh_type != SHT_NULL && !file_range(entry.sh_offset, entry.sh_size))
            return reject(diagnostic, "section %u (%s): sh_offset 0x%lx + sh_size 0x%lx exceeds file size 0x%zx", i,
                name, entry.sh_offset, entry.sh_size, m_size);
        // Only `.keel_*` sections are read here: one test for every other
        // (most of a module's sections), four comparisons for those.
        if (strncmp(name, kKeelSectionPrefix, sizeof(kKeelSectionPrefix) - 1) != 0)
            continue;
        // Each is read from the file, and only a PROGBITS section has had
        // its bytes checked to lie in it above (SHT_NULL's are not).
        if (entry.sh_type != SHT_PROGBITS)
            return reject(diagnostic, "section %u (%s): sh_type %u: expected PROGBITS data", i, name, entry.sh_type);
        if (strcmp(name, ".keel_kabi") == 0)
            TRY(parse_hash_section(diagnostic, entry, i, ".keel_kabi", m_kabi));
        else if (strcmp(name, ".keel_exports") == 0)
            TRY(parse_hash_section(diagnostic, entry, i, ".keel_exports", m_exports));
        else if (strcmp(name, ".keel_decls") == 0)
            TRY(parse_declarations(diagnostic, entry, i));
        else if (strcmp(name, KEEL_DEVICE_TABLE_SECTION) == 0)
            TRY(parse_device_table(diagnostic, entry, i));
    }
    return {};
}

// Driver match tables: read without running the module (the loader's
// autoload index), so they are checked as carefully as everything else.
Result<void> ModuleImage::parse_device_table(Diagnostic& diagnostic, const Shdr& section, uint32_t index)
{
    if (m_device_table_size)
        return reject(diagnostic, "section %u (%s): a second device table section", index, KEEL_DEVICE_TABLE_SECTION);
    if (section.sh_size == 0)
        return reject(diagnostic, "section %u (%s): sh_size 0: expected data", index, KEEL_DEVICE_TABLE_SECTION);
    Diagnostic problem;
    auto tables = devmatch::check_device_table_section(m_file + section.sh_offset, size_t(section.sh_size), &problem);
    if (tables.is_error())
        return reject(diagnostic, "section %u (%s): %s", index, KEEL_DEVICE_TABLE_SECTION, problem.message);
    m_device_table_offset = section.sh_offset;
    m_device_table_size = size_t(section.sh_size);
    return {};
}

Result<void> ModuleImage::parse_hash_section(
    Diagnostic& diagnostic, const Shdr& section, uint32_t index, const char* name, HashSection& out) const
{
    if (out.present)
        return reject(diagnostic, "section %u (%s): a second %s section", index, name, name);
    if (section.sh_flags & SHF_ALLOC)
        return reject(diagnostic, "section %u (%s): sh_flags 0x%lx: the section must not be allocated", index, name,
            section.sh_flags);
    if (section.sh_size < 8)
        return reject(diagnostic, "section %u (%s): sh_size 0x%lx is smaller than its 8-byte header", index, name,
            section.sh_size);
    uint32_t version = read<uint32_t>(section.sh_offset);
    uint32_t count = read<uint32_t>(section.sh_offset + 4);
    if (version != kKabiVersion)
        return reject(diagnostic, "section %u (%s): version %u, expected %u", index, name, version, kKabiVersion);
    if (count > kMaxKabiEntries)
        return reject(
            diagnostic, "section %u (%s): count %u exceeds the limit of %zu", index, name, count, kMaxKabiEntries);
    uint64_t entries_end = 8 + uint64_t(count) * 16;
    if (entries_end > section.sh_size)
        return reject(
            diagnostic, "section %u (%s): count %u entries exceed sh_size 0x%lx", index, name, count, section.sh_size);
    uint64_t strings = section.sh_offset + entries_end;
    uint64_t strings_size = section.sh_size - entries_end;
    if (count > 0 && (strings_size == 0 || m_file[strings + strings_size - 1] != '\0'))
        return reject(diagnostic, "section %u (%s): the string table is empty or does not end with a NUL", index, name);
    for (uint32_t i = 0; i < count; ++i) {
        uint64_t entry = section.sh_offset + 8 + uint64_t(i) * 16;
        uint32_t name_offset = read<uint32_t>(entry + 8);
        uint32_t node = read<uint32_t>(entry + 12);
        if (name_offset >= strings_size || node >= strings_size)
            return reject(diagnostic,
                "section %u (%s): entry %u: name_offset 0x%x or node_offset 0x%x is outside the strings (size "
                "0x%lx)",
                index, name, i, name_offset, node, strings_size);
        if (m_file[strings + name_offset] == '\0')
            return reject(diagnostic, "section %u (%s): entry %u has an empty name", index, name, i);
    }
    out.present = true;
    out.offset = section.sh_offset + 8;
    out.count = count;
    out.strings = strings;
    out.strings_size = strings_size;
    return {};
}

Result<void> ModuleImage::parse_declarations(Diagnostic& diagnostic, const Shdr& section, uint32_t index)
{
    if (m_has_decls)
        return reject(diagnostic, "section %u (.keel_decls): a second .keel_decls section", index);
    if (section.sh_flags & SHF_ALLOC)
        return reject(diagnostic, "section %u (.keel_decls): sh_flags 0x%lx: the section must not be allocated", index,
            section.sh_flags);
    if (section.sh_size < 8)
        return reject(diagnostic, "section %u (.keel_decls): sh_size 0x%lx is smaller than its 8-byte header", index,
            section.sh_size);
    uint32_t version = read<uint32_t>(section.sh_offset);
    uint32_t count = read<uint32_t>(section.sh_offset + 4);
    if (version != 1)
        return reject(diagnostic, "section %u (.keel_decls): version %u, expected 1", index, version);
    if (count > kMaxKabiEntries)
        return reject(
            diagnostic, "section %u (.keel_decls): count %u exceeds the limit of %zu", index, count, kMaxKabiEntries);
    uint64_t entries_end = 8 + uint64_t(count) * 8;
    if (entries_end > section.sh_size)
        return reject(diagnostic, "section %u (.keel_decls): count %u entries exceed sh_size 0x%lx", index, count,
            section.sh_size);
    uint64_t strings = section.sh_offset + entries_end;
    uint64_t strings_size = section.sh_size - entries_end;
    if (count > 0 && (strings_size == 0 || m_file[strings + strings_size - 1] != '\0'))
        return reject(
            diagnostic, "section %u (.keel_decls): the string table is empty or does not end with a NUL", index);
    for (uint32_t i = 0; i < count; ++i) {
        uint64_t entry = section.sh_offset + 8 + uint64_t(i) * 8;
        uint32_t key = read<uint32_t>(entry);
        uint32_t declaration = read<uint32_t>(entry + 4);
        if (key >= strings_size || declaration >= strings_size)
            return reject(diagnostic,
                "section %u (.keel_decls): entry %u: key 0x%x or declaration 0x%x is outside the strings (size 0x%lx)",
                index, i, key, declaration, strings_size);
    }
    m_has_decls = true;
    m_decls_offset = section.sh_offset + 8;
    m_decls_count = count;
    m_decls_strings = strings;
    m_decls_strings_size = strings_size;
    return {};
}

ModuleImage::KabiEntry ModuleImage::hash_entry(const HashSection& table, size_t index) const
{
    uint64_t entry = table.offset + uint64_t(index) * 16;
    const auto* strings = reinterpret_cast<const char*>(m_file + table.strings);
    return { read<uint64_t>(entry), strings + read<uint32_t>(entry + 8), strings + read<uint32_t>(entry + 12) };
}

bool ModuleImage::find_hash_entry(const HashSection& table, const char* name, const char* node, KabiEntry& out) const
{
    for (size_t i = 0; i < table.count; ++i) {
        KabiEntry entry = hash_entry(table, i);
        if (strcmp(entry.name, name) == 0 && strcmp(entry.node, node ? node : "") == 0) {
            out = entry;
            return true;
        }
    }
    return false;
}

ModuleImage::KabiEntry ModuleImage::kabi_entry(size_t index) const { return hash_entry(m_kabi, index); }

bool ModuleImage::find_kabi_entry(const char* name, const char* node, KabiEntry& out) const
{
    return find_hash_entry(m_kabi, name, node, out);
}

ModuleImage::KabiEntry ModuleImage::export_hash_entry(size_t index) const { return hash_entry(m_exports, index); }

bool ModuleImage::find_export_hash(const char* name, const char* node, KabiEntry& out) const
{
    return find_hash_entry(m_exports, name, node, out);
}

const char* ModuleImage::declaration(const char* name, const char* node) const
{
    const auto* strings = reinterpret_cast<const char*>(m_file + m_decls_strings);
    size_t name_length = strlen(name);
    for (size_t i = 0; i < m_decls_count; ++i) {
        uint64_t entry = m_decls_offset + uint64_t(i) * 8;
        const char* key = strings + read<uint32_t>(entry);
        // key is "name@node"
        if (strncmp(key, name, name_length) == 0 && key[name_length] == '@'
            && strcmp(key + name_length + 1, node ? node : "") == 0)
            return strings + read<uint32_t>(entry + 4);
    }
    return nullptr;
}

} // namespace keel
